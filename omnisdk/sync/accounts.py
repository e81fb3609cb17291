"""Channel accounts: which ones an engine pass covers, whether the engine may talk to one, and
what happens when one loses its authorisation.

The passes that go over several channel accounts at once (catalog plan, apply and import,
reconciliation) work on each account by itself: one that is stopped or fails gets an error in
the report while the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from omnisdk.auth import MemoryTokenStore, TokenStore
from omnisdk.channel import Channel, ChannelInfo
from omnisdk.errors import OmnisdkError, ReauthorisationRequired, UsageError
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
    "reauthorise",
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
    status = row.status if row is not None else AccountStatus.ACTIVE
    if status in STOPPED_STATUSES:
        context.stopped_seen.add(account)
    elif account in context.stopped_seen:
        # Authorised again, maybe by `omnisdk channels reauthorise` in another process: the
        # token it stored replaces the refused one this channel holds in memory.
        context.stopped_seen.discard(account)
        channel = context.channels.peek(account)  # one not open holds no old token
        if channel is not None:
            channel.forget_credentials()
    return status


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
    context.stopped_seen.add(account)
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


async def reauthorise(
    context: SyncContext, account: str, build: Callable[[TokenStore], Channel]
) -> ChannelInfo:
    """See :meth:`Engine.reauthorise`: ``build`` makes the account's channel over a token
    store; it gets an empty one, so the channel starts from the config's credentials."""
    store = context.store
    if await account_status(context, account) is AccountStatus.ARCHIVED:
        raise UsageError(
            f"account {account!r} is archived (retired with `omnisdk channels remove`); "
            "give it a new name in omnisdk.toml to connect the shop again"
        )
    staged = MemoryTokenStore()
    channel = build(staged)
    async with channel:
        try:
            info = await channel.check()
        except BaseException:
            token = await staged.load_token(channel.name, account)
            configured = channel.initial_token()
            if token is not None and (
                configured is None or token.access_token != configured.access_token
            ):
                # The platform issued it (a refresh spent the config's refresh token): keep
                # it, but the account stays stopped, as the check failed.
                await context.run(store.write_token, channel.name, account, token)
                await context.run(store.mark_needs_reauth, account, channel.name)
            raise
        token = await staged.load_token(channel.name, account)
        if token is not None:
            await context.run(store.write_token, channel.name, account, token)
    await context.run(store.ensure_account, account, channel.name)
    await context.run(store.set_account_status, account, AccountStatus.ACTIVE)
    logger.info("%s: authorised again (%s); the engine talks to it again", account, info.name)
    return info
