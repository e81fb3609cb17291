"""The 80-column check: a command's output must read well in a default terminal.

:func:`assert_reads_at` takes what a command printed (rendered by rich at a fixed width) and
the words a reader must find in it (headers, names, figures), and fails when a line is wider
than the terminal or one of the words is not whole on one line (rich split it mid-word, the
``accou nt`` of issue #15). :class:`NarrowCase` is one command and its words; a new command
is covered by adding one to ``CASES`` in ``test_narrow_terminal.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len

WIDTH = 80
"""The width of a default terminal."""


def assert_reads_at(text: str, words: Sequence[str], *, width: int = WIDTH, what: str = "") -> None:
    """Fail when a line of ``text`` is wider than ``width`` cells or a word of ``words`` is
    not whole on one line (missing, or split across lines by wrapping)."""
    label = what or "output"
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not wide, f"{label}: {len(wide)} lines wider than {width}:\n" + "\n".join(wide)
    lines = text.splitlines()
    broken = [word for word in words if not any(word in line for line in lines)]
    assert not broken, f"{label}: not whole on one line: {broken}\n{text}"


@dataclass(frozen=True)
class NarrowCase:
    """One command run at 80 columns: its arguments (after ``-c CONFIG``), the words its
    output must show whole, and an optional step that prepares the world first."""

    args: tuple[str, ...]
    words: tuple[str, ...]
    prepare: Callable[[Any], None] | None = field(default=None, compare=False)
    exit_codes: tuple[int, ...] = (0,)

    @property
    def name(self) -> str:
        """The command line, as the test id."""
        return " ".join(self.args)
