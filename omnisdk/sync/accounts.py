"""The accounts an engine pass covers, and how one that cannot be worked on is reported.

Shared by the passes that go over several channel accounts at once (catalogue plan, apply
and import, reconciliation): each account is worked on by itself, and one that is stopped or
fails gets an error in the report while the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from omnisdk.errors import OmnisdkError, ReauthorisationRequired

if TYPE_CHECKING:
    from omnisdk.sync.engine import Engine

__all__ = ["account_names", "error_text", "note_lost_authorisation", "stopped_reason"]


def account_names(engine: Engine, accounts: Sequence[str] | None) -> list[str]:
    """``accounts`` without repeats, in order; every configured account when None."""
    if accounts is None:
        return [entry.name for entry in engine.config.channels]
    return list(dict.fromkeys(accounts))


async def stopped_reason(engine: Engine, account: str) -> str | None:
    """Why the engine must not talk to ``account`` now (None when it may)."""
    if not await engine.is_stopped(account):
        return None
    status = await engine.account_status(account)
    return f"account {account!r} is {status.value}: the engine does not talk to it"


async def note_lost_authorisation(engine: Engine, account: str, exc: BaseException) -> None:
    """Stop ``account`` when ``exc`` says its authorisation is lost (else do nothing)."""
    if isinstance(exc, ReauthorisationRequired):
        await engine.lost_authorisation(account, exc)


def error_text(exc: BaseException) -> str:
    """What a report says about ``exc``: an omnisdk error's message, else the type's name."""
    return str(exc) if isinstance(exc, OmnisdkError) and str(exc) else type(exc).__name__
