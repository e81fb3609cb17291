"""What the engine's reports share: finding an account's part, rendering as plain text."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Protocol, TypeVar

from rich.console import Console, RenderableType

__all__ = ["by_account", "render_plain"]


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


def render_plain(report: RenderableType, width: int) -> str:
    """``report`` as rich prints it, without colours, ``width`` characters wide."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False).print(report)
    return buffer.getvalue()
