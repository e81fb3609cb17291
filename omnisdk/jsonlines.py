"""JSON Lines for the read paths: bytes split into lines, each line decoded.

Bulk exports (a platform's whole catalog or order book as one JSONL file) are read as a
stream of byte chunks. :class:`LineSplitter` cuts them on ``b"\\n"`` itself (no text
decoding of the whole stream, no per-line iterator step) and :func:`loads` decodes a line.

:func:`loads` uses orjson when it is installed (``pip install 'omnisdk[fast]'``: about
three times faster than :func:`json.loads` on an order's lines) and the standard library
otherwise. A line orjson refuses but :mod:`json` reads (an escaped lone surrogate, ``NaN``),
and one with an integer past 64 bits (which orjson would read as a float), is read by
:mod:`json`, so what a line decodes to never depends on whether orjson is installed; a line
neither reads raises :class:`json.JSONDecodeError`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FAST", "LineSplitter", "loads"]

try:
    import orjson
except ImportError:  # pragma: no cover - the standard library path is tested by monkeypatch
    orjson = None  # type: ignore[assignment]

FAST = orjson is not None
"""Whether lines are decoded by orjson (installed) rather than :mod:`json`."""


_DIGITS_ONLY = bytes(0x39 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"9" * 19
"""19 digits in a row: the shortest integer orjson reads as a float (beyond 64 bits:
-9223372036854775809 and 18446744073709551616 on), where :mod:`json` keeps an exact int."""


def loads(line: bytes | str) -> Any:
    """One JSON document, decoded (orjson's fast path when installed; see the module).

    A line with a run of 19 digits or more (in a number or a string) goes to :mod:`json`:
    orjson reads an integer past 64 bits as an inexact float.
    """
    if orjson is not None:
        raw = line.encode() if isinstance(line, str) else line
        if _LONG_NUMBER in raw.translate(_DIGITS_ONLY):
            return json.loads(line)
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass  # json may still read it (lone surrogates, big ints, NaN) or raise its error
    return json.loads(line)


class LineSplitter:
    """Cut a stream of byte chunks into its non-blank lines.

    Feed each chunk to :meth:`feed`, which returns the lines it completed; a line cut by a
    chunk's end is kept until the next chunk completes it, and :meth:`end` returns the last
    one when the stream ends without a final newline. Lines come without their ``b"\\n"``
    (a ``b"\\r"`` before it stays: JSON reads it as white space); blank lines are dropped.
    """

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # the pieces of a line not complete yet

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines ``chunk`` completes, in order."""
        if b"\n" not in chunk:
            if chunk:
                self._pending.append(chunk)  # joined once, however many chunks a line spans
            return []
        lines = chunk.split(b"\n")
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = b"".join(self._pending)
        last = lines.pop()
        self._pending = [last] if last else []
        return [line for line in lines if line and not line.isspace()]

    def end(self) -> list[bytes]:
        """The line left over when the stream ends without a newline (or nothing)."""
        rest = b"".join(self._pending)
        self._pending = []
        return [rest] if rest and not rest.isspace() else []
