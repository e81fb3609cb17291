"""What the engine's reports share: finding an account's part.

The reports are plain data; the CLI renders them (``omnisdk/cli/report_render.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

__all__ = ["by_account"]


class _PerAccount(Protocol):
    @property
    def account(self) -> str: ...


PartT = TypeVar("PartT", bound=_PerAccount)


def by_account(parts: Iterable[PartT], name: str) -> PartT:
    """The part of a report that is about account ``name``; ``KeyError`` when none is."""
    for part in parts:
        if part.account == name:
            return part
    raise KeyError(name)
