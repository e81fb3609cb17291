"""What a channel account may list of a SKU now, and what it is believed to show.

The allocation hook's answer (given on hand and reserved per location, the account's rule and
the units the channel sold that the engine has not ingested yet) is what an account may list.
What it shows is predicted from its listing state (what was pushed, less the account's own
orders ingested since) unless a figure read from the channel since contradicts it. The pusher
decides every push from these; the stock view, the catalog plan and reconciliation report
them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from omnisdk.allocation import AllocationRequest
from omnisdk.errors import PluginError
from omnisdk.store import Transaction
from omnisdk.store.listings import ListingState
from omnisdk.sync.context import SyncContext

__all__ = [
    "Target",
    "allocate",
    "decide_target",
    "landed_state",
    "listed_since_push",
    "listing_target",
    "needs_read",
    "pending_unseen",
    "predicted_listed",
    "sellable",
]


def predicted_listed(state: ListingState | None) -> int | None:
    """What the channel should show now, from what was pushed and the orders ingested since.

    Units sold unseen at the push were already off the channel: the first of the account's
    orders ingested afterwards are taken to be those. None when nothing was ever pushed.
    """
    if state is None or state.last_pushed is None:
        return None
    return state.last_pushed - max(state.seen_since_push - state.pending_unseen, 0)


def pending_unseen(context: SyncContext, state: ListingState | None, now: datetime) -> int:
    """Units the channel sold that are still not ingested, while ``[engine] unseen_hold`` lasts."""
    if state is None or state.last_pushed is None or state.pending_unseen <= 0:
        return 0
    if state.pushed_at is None or now - state.pushed_at > context.config.engine.unseen_hold:
        return 0
    return max(state.pending_unseen - state.seen_since_push, 0)


def landed_state(state: ListingState) -> ListingState | None:
    """The listing state had its unconfirmed write landed (None when there is none)."""
    if state.inflight_quantity is None:
        return None
    return dataclasses.replace(
        state,
        last_pushed=state.inflight_quantity,
        pending_unseen=state.inflight_pending or 0,
        seen_since_push=state.seen_since_push - (state.inflight_seen or 0),
        pushed_at=state.inflight_at,
    )


def allocate(
    context: SyncContext, account: str, sku: str, unseen: int, session: Transaction | None = None
) -> int:
    """The allocation hook's answer for ``sku`` on ``account`` (never below zero)."""
    levels = context.store.stock_levels(sku, session=session)
    channel = context.channels.get(account)
    channel_type = channel.name if channel is not None else context.account_config(account).type
    request = AllocationRequest(
        sku=sku,
        channel=channel_type,
        account=account,
        on_hand={level.location or "": level.on_hand for level in levels},
        reserved={level.location or "": level.reserved for level in levels},
        unseen=max(unseen, 0),
        rule=context.rule_of(account),
    )
    answer = context.plugins.hook.omnisdk_allocate_stock(request=request)
    if answer is None:
        raise PluginError(f"no omnisdk_allocate_stock implementation answered for {sku}")
    return max(int(answer), 0)


def sellable(context: SyncContext, account: str, sku: str) -> int:
    """What ``account`` may list of ``sku`` now, holding back its pending unseen sales."""
    state = context.store.get_listing(account, sku)
    return allocate(context, account, sku, pending_unseen(context, state, context.now()))


def listed_since_push(state: ListingState | None) -> int | None:
    """The channel's own figure read after the last push, or None when there is none.

    The figure a push records with itself (the channel confirmed what was written) is no
    news; any other read at or after the push is (a coarse clock may give both one instant).
    """
    if state is None or state.last_listed is None or state.listed_at is None:
        return None
    if state.pushed_at is None or state.listed_at > state.pushed_at:
        return state.last_listed
    if state.listed_at == state.pushed_at and state.last_listed != state.last_pushed:
        return state.last_listed
    return None


def needs_read(state: ListingState | None) -> bool:
    """True when the figure to start from must be read from the channel, not predicted.

    That is when nothing was pushed yet, when a write a crashed pusher left unconfirmed may
    or may not have landed, or when a figure read since the push contradicts the prediction
    (the listing was changed on the channel's side, or sold what the engine has not seen).
    """
    predicted = predicted_listed(state)
    if state is None or predicted is None or state.inflight_quantity is not None:
        return True
    fresh = listed_since_push(state)
    return fresh is not None and fresh != predicted


@dataclass(frozen=True)
class Target:
    """What one listing should show now, as the pusher decides it.

    ``quantity`` is the figure; ``current`` what the channel shows (the figure read when one
    was given, else the predicted one; None when unknown) and ``predicted`` what the engine
    expected it to show; ``unseen`` the units held back as sold by the channel but not
    ingested yet; ``seen_accounted`` the account's own ingested units since the last push
    that the figure already takes into account (see ``Store.record_push``).
    """

    quantity: int
    current: int | None
    predicted: int | None
    unseen: int
    seen_accounted: int


def decide_target(
    context: SyncContext,
    account: str,
    sku: str,
    state: ListingState | None,
    listed: int | None,
    now: datetime,
) -> Target:
    """What ``account`` should list of ``sku``, from its listing ``state`` and ``listed``, a
    figure just read from the channel (None: none was read).

    A read figure lower than predicted means the channel sold units whose orders are not
    ingested yet: they are held back, never listed again. A read figure equal to what an
    unconfirmed write would have left means that write landed. Raises what the allocation
    hook raises.
    """
    baseline = state
    if state is not None and listed is not None:
        landed = landed_state(state)
        if landed is not None and predicted_listed(landed) == listed:
            baseline = landed  # a write sent before a crash did land: start from it
    predicted = predicted_listed(baseline)
    extra = max(predicted - listed, 0) if predicted is not None and listed is not None else 0
    unseen = pending_unseen(context, baseline, now) + extra
    return Target(
        quantity=allocate(context, account, sku, unseen),
        current=listed if listed is not None else predicted,
        predicted=predicted,
        unseen=unseen,
        seen_accounted=state.seen_since_push if state is not None else 0,
    )


def listing_target(
    context: SyncContext, account: str, sku: str, listed: int | None
) -> Target | None:
    """What the pusher would set ``sku``'s listing on ``account`` to now, given ``listed``
    (the channel's figure just read; None: unknown); None when no stock is recorded for the
    SKU, so it is never pushed as zero for want of a count. Synchronous (store reads)."""
    store = context.store
    if not store.stock_levels(sku):
        return None
    state = store.get_listing(account, sku)
    return decide_target(context, account, sku, state, listed, context.now())
