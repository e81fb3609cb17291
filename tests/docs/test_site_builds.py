"""The manual builds with no broken links or missing pages (mkdocs --strict): CI runs this."""

import os
import subprocess
import sys
from pathlib import Path

from omnisdk.plugins import Plugins

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for page in ("reference/hooks", "reference/cli", "reference/configuration", "reference/api",
                 "troubleshooting", "guide/accounts", "guide/operations", "channels"):
        assert (tmp_path / page / "index.html").exists(), page
    for name in Plugins().channel_types():
        assert (tmp_path / "channels" / name / "index.html").exists(), name
    api = (tmp_path / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="omnisdk.Engine"' in api and 'id="omnisdk.Money"' in api


def test_no_page_links_to_a_placeholder_host() -> None:
    for path in [ROOT / "mkdocs.yml", ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        assert "example.invalid" not in path.read_text(encoding="utf-8"), path
