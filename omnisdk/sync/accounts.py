"""Channel accounts: which ones an engine pass covers, whether the engine may talk to one, and
what happens when one loses its authorisation.

The passes that go over several channel accounts at once (catalog plan, apply and import,
reconciliation) work on each account by itself: one that is stopped or fails gets an error in
the report while the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from omnisdk.errors import OmnisdkError, ReauthorisationRequired
from omnisdk.store import AccountStatus
from omnisdk.sync.context import SyncContext

__all__ = [
    "STOPPED_STATUSES",
    "account_names",
    "account_status",
    "error_text",
    "is_stopped",
    "lose_authorisation",
    "note_lost_authorisation",
    "stopped_reason",
]

logger = logging.getLogger("omnisdk.sync")

STOPPED_STATUSES = frozenset({AccountStatus.NEEDS_REAUTH, AccountStatus.ARCHIVED})
"""Account statuses the engine does not talk to the channel in."""


def account_names(context: SyncContext, accounts: Sequence[str] | None) -> list[str]:
    """``accounts`` without repeats, in order; every configured account when None."""
    if accounts is None:
        return [entry.name for entry in context.config.channels]
    return list(dict.fromkeys(accounts))


async def account_status(context: SyncContext, account: str) -> AccountStatus:
    """The stored status of ``account`` (``active`` when it is not registered yet)."""
    row = await context.run(context.store.get_account, account)
    return row.status if row is not None else AccountStatus.ACTIVE


async def is_stopped(context: SyncContext, account: str) -> bool:
    """True when the engine must not talk to ``account`` (re-authorisation, archived)."""
    return await account_status(context, account) in STOPPED_STATUSES


async def stopped_reason(context: SyncContext, account: str) -> str | None:
    """Why the engine must not talk to ``account`` now (None when it may)."""
    status = await account_status(context, account)
    if status not in STOPPED_STATUSES:
        return None
    return f"account {account!r} is {status.value}: the engine does not talk to it"


async def lose_authorisation(
    context: SyncContext, account: str, reason: str | BaseException
) -> bool:
    """Stop ``account``: set it ``needs_reauth`` and fire the hook, the first time only.

    Returns True when this call changed the status (and fired
    ``omnisdk_channel_needs_reauthorisation``). Call it wherever a
    :class:`~omnisdk.errors.ReauthorisationRequired` is caught.
    """
    text = str(reason) or type(reason).__name__
    channel_type = context.channel_type(account)
    changed = await context.run(context.store.mark_needs_reauth, account, channel_type)
    if changed:
        logger.warning("%s: authorisation lost, the account is stopped: %s", account, text)
        context.fire(
            "omnisdk_channel_needs_reauthorisation",
            channel=channel_type,
            account=account,
            reason=text,
        )
    return changed


async def note_lost_authorisation(context: SyncContext, account: str, exc: BaseException) -> None:
    """Stop ``account`` when ``exc`` says its authorisation is lost (else do nothing)."""
    if isinstance(exc, ReauthorisationRequired):
        await lose_authorisation(context, account, exc)


def error_text(exc: BaseException) -> str:
    """What a report says about ``exc``: an omnisdk error's message, else the type's name."""
    return str(exc) if isinstance(exc, OmnisdkError) and str(exc) else type(exc).__name__
