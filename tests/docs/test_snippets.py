"""Every ```python block in the README, CONTRIBUTING, docs/ and plugin READMEs runs as a script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from manual_tools import manual

snippets = manual("snippets")

ALL = [snippet for path in snippets.documents() for snippet in snippets.snippets(path)]
SCRIPTS = [snippet for snippet in ALL if snippet.not_a_script is None]


def test_snippets_are_found() -> None:
    names = {snippet.path.name for snippet in SCRIPTS}
    assert "README.md" in names, "the README's snippets went missing from the scan"
    assert len(SCRIPTS) >= 5


def test_a_block_that_is_not_a_script_says_why() -> None:
    for snippet in ALL:
        if snippet.not_a_script is not None:
            assert len(snippet.not_a_script) >= 10, f"{snippet.name}: give a reason"
    assert len(ALL) - len(SCRIPTS) <= len(ALL) // 2, "most snippets must run as they stand"


@pytest.mark.parametrize("snippet", SCRIPTS, ids=[snippet.name for snippet in SCRIPTS])
def test_snippet_runs_as_a_script(snippet: object, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")  # type: ignore[attr-defined]
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNISDK_")}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode == 0, f"{snippet.name} failed:\n{done.stderr[-3000:]}"  # type: ignore[attr-defined]


def test_the_scanner_finds_python_blocks_and_their_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n```python\nprint(1)\n```\n\n```bash\necho no\n```\n\n"
        "<!-- not-a-script: imports a package that does not exist -->\n"
        "```python\nimport nowhere\n```\n\n- item\n\n    ```py\n    print(2)\n    ```\n",
        encoding="utf-8",
    )
    found = snippets.snippets(page)
    assert [(s.line, s.code, s.not_a_script) for s in found] == [
        (3, "print(1)\n", None),
        (12, "import nowhere\n", "imports a package that does not exist"),
        (18, "print(2)\n", None),
    ]
