"""The ```python blocks of README.md, CONTRIBUTING.md, docs/ and the plugin READMEs.

Every block is a script that must run as it stands (tests/docs/test_snippets.py runs each
one in a fresh interpreter). A block that cannot, such as a test class for a plugin that
does not exist, is preceded by a line ``<!-- not-a-script: why -->``; keep those rare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NOT_A_SCRIPT", "Snippet", "documents", "snippets"]

ROOT = Path(__file__).resolve().parents[2]

NOT_A_SCRIPT = re.compile(r"<!--\s*not-a-script:\s*(?P<reason>.*?)\s*-->")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)\s*(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class Snippet:
    """One ```python block: where it is, its code, and why it is not a script (if it is not)."""

    path: Path
    line: int
    code: str
    not_a_script: str | None

    @property
    def name(self) -> str:
        """``file:line``, relative to the repository."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents(root: Path = ROOT) -> list[Path]:
    """Every Markdown file whose snippets are checked."""
    found = [root / "README.md", root / "CONTRIBUTING.md"]
    found += sorted((root / "docs").rglob("*.md"))
    found += sorted(root.glob("plugins/*/README.md"))
    return [path for path in found if path.is_file()]


def snippets(path: Path) -> list[Snippet]:
    """The ```python blocks of one Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        language = opening["info"].strip().split(" ")[0].lower()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            body.append(lines[end][indent:])
            end += 1
        if language in ("python", "py"):
            previous = next((text for text in reversed(lines[:index]) if text.strip()), "")
            marker = NOT_A_SCRIPT.search(previous)
            found.append(Snippet(path, index + 1, "\n".join(body) + "\n",
                                 marker["reason"] if marker else None))
        index = end + 1
    return found
