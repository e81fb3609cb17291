"""Pushing stock: drain the outbox of one channel account, in the platform's batches.

A stock change marks (account, SKU) dirty in the outbox in the same transaction. A pusher
claims due rows under a lease, computes each SKU's figure *now* (so pushes coalesce to the
newest value), writes them in batches of ``limits.max_stock_batch`` with the strongest mode
the channel offers, and completes each row with the generation it saw: a change made during
the push keeps the row for another round. A crash loses nothing: an unfinished row's lease
runs out and another pusher (or the restarted one) takes it.

What the channel may list is the allocation hook's answer for the SKU, given on hand and
reserved per location, the account's rule and the units the channel sold that the engine has
not ingested yet ("unseen"). The engine predicts the channel's figure from its listing state
(what it pushed, less the account's own orders ingested since). A figure read from the channel
after the push (by reconciliation or ``apply``) that disagrees with the prediction wins over it:
the pusher reads the listing again and starts from what it shows, so a listing changed on the
channel's side is set right like any other. A figure read back that is lower than predicted
reveals unseen sales; they are held back for ``[engine] unseen_hold`` from that push, after
which an order that never came is taken not to exist:

compare-and-swap
    ``expected`` is the figure the listing starts from (predicted, or read). A lost swap
    tells the actual figure: the pusher ingests the account's new orders first, then swaps
    again from the actual figure, holding back what is still unseen. A push never overwrites
    a sale it has not accounted for.
delta
    sends ``target - current`` (predicted, or read just now: never a stale figure); unseen
    sales stay subtracted on the channel by themselves.
absolute
    reads the listed figures of the batch first and holds back the unseen units.

Every write is preceded by its intent, recorded on the listing: a pusher that dies mid-write
leaves it, and its successor reads the listing to tell whether the write landed.

Transient failures are retried with exponential back-off; permanent ones are recorded on the
listing (shown by ``status``, queued again by :meth:`Engine.retry_failed_pushes`) and fire
``omnisdk_push_failed``. An account whose authorisation is lost stops; the others go on.
:func:`push_listings` is how the rest of the engine sets a listing it found wrong.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.allocation import AllocationRequest
from omnisdk.channel import Capability, Channel, WriteResult
from omnisdk.errors import ChannelError, OmnisdkError, ReauthorisationRequired
from omnisdk.models import StockPushMode, StockUpdate
from omnisdk.store import OutboxItem, Transaction
from omnisdk.store.listings import ListingState
from omnisdk.sync.reports import by_account
from omnisdk.sync.stock import Fired, in_transaction, mark_dirty

if TYPE_CHECKING:
    from omnisdk.sync.engine import Engine

__all__ = [
    "AccountPushStats",
    "PushOutcome",
    "PushStats",
    "SkuPush",
    "Target",
    "decide_target",
    "listed_since_push",
    "listing_target",
    "needs_read",
    "pending_unseen",
    "predicted_listed",
    "push",
    "push_account",
    "push_listings",
    "retry_failed",
    "sellable",
]

logger = logging.getLogger("omnisdk.sync.pusher")

MAX_BACKOFF = 300.0
"""The longest wait (seconds) before a failed push is tried again."""
CONFLICT_RETRY = 0.2
"""Seconds before a SKU whose compare-and-swaps kept losing is tried again."""
CONFLICT_ATTEMPTS = 3
"""Swaps tried again at once, from the figure the channel reported, after the first is lost."""
PUSH_ROUNDS = 3
"""Passes over every account per :func:`push` call at most (another pass follows a lost swap,
whose ingested orders queue pushes to the other accounts)."""
MAX_ROUNDS = 1000
"""Claims per account per :func:`push` call at most (a SKU changing without pause must not
keep one pass going for ever)."""


# -- results -------------------------------------------------------------------------------


class AccountPushStats(BaseModel):
    """What one push pass did on one account.

    ``claimed`` outbox rows were taken; ``pushed`` figures the channel accepted in
    ``batches`` write calls; ``unchanged`` needed no write (the channel already shows the
    figure); ``conflicts`` compare-and-swaps were lost (the channel had sold something);
    ``retrying`` failed for now (tried again later); ``failed`` failed for good (recorded).
    ``stopped`` is True when the account needs re-authorisation.
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    claimed: int = 0
    pushed: int = 0
    unchanged: int = 0
    conflicts: int = 0
    retrying: int = 0
    failed: int = 0
    batches: int = 0
    stopped: bool = False
    error: str | None = None


class PushStats(BaseModel):
    """What :func:`push` did, per account, with totals."""

    model_config = ConfigDict(extra="forbid")

    accounts: list[AccountPushStats] = Field(default_factory=list)

    @property
    def pushed(self) -> int:
        """Figures the channels accepted."""
        return sum(a.pushed for a in self.accounts)

    @property
    def unchanged(self) -> int:
        """Figures that needed no write."""
        return sum(a.unchanged for a in self.accounts)

    @property
    def conflicts(self) -> int:
        """Lost compare-and-swaps."""
        return sum(a.conflicts for a in self.accounts)

    @property
    def retrying(self) -> int:
        """Pushes that failed for now and will be tried again."""
        return sum(a.retrying for a in self.accounts)

    @property
    def failed(self) -> int:
        """Pushes that failed for good."""
        return sum(a.failed for a in self.accounts)

    def account(self, name: str) -> AccountPushStats:
        """The stats of account ``name``; ``KeyError`` when it was not pushed."""
        return by_account(self.accounts, name)


class PushOutcome(enum.StrEnum):
    """How the push of one SKU ended."""

    PUSHED = "pushed"
    """The channel took the figure."""
    UNCHANGED = "unchanged"
    """Nothing was sent: the channel shows the figure already."""
    RETRYING = "retrying"
    """The push failed for now (or its swaps kept losing); the outbox tries it again later."""
    FAILED = "failed"
    """The push failed for good; the failure is recorded on the listing."""


@dataclass(frozen=True)
class SkuPush:
    """How the push of one SKU to one account ended.

    ``quantity`` is the figure decided (None when it could not be); ``listed`` the channel's
    own figure the last decision started from, read or reported by a lost swap (None when
    it started from the prediction); ``error`` and ``code`` say why a push did not pass.
    """

    sku: str
    outcome: PushOutcome
    quantity: int | None
    listed: int | None
    error: str | None = None
    code: str | None = None


# -- what a channel may list ------------------------------------------------------------------


def predicted_listed(state: ListingState | None) -> int | None:
    """What the channel should show now, from what was pushed and the orders ingested since.

    Units sold unseen at the push were already off the channel: the first of the account's
    orders ingested afterwards are taken to be those. None when nothing was ever pushed.
    """
    if state is None or state.last_pushed is None:
        return None
    return state.last_pushed - max(state.seen_since_push - state.pending_unseen, 0)


def pending_unseen(engine: Engine, state: ListingState | None, now: datetime) -> int:
    """Units the channel sold that are still not ingested, while ``[engine] unseen_hold`` lasts."""
    if state is None or state.last_pushed is None or state.pending_unseen <= 0:
        return 0
    if state.pushed_at is None or now - state.pushed_at > engine.config.engine.unseen_hold:
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
    engine: Engine, account: str, sku: str, unseen: int, session: Transaction | None = None
) -> int:
    """The allocation hook's answer for ``sku`` on ``account`` (never below zero)."""
    levels = engine.store.stock_levels(sku, session=session)
    channel = engine.channels.get(account)
    channel_type = channel.name if channel is not None else engine.account_config(account).type
    request = AllocationRequest(
        sku=sku,
        channel=channel_type,
        account=account,
        on_hand={level.location or "": level.on_hand for level in levels},
        reserved={level.location or "": level.reserved for level in levels},
        unseen=max(unseen, 0),
        rule=engine.rule_of(account),
    )
    answer = engine.plugins.hook.omnisdk_allocate_stock(request=request)
    if answer is None:
        raise OmnisdkError(f"no omnisdk_allocate_stock implementation answered for {sku}")
    return max(int(answer), 0)


def sellable(engine: Engine, account: str, sku: str) -> int:
    """What ``account`` may list of ``sku`` now, holding back its pending unseen sales."""
    state = engine.store.get_listing(account, sku)
    return allocate(engine, account, sku, pending_unseen(engine, state, engine.now()))


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
    engine: Engine,
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
    unseen = pending_unseen(engine, baseline, now) + extra
    return Target(
        quantity=allocate(engine, account, sku, unseen),
        current=listed if listed is not None else predicted,
        predicted=predicted,
        unseen=unseen,
        seen_accounted=state.seen_since_push if state is not None else 0,
    )


def listing_target(engine: Engine, account: str, sku: str, listed: int | None) -> Target | None:
    """What the pusher would set ``sku``'s listing on ``account`` to now, given ``listed``
    (the channel's figure just read; None: unknown); None when no stock is recorded for the
    SKU, so it is never pushed as zero for want of a count. Synchronous (store reads)."""
    store = engine.store
    if not store.stock_levels(sku):
        return None
    state = store.get_listing(account, sku)
    return decide_target(engine, account, sku, state, listed, engine.now())


# -- one pass ---------------------------------------------------------------------------------


@dataclass
class _Item:
    """One claimed SKU on its way to the channel."""

    claim: OutboxItem
    state: ListingState | None = None
    listed: int | None = None
    """A fresh figure from the channel (read back, or a lost swap's actual)."""
    unseen: int = 0
    quantity: int = 0
    seen_accounted: int = 0
    update: StockUpdate | None = None
    problem: str | None = None

    @property
    def sku(self) -> str:
        return self.claim.sku


@dataclass
class _Outcome:
    """How the items of a batch ended, to be recorded in one transaction."""

    done: list[tuple[_Item, int | None]] = field(default_factory=list)
    """(item, listed figure when known): the channel shows what was decided."""
    retry: list[tuple[_Item, str, float]] = field(default_factory=list)
    failed: list[tuple[_Item, str, str | None]] = field(default_factory=list)
    conflicts: list[_Item] = field(default_factory=list)


def _backoff(attempts: int) -> float:
    base: float = min(2.0 ** max(attempts, 0), MAX_BACKOFF)
    return base * (0.5 + random.random() / 2)  # jitter, so failed SKUs do not return together


def _load_states(engine: Engine, account: str, items: Sequence[_Item]) -> None:
    for item in items:
        item.state = engine.store.get_listing(account, item.sku)


def _decide(engine: Engine, account: str, mode: StockPushMode, items: Sequence[_Item]) -> None:
    """Compute each item's figure and the write that sets it (None: nothing to send)."""
    now = engine.now()
    for item in items:
        item.update = None
        item.problem = None
        try:
            target = decide_target(engine, account, item.sku, item.state, item.listed, now)
        except Exception as exc:  # an app's allocation hook must not stop the others
            item.problem = f"allocation failed: {type(exc).__name__}: {exc}"
            continue
        item.quantity = target.quantity
        item.unseen = target.unseen
        item.seen_accounted = target.seen_accounted
        current = target.current
        if current is not None and item.quantity == current:
            continue
        if mode is StockPushMode.COMPARE_AND_SWAP:
            item.update = StockUpdate(sku=item.sku, quantity=item.quantity, expected=current)
        elif mode is StockPushMode.DELTA:
            if current is None:
                item.problem = (
                    "no known listed figure to apply a delta to (the channel cannot "
                    "read stock and nothing was pushed yet)"
                )
                continue
            item.update = StockUpdate(
                sku=item.sku, quantity=item.quantity, delta=item.quantity - current
            )
        else:
            item.update = StockUpdate(sku=item.sku, quantity=item.quantity)


async def _read_listed(engine: Engine, channel: Channel, items: Sequence[_Item]) -> None:
    """Read the channel's figures of ``items`` (summed over its locations); record them."""
    wanted = [item.sku for item in items]
    figures: dict[str, int] = {}
    async for level in channel.stream_stock(wanted):
        figures[level.sku] = figures.get(level.sku, 0) + level.on_hand
    for item in items:
        item.listed = figures.get(item.sku)

    def record() -> None:
        for sku, quantity in sorted(figures.items()):
            engine.store.record_listed(channel.account, sku, quantity)

    await engine.db(record)


async def _write(
    engine: Engine, channel: Channel, items: Sequence[_Item], outcome: _Outcome
) -> int:
    """Write the items' updates in one call; sort the answers into ``outcome``.

    The intent is recorded first, so a crash during the call can be recognised later.
    Returns the number of write calls made (0 or 1). Raises ReauthorisationRequired.
    """
    sending = [item for item in items if item.update is not None]
    if not sending:
        return 0
    intents = [(i.sku, i.quantity, i.unseen, i.seen_accounted) for i in sending]
    await engine.db(engine.store.record_intent, channel.account, intents)
    updates = [item.update for item in sending if item.update is not None]
    try:
        results = await channel.write_stock_batch(updates)
        if len(results) != len(sending):
            raise OmnisdkError(
                f"{channel.name}: a stock write returned {len(results)} results for "
                f"{len(sending)} items"
            )
    except ReauthorisationRequired:
        raise
    except ChannelError as exc:
        retryable = exc.retryable or not _is_refusal(exc)
        results = [WriteResult.failure(item.sku, exc, retryable=retryable) for item in sending]
        wait = getattr(exc, "retry_after", None)
        if retryable and wait:
            for item, result in zip(sending, results, strict=True):
                outcome.retry.append((item, result.error or "failed", float(wait)))
            return 1
    except Exception as exc:  # a plugin bug must not lose the push: try again later
        logger.exception("%s/%s: stock write failed", channel.name, channel.account)
        results = [
            WriteResult.failure(item.sku, f"{type(exc).__name__}: {exc}", retryable=True)
            for item in sending
        ]
    refused_before = len(outcome.conflicts)
    for item, result in zip(sending, results, strict=True):
        _sort(item, result, outcome)
    refused = outcome.conflicts[refused_before:]
    if refused:
        await engine.db(_withdraw_intents, engine, channel.account, refused)
    return 1


def _withdraw_intents(engine: Engine, account: str, items: Sequence[_Item]) -> None:
    """Lost swaps did not land: their intents must not be mistaken for a landed write."""
    for item in items:
        engine.store.withdraw_intent(account, item.sku, item.state)


def _is_refusal(exc: ChannelError) -> bool:
    """True for errors that say the request itself is wrong (trying again will not help)."""
    from omnisdk.errors import AuthError, BadRequest

    return isinstance(exc, BadRequest) and not isinstance(exc, AuthError)


def _landed_earlier(item: _Item, actual: int) -> bool:
    """True when a lost swap's ``actual`` is the figure wanted because a write an earlier
    pusher left unconfirmed landed (so the channel shows the figure already).

    Without such a write, an actual equal to the figure wanted is a coincidence: the channel
    sold units the engine has not ingested. Taking the figure as pushed would count that sale
    again once its order is ingested, so it goes the way of every lost swap.
    """
    if actual != item.quantity or item.state is None:
        return False
    landed = landed_state(item.state)
    return landed is not None and predicted_listed(landed) == actual


def _sort(item: _Item, result: WriteResult, outcome: _Outcome) -> None:
    if result.ok:
        outcome.done.append(
            (item, item.quantity if item.update and item.update.delta is None else None)
        )
    elif result.actual is not None:
        item.listed = result.actual
        if _landed_earlier(item, result.actual):
            outcome.done.append((item, result.actual))
        else:
            outcome.conflicts.append(item)
    elif result.retryable:
        outcome.retry.append((item, result.error or "failed", _backoff(item.claim.attempts)))
    else:
        outcome.failed.append((item, result.error or "refused", result.code))


def _record(
    engine: Engine, account: str, outcome: _Outcome, unchanged: Sequence[_Item], fired: Fired
) -> None:
    """Write the outcome of a batch in one transaction (listing state + outbox)."""
    store = engine.store
    owner = engine.owner
    now = engine.now()

    def work(session: Transaction) -> None:
        fired.calls.clear()
        finished: list[tuple[_Item, int | None]] = [
            *outcome.done,
            *((item, item.listed) for item in unchanged),
        ]
        for item, listed in finished:
            store.record_push(
                account,
                item.sku,
                quantity=item.quantity,
                pending_unseen=item.unseen,
                seen_accounted=item.seen_accounted,
                listed=listed,
                session=session,
            )
            store.complete(account, item.sku, item.claim.generation, owner=owner, session=session)
        for item, error, wait in outcome.retry:
            store.fail(
                account,
                item.sku,
                error,
                now + timedelta(seconds=wait),
                owner=owner,
                session=session,
            )
            fired.add(
                "omnisdk_push_failed", account=account, key=item.sku, error=error, retryable=True
            )
        for item, error, code in outcome.failed:
            store.record_push_failure(account, item.sku, error, code=code, session=session)
            store.complete(account, item.sku, item.claim.generation, owner=owner, session=session)
            fired.add(
                "omnisdk_push_failed", account=account, key=item.sku, error=error, retryable=False
            )

    in_transaction(store, work)


@dataclass
class _Counts:
    stats: AccountPushStats
    polled: bool = False
    results: dict[str, SkuPush] | None = None


async def _push_batch(
    engine: Engine, channel: Channel, claims: list[OutboxItem], counts: _Counts
) -> bool:
    """Push one claimed batch; False when the account lost its authorisation."""
    account = channel.account
    stats = counts.stats
    mode = channel.limits.stock_push_mode
    can_read = Capability.READ_STOCK in channel.capabilities
    items = [_Item(claim=claim) for claim in claims]
    stats.claimed += len(items)
    fired = Fired()
    try:
        await engine.db(_load_states, engine, account, items)
        # Read first where the figure to start from is unknown (see needs_read) and in the
        # absolute mode.
        to_read = [
            item for item in items if mode is StockPushMode.ABSOLUTE or needs_read(item.state)
        ]
        outcome = _Outcome()
        if to_read and can_read:
            try:
                await _read_listed(engine, channel, to_read)
            except ReauthorisationRequired:
                raise
            except Exception as exc:  # no figure to start from: try these again later
                reason = f"reading the listed stock failed: {exc}"
                logger.warning("%s: %s", account, reason)
                for item in to_read:
                    outcome.retry.append((item, reason, _backoff(item.claim.attempts)))
                unreadable = {id(item) for item in to_read}
                items = [item for item in items if id(item) not in unreadable]
        await engine.db(_decide, engine, account, mode, items)
        for item in items:
            if item.problem is not None:
                outcome.failed.append((item, item.problem, None))
        stats.batches += await _write(engine, channel, items, outcome)
        unchanged = [item for item in items if item.update is None and item.problem is None]
        if outcome.conflicts:
            stats.conflicts += len(outcome.conflicts)
            conflicted = outcome.conflicts
            outcome.conflicts = []
            await engine.db(_record, engine, account, outcome, unchanged, fired)
            _count(counts, outcome, unchanged)
            fired.fire(engine)
            outcome, unchanged = await _retry_conflicts(engine, channel, conflicted, counts)
    except ReauthorisationRequired as exc:
        await engine.lost_authorisation(account, exc)
        stats.stopped = True
        await engine.db(_release, engine, account, items, str(exc))
        return False
    await engine.db(_record, engine, account, outcome, unchanged, fired)
    _count(counts, outcome, unchanged)
    fired.fire(engine)
    return True


async def _retry_conflicts(
    engine: Engine, channel: Channel, items: list[_Item], counts: _Counts
) -> tuple[_Outcome, list[_Item]]:
    """Ingest the account's new orders, then swap again from the actual figures.

    A swap lost again (the channel is selling right now) is tried again at once from the
    figure it reported, holding the difference back as unseen, a few times at most.
    """
    account = channel.account
    if not counts.polled and Capability.READ_ORDERS in channel.capabilities:
        counts.polled = True
        try:
            await engine.poll_orders(account)
        except ReauthorisationRequired:
            raise
        except OmnisdkError as exc:
            logger.warning("%s: polling orders after a lost swap failed: %s", account, exc)
    outcome = _Outcome()
    unchanged: list[_Item] = []
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        await engine.db(_load_states, engine, account, items)
        await engine.db(_decide, engine, account, channel.limits.stock_push_mode, items)
        for item in items:
            if item.problem is not None:
                outcome.failed.append((item, item.problem, None))
        unchanged += [item for item in items if item.update is None and item.problem is None]
        lost = _Outcome()
        counts.stats.batches += await _write(engine, channel, items, lost)
        outcome.done += lost.done
        outcome.retry += lost.retry
        outcome.failed += lost.failed
        items = lost.conflicts
        if not items:
            break
        counts.stats.conflicts += len(items)
        if attempt == CONFLICT_ATTEMPTS:
            for item in items:
                outcome.retry.append(
                    (
                        item,
                        f"compare-and-swap lost {attempt + 1} times (the channel shows "
                        f"{item.listed})",
                        CONFLICT_RETRY,
                    )
                )
    return outcome, unchanged


def _count(counts: _Counts, outcome: _Outcome, unchanged: Sequence[_Item]) -> None:
    stats = counts.stats
    stats.pushed += len(outcome.done)
    stats.unchanged += len(unchanged)
    stats.retrying += len(outcome.retry)
    stats.failed += len(outcome.failed)
    results = counts.results
    if results is None:
        return
    for item, _ in outcome.done:
        results[item.sku] = _result(item, PushOutcome.PUSHED)
    for item in unchanged:
        earlier = results.get(item.sku)
        if earlier is None or earlier.outcome is not PushOutcome.PUSHED:
            results[item.sku] = _result(item, PushOutcome.UNCHANGED)
    for item, error, _ in outcome.retry:
        results[item.sku] = _result(item, PushOutcome.RETRYING, error)
    for item, error, code in outcome.failed:
        results[item.sku] = _result(item, PushOutcome.FAILED, error, code)


def _result(
    item: _Item, outcome: PushOutcome, error: str | None = None, code: str | None = None
) -> SkuPush:
    return SkuPush(
        sku=item.sku,
        outcome=outcome,
        quantity=None if item.problem is not None else item.quantity,
        listed=item.listed,
        error=error,
        code=code,
    )


def _release(engine: Engine, account: str, items: Sequence[_Item], reason: str) -> None:
    """Give claimed rows back (the account stopped): they wait for re-authorisation."""
    now = engine.now()
    for item in items:
        engine.store.fail(account, item.sku, reason, now, owner=engine.owner)


async def push_account(
    engine: Engine, account: str, *, results: dict[str, SkuPush] | None = None
) -> AccountPushStats:
    """Drain the due outbox rows of ``account``; see :meth:`Engine.push`.

    ``results``, when given, receives how each claimed SKU ended. A SKU claimed twice in
    the pass (queued again during its push) ends as its last claim did, except that one
    written and then found in step stays ``pushed``.
    """
    counts = _Counts(stats=AccountPushStats(account=account), results=results)
    stats = counts.stats
    if await engine.is_stopped(account):
        stats.stopped = True
        return stats
    channel = engine.channel(account)
    if Capability.WRITE_STOCK not in channel.capabilities:
        return stats
    lease = engine.config.engine.push_lease.total_seconds()
    size = channel.limits.max_stock_batch
    # One pass takes what is queued now (and a batch more): while a channel keeps selling, a
    # SKU pushed in this pass is queued again at once, and must wait for the next pass so the
    # other accounts' orders get polled in between.
    depth = await engine.db(engine.store.outbox_depth, account)
    for _ in range(min(math.ceil(depth / size) + 1, MAX_ROUNDS)):
        claims = await engine.db(engine.store.claim_dirty, account, size, engine.owner, lease)
        if not claims:
            break
        if not await _push_batch(engine, channel, claims, counts):
            break
    return stats


async def push_listings(engine: Engine, account: str, skus: Sequence[str]) -> dict[str, SkuPush]:
    """Set the listings of ``skus`` on ``account`` right now, through the outbox.

    This is how reconciliation and ``apply`` repair a listing: they record the figures they
    read (``Store.record_listed``), which the pusher then starts from, queue the SKUs and
    drain the account's outbox (other due rows of the account go too). Returns how each of
    ``skus`` ended; a SKU missing from the answer was not pushed in this pass (its retry
    time has not come, another pusher holds it, or the account stopped): it stays queued.
    """
    if not skus:
        return {}
    await mark_dirty(engine, skus, [account])
    results: dict[str, SkuPush] = {}
    await push_account(engine, account, results=results)
    return {sku: results[sku] for sku in skus if sku in results}


async def push(engine: Engine, account: str | None = None) -> PushStats:
    """See :meth:`Engine.push`."""
    import asyncio

    names = [account] if account is not None else sorted(engine.stock_accounts())
    totals = {name: AccountPushStats(account=name) for name in names}
    for _ in range(PUSH_ROUNDS):
        results = await asyncio.gather(
            *(push_account(engine, name) for name in names), return_exceptions=True
        )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, AccountPushStats):
                _add(totals[name], result)
            elif isinstance(result, Exception):
                logger.warning("%s: push failed: %s", name, result)
                totals[name].error = str(result) or type(result).__name__
            else:
                raise result
        # A lost swap ingested orders, which queued pushes to the other accounts: go again.
        if account is not None or not any(
            isinstance(r, AccountPushStats) and r.conflicts for r in results
        ):
            break
    return PushStats(accounts=list(totals.values()))


def _add(total: AccountPushStats, part: AccountPushStats) -> None:
    for name in ("claimed", "pushed", "unchanged", "conflicts", "retrying", "failed", "batches"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.stopped = total.stopped or part.stopped
    total.error = part.error or total.error


async def retry_failed(engine: Engine, account: str | None = None) -> int:
    """See :meth:`Engine.retry_failed_pushes`."""
    store = engine.store

    def work(session: Transaction) -> int:
        failed = store.list_listings(account=account, failed=True, session=session)
        for state in failed:
            store.clear_push_failure(state.account, state.sku, session=session)
            store.mark_dirty(session, state.account, state.sku)
        return len(failed)

    return await engine.db(in_transaction, store, work)
