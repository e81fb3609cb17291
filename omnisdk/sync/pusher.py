"""Pushing stock: drain the outbox of one channel account, in the platform's batches.

A stock change marks (account, SKU) dirty in the outbox in the same transaction. A pusher
claims due rows under a lease, computes each SKU's figure *now* (so pushes coalesce to the
newest value), writes them in batches of ``limits.max_stock_batch`` with the strongest mode
the channel offers, and completes each row with the generation it saw: a change made during
the push keeps the row for another round. A crash loses nothing: an unfinished row's lease
runs out and another pusher (or the restarted one) takes it.

What the channel may list is the allocation hook's answer for the SKU (see
:mod:`omnisdk.sync.sellable`), given on hand and reserved per location, the account's rule and
the units the channel sold that the engine has not ingested yet ("unseen"). The engine predicts
the channel's figure from its listing state (what it pushed, less the account's own orders
ingested since). A figure read from the channel after the push (by reconciliation or ``apply``)
that disagrees with the prediction wins over it: the pusher reads the listing again and starts
from what it shows, so a listing changed on the channel's side is set right like any other. A
figure read back that is lower than predicted reveals unseen sales; they are held back for
``[engine] unseen_hold`` from that push, after which an order that never came is taken not to
exist:

compare-and-swap
    ``expected`` is the figure the listing starts from (predicted, or read). A lost swap
    tells the actual figure: the pusher ingests the account's new orders first, then swaps
    again from the actual figure, holding back what is still unseen. A push never overwrites
    a sale it has not accounted for.
delta
    sends ``target - current`` (predicted, or read just now: never a stale figure); unseen
    sales stay subtracted on the channel by themselves.
absolute
    reads the listed figures of the batch first and holds back the unseen units (a read
    equal to the prediction may hide as many unseen sales as the units an earlier write may
    have undone: see :func:`~omnisdk.sync.sellable.uncertain_units`); reads them again right
    before the write and takes what sold meanwhile off the figures written.

Every write is preceded by its intent, recorded on the listing: a pusher that dies mid-write
leaves it, and its successor reads the listing to tell whether the write landed.

Each write call is tried once by the HTTP layer (:func:`~omnisdk.http.single_attempt`): a SKU
whose write failed for now is tried again within the pass, per SKU, after a short back-off and
from a fresh decision (an absolute write from a fresh read: resent as it was, it would undo the
sales made meanwhile). The writes that lower a listing go first, in a call of their own. A SKU
still failing waits in the outbox with exponential back-off (a lowering write at most
:data:`LOWERING_MAX_BACKOFF`); permanent failures are recorded on the listing (shown by
``status``, queued again by :meth:`Engine.retry_failed_pushes`) and fire
``omnisdk_push_failed``. An account whose authorisation is lost stops; the others go on.
:func:`push_listings` is how the rest of the engine sets a listing it found wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.channel import Capability, Channel, WriteResult
from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    OmnisdkError,
    PluginError,
    ReauthorisationRequired,
)
from omnisdk.http import single_attempt
from omnisdk.models import StockPushMode, StockUpdate
from omnisdk.store import OutboxItem, Store, Transaction
from omnisdk.store.listings import ListingState
from omnisdk.sync.accounts import is_stopped, lose_authorisation
from omnisdk.sync.context import SyncContext
from omnisdk.sync.intake.orders import poll_orders
from omnisdk.sync.reports import by_account
from omnisdk.sync.sellable import (
    counted,
    decide_target,
    landed_write,
    needs_read,
    other_listings,
    record_listed,
)
from omnisdk.sync.stock import mark_dirty
from omnisdk.sync.transactions import Fired, in_transaction

__all__ = [
    "AccountPushStats",
    "PushOutcome",
    "PushStats",
    "SkuPush",
    "push",
    "push_account",
    "push_listings",
    "retry_failed",
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
LEASE_RENEWAL = 1.0
"""Seconds between renewals of the leases of the rows a push is working on at most (a third of
``[engine] push_lease`` when that is shorter)."""
MAX_ROUNDS = 1000
"""Claims per account per :func:`push` call at most (a SKU changing without pause must not
keep one pass going for ever)."""
PASS_ATTEMPTS = 4
"""Tries of one SKU's write within a pass, the first included. A write that failed for now is
tried again after a short back-off from a fresh decision (an absolute one from a fresh read of
the listing), never resent as it was; after the last try it waits in the outbox."""
PASS_BACKOFF = 0.05
"""Seconds before the first try again within a pass; doubling per try, with jitter."""
PASS_MAX_WAIT = 1.0
"""A failure whose platform asks for a longer wait (``Retry-After``) goes to the outbox at once."""
HASTENED_RETRIES = 6
"""Failures of a SKU after which a write landing on its account no longer makes it due at once
(:meth:`~omnisdk.store.Store.hasten_retries`): past them it waits out its back-off."""
LOWERING_MAX_BACKOFF = 5.0
"""The longest outbox wait before a write that lowers a listing is tried again: until it lands
the channel sells from a figure higher than it should show."""


# -- results -------------------------------------------------------------------------------


class AccountPushStats(BaseModel):
    """What one push pass did on one account.

    ``claimed`` outbox rows were taken; ``pushed`` figures the channel accepted in
    ``batches`` write calls; ``unchanged`` needed no write (the channel already shows the
    figure); ``conflicts`` compare-and-swaps were lost (the channel had sold something);
    ``retrying`` failed for now (tried again later, from the outbox); ``retried`` writes were
    tried again within the pass after failing for now; ``failed`` failed for good (recorded).
    ``released`` figures lowered what the account holds (or first made it known), so other
    accounts' quotas may grow; ``rebalanced`` of the pushed figures were lowered to give units
    to another account; ``starved`` were held below the account's share because the units
    still sat on other accounts. ``stopped`` is True when the account needs re-authorisation.
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    claimed: int = 0
    pushed: int = 0
    unchanged: int = 0
    conflicts: int = 0
    retrying: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    released: int = 0
    rebalanced: int = 0
    starved: int = 0
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
    current: int | None = None
    """What the channel shows as the decision saw it (read, or predicted; None: unknown)."""
    read_at: datetime | None = None
    """When ``listed`` was read (an absolute write overwrites what sold since)."""
    rebalanced: bool = False
    starved: bool = False
    frees: bool = False
    """Confirming the figure lowers what the account holds (or first makes it known)."""
    over_share: tuple[str, ...] = ()
    """Accounts holding more than their share, asked to give up units when this one starves."""
    rotate_at: datetime | None = None
    """When the SKU's quota turns change next: the listing is queued again then."""
    retry_after: float | None = None
    """The wait the platform asked for when the last write failed (None: it asked none)."""
    refused_for_now: bool = False
    """The platform answered the last write with a refusal for now (429, 5xx): it most likely
    did not land, so a figure equal to what it would have left is not taken for it."""

    @property
    def sku(self) -> str:
        return self.claim.sku

    @property
    def lowers(self) -> bool:
        """True when the write decided lowers what the channel shows."""
        return (
            self.update is not None and self.current is not None and (self.quantity < self.current)
        )


@dataclass
class _Outcome:
    """How the items of a batch ended, to be recorded in one transaction."""

    done: list[tuple[_Item, int | None]] = field(default_factory=list)
    """(item, listed figure when known): the channel shows what was decided."""
    retry: list[tuple[_Item, str, float]] = field(default_factory=list)
    failed: list[tuple[_Item, str, str | None]] = field(default_factory=list)
    conflicts: list[_Item] = field(default_factory=list)


def _backoff(attempts: int, longest: float = MAX_BACKOFF) -> float:
    base: float = min(2.0 ** max(attempts, 0), longest)
    return base * (0.5 + random.random() / 2)  # jitter, so failed SKUs do not return together


def _pass_backoff(attempt: int) -> float:
    """Seconds before the next try within a pass, after ``attempt`` tries."""
    base = min(PASS_BACKOFF * 2.0 ** (attempt - 1), PASS_MAX_WAIT)
    return base * (0.5 + random.random() / 2)


def _item_backoff(item: _Item) -> float:
    """The outbox wait of ``item`` after a failure (short for a write that lowers)."""
    return _backoff(item.claim.attempts, LOWERING_MAX_BACKOFF if item.lowers else MAX_BACKOFF)


def _load_states(
    context: SyncContext, account: str, items: Sequence[_Item], session: Transaction | None = None
) -> None:
    for item in items:
        item.state = context.store.get_listing(account, item.sku, session=session)


def _decide(
    context: SyncContext,
    account: str,
    mode: StockPushMode,
    items: Sequence[_Item],
    session: Transaction | None = None,
) -> None:
    """Compute each item's figure and the write that sets it (None: nothing to send)."""
    now = context.now()
    for item in items:
        item.update = None
        item.problem = None
        item.rebalanced = item.starved = item.frees = False
        item.over_share = ()
        item.rotate_at = None
        try:
            target = decide_target(
                context,
                account,
                item.sku,
                item.state,
                item.listed,
                now,
                session=session,
                trust_landed=not item.refused_for_now,
            )
        except Exception as exc:  # an app's allocation hook must not stop the others
            item.problem = f"allocation failed: {type(exc).__name__}: {exc}"
            continue
        item.quantity = target.quantity
        item.unseen = target.unseen
        item.seen_accounted = target.seen_accounted
        current = item.current = target.current
        allocation = target.allocation
        if allocation is not None and allocation.share is not None:
            held = allocation.holds
            item.frees = held is None or held > item.quantity + item.unseen
            item.starved = allocation.starved
            item.over_share = allocation.over_share if allocation.starved else ()
            item.rotate_at = allocation.rotate_at
            item.rebalanced = (
                current is not None
                and item.quantity < current
                and item.quantity < (allocation.alone or 0)
            )
        if current is not None and item.quantity == current:
            continue
        if mode is StockPushMode.COMPARE_AND_SWAP:
            expected = current if current is not None else _guess(item.state)
            item.update = StockUpdate(sku=item.sku, quantity=item.quantity, expected=expected)
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


def _decide_and_intend(
    context: SyncContext, account: str, mode: StockPushMode, items: Sequence[_Item]
) -> None:
    """Decide the items' figures and record the intents of the writes, in one transaction.

    Under quota allocation the SKUs whose figure changes are locked, in SKU order, and
    decided again under the lock: an account's figure is decided from what the others hold,
    and a recorded intent counts in what this one holds, so two decisions for one SKU never
    give away the same units. A SKU whose figure stays as it is (most of a batch, while a
    fleet of pushers drains it) is not locked: it writes nothing and records no intent, so
    what the account holds of it does not change, and no other decision can give its units
    away (a change that moves its figure later marks its row again). Locking the whole batch
    made the pushers of every account wait on one another for SKUs none of them wrote.
    """
    store = context.store

    def work(session: Transaction) -> None:
        _load_states(context, account, items, session)
        _decide(context, account, mode, items, session)
        # SQLite's writers are serial already (the transaction holds the write lock).
        if context.config.engine.allocation == "quota" and store.is_postgresql:
            changing = [item for item in items if item.update is not None]
            if changing:
                store.lock_listings(session, sorted({item.sku for item in changing}))
                # Decided again now that no other decision of these SKUs is under way.
                _load_states(context, account, changing, session)
                _decide(context, account, mode, changing, session)
        intents = sorted(
            (i.sku, i.quantity, i.unseen, i.seen_accounted) for i in items if i.update is not None
        )
        if intents:
            store.record_intent(account, intents, session=session)

    in_transaction(store, work)


async def _read_listed(context: SyncContext, channel: Channel, items: Sequence[_Item]) -> int:
    """Read the channel's figures of ``items`` (summed over its locations); record them.

    Returns how many of them the read lowered what the account holds (units held as sold
    unseen were dropped, see :func:`~omnisdk.sync.sellable.record_listed`): the other
    accounts listing those SKUs are queued, and :func:`push` goes another round.
    """
    wanted = [item.sku for item in items]
    figures: dict[str, int] = {}
    read_at = context.now()
    async for level in channel.stream_stock(wanted):
        figures[level.sku] = figures.get(level.sku, 0) + level.on_hand
    for item in items:
        item.listed = figures.get(item.sku)
        item.read_at = read_at
    if not figures:
        return 0
    dropped = await context.run(
        in_transaction,
        context.store,
        partial(record_listed, context, account=channel.account, figures=figures, queue_own=False),
    )
    return len(dropped)


async def _narrow_windows(context: SyncContext, channel: Channel, items: Sequence[_Item]) -> None:
    """Read the figures of the absolute writes decided again, right before writing them.

    An absolute write undoes the sales made since the read it was decided from, and the
    decision (store reads, the allocation, the intent, one transaction) takes most of that
    span. Units sold since the first read are taken off the figure to write and held as sold
    unseen, like those the first read showed: what the account holds stays the same, the
    channel lists them no more, and the write undoes only what sells in the last round trip.
    A figure that went up (a cancellation put units back) changes nothing. A failed read
    leaves the writes as decided.
    """
    writing = [item for item in items if item.update is not None and item.listed is not None]
    if not writing:
        return
    figures: dict[str, int] = {}
    read_at = context.now()
    try:
        async for level in channel.stream_stock([item.sku for item in writing]):
            figures[level.sku] = figures.get(level.sku, 0) + level.on_hand
    except ReauthorisationRequired:
        raise
    except Exception as exc:  # the write goes as decided
        logger.warning("%s: reading the listed stock again failed: %s", channel.account, exc)
        return
    for item in writing:
        now_listed = figures.get(item.sku)
        if now_listed is None or item.listed is None or now_listed >= item.listed:
            continue
        sold = item.listed - now_listed
        item.quantity = max(item.quantity - sold, 0)
        item.unseen += sold
        item.listed = item.current = now_listed
        item.read_at = read_at
        item.update = StockUpdate(sku=item.sku, quantity=item.quantity)


async def _write(
    context: SyncContext, channel: Channel, items: Sequence[_Item], outcome: _Outcome
) -> int:
    """Write the items' updates, those that lower a listing first; sort the answers into
    ``outcome``. Returns the number of write calls made (0 to 2).

    The lowering writes go in a call of their own, before the others: when the channel is
    failing or slow, what it sells from a figure higher than it should show is stopped first.
    Each call is tried once (:func:`~omnisdk.http.single_attempt`): a write that failed for
    now is decided again before it is tried again (see :func:`_push_batch`). Raises
    ReauthorisationRequired.
    """
    sending = [item for item in items if item.update is not None]
    calls = 0
    for group in ([i for i in sending if i.lowers], [i for i in sending if not i.lowers]):
        if group:
            calls += await _write_call(context, channel, group, outcome)
    return calls


async def _write_call(
    context: SyncContext, channel: Channel, sending: Sequence[_Item], outcome: _Outcome
) -> int:
    """Write the updates of ``sending`` in one call, tried once; sort the answers.

    The intents were recorded with the decision, so a crash during the call can be
    recognised later. The intents of writes the channel refused (it answered, and the item
    did not pass) are withdrawn: a later read that happens to show the refused figure (a
    sale took the listing there) must not be taken for that write having landed.
    """
    updates = [item.update for item in sending if item.update is not None]
    answered = False  # the channel said what became of each item (a failed one did not land)
    for item in sending:
        item.retry_after = None
    try:
        with single_attempt():
            results = await channel.write_stock_batch(updates)
        if len(results) != len(sending):
            raise PluginError(
                f"{channel.name}: a stock write returned {len(results)} results for "
                f"{len(sending)} items"
            )
        answered = True
    except ReauthorisationRequired:
        raise
    except ChannelError as exc:
        retryable = exc.retryable or not _is_refusal(exc)
        answered = not retryable  # the request itself was refused: nothing was applied
        results = [WriteResult.failure(item.sku, exc, retryable=retryable) for item in sending]
        wait = getattr(exc, "retry_after", None)
        if retryable and wait:
            for item, result in zip(sending, results, strict=True):
                item.retry_after = float(wait)
                item.refused_for_now = result.status is not None
                outcome.retry.append((item, result.error or "failed", float(wait)))
            lowered = [item for item in sending if item.refused_for_now and item.lowers]
            if lowered:
                await context.run(_withdraw_intents, context, channel.account, lowered)
            return 1
    except Exception as exc:  # a plugin bug must not lose the push: try again later
        logger.exception("%s/%s: stock write failed", channel.name, channel.account)
        results = [
            WriteResult.failure(item.sku, f"{type(exc).__name__}: {exc}", retryable=True)
            for item in sending
        ]
    refused: list[_Item] = []
    for item, result in zip(sending, results, strict=True):
        _sort(item, result, outcome)
        if result.ok:
            continue
        if result.actual is not None and _landed_earlier(item, result.actual):
            continue  # done: the earlier write's intent is cleared when it is recorded
        if answered or result.actual is not None:
            refused.append(item)
        elif result.retryable and result.status is not None and item.lowers:
            # Refused for now, most likely not applied. Withdrawn, the write leaves the account
            # holding its higher figure (safe whatever happened), and no later read that sales
            # brought to the lower figure can pass for this write having landed.
            refused.append(item)
    if refused:
        await context.run(_withdraw_intents, context, channel.account, refused)
    return 1


def _withdraw_intents(context: SyncContext, account: str, items: Sequence[_Item]) -> None:
    """Refused writes (lost swaps among them) did not land: their intents must not be
    mistaken for a landed write."""
    for item in items:
        context.store.withdraw_intent(account, item.sku, item.state)


def _is_refusal(exc: ChannelError) -> bool:
    """True for errors that say the request itself is wrong (trying again will not help)."""
    return isinstance(exc, BadRequest) and not isinstance(exc, AuthError)


def _landed_earlier(item: _Item, actual: int) -> bool:
    """True when a lost swap's ``actual`` is the figure wanted because a write an earlier
    pusher left unconfirmed landed (so the channel shows the figure already; not after the
    platform refused that write for now, see :func:`~omnisdk.sync.sellable.decide_target`).

    Without such a write, an actual equal to the figure wanted is a coincidence: the channel
    sold units the engine has not ingested. Taking the figure as pushed would count that sale
    again once its order is ingested, so it goes the way of every lost swap.
    """
    if actual != item.quantity or item.refused_for_now:
        return False
    return landed_write(item.state, actual) is not None


def _sort(item: _Item, result: WriteResult, outcome: _Outcome) -> None:
    if result.ok:
        outcome.done.append(
            (item, item.quantity if item.update and item.update.delta is None else None)
        )
    elif result.actual is not None:
        item.listed = result.actual
        # A figure read back after the platform refused the write for now (429, 5xx): the
        # write most likely did not land, whatever the figure (sales can make it the one
        # wanted), so it is decided again without taking the figure for that write.
        item.refused_for_now = result.status is not None and (
            result.status == 429 or result.status >= 500
        )
        if _landed_earlier(item, result.actual):
            outcome.done.append((item, result.actual))
        else:
            outcome.conflicts.append(item)
    elif result.retryable:
        item.refused_for_now = result.status is not None
        outcome.retry.append((item, result.error or "failed", _item_backoff(item)))
    else:
        outcome.failed.append((item, result.error or "refused", result.code))


def _record(
    context: SyncContext, account: str, outcome: _Outcome, unchanged: Sequence[_Item], fired: Fired
) -> None:
    """Write the outcome of a batch in one transaction (listing state + outbox)."""
    store = context.store
    owner = context.owner
    now = context.now()
    sells = context.sells_on_channel(account)

    def work(session: Transaction) -> None:
        fired.calls.clear()
        # Rows in SKU order, as every other transaction takes them (no lock-order deadlock on
        # PostgreSQL: the lowering writes went first, so the outcome is not in that order).
        finished: list[tuple[_Item, int | None]] = sorted(
            [*outcome.done, *((item, item.listed) for item in unchanged)],
            key=lambda entry: entry[0].sku,
        )
        freed: list[str] = []
        asked: set[tuple[str, str]] = set()
        # The listing rows first, then every outbox row (this account's and the others') in
        # (account, SKU) order, as every other transaction takes them: two accounts' pushers
        # each completing their own rows and marking the other's cannot deadlock.
        outbox_work: list[tuple[str, str, int, Callable[[], object]]] = []
        for item, listed in finished:
            # A write with neither an expected figure nor a delta overwrites what sold since
            # the read it started from; on a channel that takes no orders (a catalog whose
            # sales are recorded by the app) nothing sold there, so nothing is held for it.
            absolute = (
                sells
                and item.update is not None
                and item.update.expected is None
                and item.update.delta is None
            )
            store.record_push(
                account,
                item.sku,
                quantity=item.quantity,
                pending_unseen=item.unseen,
                seen_accounted=item.seen_accounted,
                listed=listed,
                wrote=item.update is not None,
                read_at=item.read_at if absolute else None,
                window_hold=max(item.listed or 0, 0) if absolute else 0,
                rebalanced=item.rebalanced and item.update is not None,
                starved=item.starved,
                overwritten_accounted=_overwritten_read(item),
                rotate_at=item.rotate_at,
                session=session,
            )
            outbox_work.append(
                (account, item.sku, 0, _completing(store, account, item, owner, session))
            )
            if item.update is not None:
                fired.add(
                    "omnisdk_stock_pushed",
                    account=account,
                    sku=item.sku,
                    quantity=item.quantity,
                    rebalanced=item.rebalanced,
                )
            if _frees_units(item):
                freed.append(item.sku)
            asked.update((other, item.sku) for other in item.over_share)
        for item, error, wait in sorted(outcome.retry, key=lambda entry: entry[0].sku):
            retry_at = now + timedelta(seconds=wait)
            outbox_work.append(
                (
                    account,
                    item.sku,
                    0,
                    partial(
                        store.fail, account, item.sku, error, retry_at, owner=owner, session=session
                    ),
                )
            )
            fired.add(
                "omnisdk_push_failed", account=account, key=item.sku, error=error, retryable=True
            )
        for item, error, code in sorted(outcome.failed, key=lambda entry: entry[0].sku):
            store.record_push_failure(account, item.sku, error, code=code, session=session)
            outbox_work.append(
                (account, item.sku, 0, _completing(store, account, item, owner, session))
            )
            fired.add(
                "omnisdk_push_failed", account=account, key=item.sku, error=error, retryable=False
            )
        # What this account gave up (or first made known) may now go to the others; one
        # held below its share asks those holding more than theirs to give units up.
        for sku in freed:
            asked.update((other, sku) for other in other_listings(context, session, account, sku))
        for other, sku in asked:
            # After this account's own row of the SKU (its own row is never marked here).
            outbox_work.append((other, sku, 1, partial(store.mark_dirty, session, other, sku)))
        for _, _, _, run in sorted(outbox_work, key=lambda entry: entry[:3]):
            run()

    in_transaction(store, work)
    if any(item.update is not None for item, _ in outcome.done):
        # The channel takes writes again: what failed while it did not goes now, not after
        # its back-off (a SKU failing on its own runs out of quick tries and backs off).
        just_failed = [item.sku for item, _, _ in outcome.retry]
        store.hasten_retries(account, at_most_attempts=HASTENED_RETRIES, keep=just_failed)


def _completing(
    store: Store, account: str, item: _Item, owner: str, session: Transaction
) -> Callable[[], object]:
    """Completing ``item``'s outbox row (kept when it was queued again since its claim)."""
    return partial(
        store.complete, account, item.sku, item.claim.generation, owner=owner, session=session
    )


def _never_pushed(state: ListingState | None) -> bool:
    """True for a listing the engine never set and has no write in flight for."""
    return state is None or (state.last_pushed is None and state.inflight_quantity is None)


def _guess(state: ListingState | None) -> int:
    """What a listing never pushed nor read is taken to show for a first compare-and-swap
    (the figure last read, else 0): a wrong guess only loses the swap, which tells the truth."""
    if state is not None and state.last_listed is not None:
        return state.last_listed
    return 0


def _overwritten_read(item: _Item) -> int:
    """The ``overwritten`` units an unchanged item's figure accounts for: it was decided
    from a read of the channel made after their orders were ingested (the read shows whether
    the earlier absolute write undid those sales), so they need not be held on top."""
    if item.update is not None or item.read_at is None or item.state is None:
        return 0
    return max(item.state.overwritten, 0)


def _frees_units(item: _Item) -> bool:
    """True when the confirmed figure lowers what the account holds, or first makes it known
    (a listing never pushed holds everything), so another account's quota may grow."""
    return item.problem is None and item.frees


_COUNTERS = tuple(
    name for name, info in AccountPushStats.model_fields.items() if info.annotation is int
)
"""The counters of :class:`AccountPushStats` that passes add up."""


@dataclass
class _Counts:
    stats: AccountPushStats
    polled: bool = False
    results: dict[str, SkuPush] | None = None


def _drop_uncounted(context: SyncContext, account: str, items: list[_Item]) -> list[_Item]:
    """The items whose SKU was counted; the others leave the outbox with nothing written.

    A SKU never counted has no figure to list (see :func:`~omnisdk.sync.sellable.counted`):
    an order of it marks the listings dirty, but writing 0 would zero a listing for want of a
    count. Counting it later marks them again.
    """
    keep = counted(context, [item.sku for item in items])
    dropped = [item for item in items if item.sku not in keep]
    if dropped:
        store = context.store

        def work(session: Transaction) -> None:
            for item in dropped:
                store.complete(
                    account, item.sku, item.claim.generation, owner=context.owner, session=session
                )

        in_transaction(store, work)
        logger.debug("%s: %d uncounted SKUs not pushed", account, len(dropped))
    return [item for item in items if item.sku in keep]


async def _push_batch(
    context: SyncContext, channel: Channel, claims: list[OutboxItem], counts: _Counts
) -> bool:
    """Push one claimed batch; False when the account lost its authorisation.

    Each SKU ends on its own: one whose write failed for now is tried again within the pass,
    after a short back-off (:data:`PASS_ATTEMPTS`, :data:`PASS_BACKOFF`), decided anew from
    the listing as it is then, while the others are recorded as they end. A SKU still failing
    after the last try, or whose platform asked for a long wait, waits in the outbox.
    """
    account = channel.account
    stats = counts.stats
    items = [_Item(claim=claim) for claim in claims]
    stats.claimed += len(items)
    pending = items
    try:
        pending = await context.run(_drop_uncounted, context, account, pending)
        await context.run(_load_states, context, account, pending)
        for attempt in range(1, PASS_ATTEMPTS + 1):
            fired = Fired()
            outcome, unchanged = await _attempt(context, channel, pending, counts)
            again = (
                [entry for entry in outcome.retry if _retry_in_pass(entry[0])]
                if attempt < PASS_ATTEMPTS
                else []
            )
            retried = {id(item) for item, _, _ in again}
            outcome.retry = [entry for entry in outcome.retry if id(entry[0]) not in retried]
            await context.run(_record, context, account, outcome, unchanged, fired)
            _count(counts, outcome, unchanged)
            fired.fire(context)
            if not again:
                break
            stats.retried += len(again)
            pending = [item for item, _, _ in again]
            longest = max(item.retry_after or 0.0 for item in pending)
            await asyncio.sleep(max(_pass_backoff(attempt), longest))
            for item in pending:
                item.listed = None  # read again where the figure may have changed (see needs_read)
                item.read_at = None
            await context.run(_load_states, context, account, pending)
    except ReauthorisationRequired as exc:
        await lose_authorisation(context, account, exc)
        stats.stopped = True
        await context.run(_release, context, account, pending, str(exc))
        return False
    return True


def _retry_in_pass(item: _Item) -> bool:
    """True for a write failed for now that is tried again within the pass (its platform
    asked for no wait longer than :data:`PASS_MAX_WAIT`)."""
    return item.retry_after is None or item.retry_after <= PASS_MAX_WAIT


async def _attempt(
    context: SyncContext, channel: Channel, items: list[_Item], counts: _Counts
) -> tuple[_Outcome, list[_Item]]:
    """Read where needed, decide, record the intents and write ``items`` once (lost swaps
    tried again at once, see :func:`_retry_conflicts`). Returns how they ended, and those
    that needed no write. Raises ReauthorisationRequired."""
    account = channel.account
    stats = counts.stats
    mode = channel.limits.stock_push_mode
    can_read = Capability.READ_STOCK in channel.capabilities
    # Read first where the figure to start from is unknown (see needs_read) and in the
    # absolute mode. A compare-and-swap needs no read for a listing never pushed: the swap
    # starts from a guess, and a lost one reports the actual figure (one write call where
    # the read took one call per page of SKUs).
    to_read = [
        item
        for item in items
        if mode is StockPushMode.ABSOLUTE
        or (
            needs_read(item.state)
            and not (mode is StockPushMode.COMPARE_AND_SWAP and _never_pushed(item.state))
        )
    ]
    outcome = _Outcome()
    if to_read and can_read:
        try:
            stats.released += await _read_listed(context, channel, to_read)
        except ReauthorisationRequired:
            raise
        except Exception as exc:  # no figure to start from: try these again later
            reason = f"reading the listed stock failed: {exc}"
            logger.warning("%s: %s", account, reason)
            for item in to_read:
                item.retry_after = getattr(exc, "retry_after", None)
                outcome.retry.append((item, reason, _item_backoff(item)))
            unreadable = {id(item) for item in to_read}
            items = [item for item in items if id(item) not in unreadable]
    await context.run(_decide_and_intend, context, account, mode, items)
    for item in items:
        if item.problem is not None:
            outcome.failed.append((item, item.problem, None))
    if mode is StockPushMode.ABSOLUTE and can_read:
        await _narrow_windows(context, channel, items)
    stats.batches += await _write(context, channel, items, outcome)
    unchanged = [item for item in items if item.update is None and item.problem is None]
    if outcome.conflicts:
        stats.conflicts += len(outcome.conflicts)
        conflicted = outcome.conflicts
        outcome.conflicts = []
        failing = outcome.retry  # tried again with the rest of the pass's failures
        outcome.retry = []
        fired = Fired()
        await context.run(_record, context, account, outcome, unchanged, fired)
        _count(counts, outcome, unchanged)
        fired.fire(context)
        outcome, unchanged = await _retry_conflicts(context, channel, conflicted, counts)
        outcome.retry = failing + outcome.retry
    return outcome, unchanged


async def _retry_conflicts(
    context: SyncContext, channel: Channel, items: list[_Item], counts: _Counts
) -> tuple[_Outcome, list[_Item]]:
    """Ingest the account's new orders, then swap again from the actual figures.

    A swap lost again (the channel is selling right now) is tried again at once from the
    figure it reported, holding the difference back as unseen, a few times at most.
    """
    account = channel.account
    if not counts.polled and Capability.READ_ORDERS in channel.capabilities:
        counts.polled = True
        try:
            await poll_orders(context, account)
        except ReauthorisationRequired:
            raise
        except OmnisdkError as exc:
            logger.warning("%s: polling orders after a lost swap failed: %s", account, exc)
    outcome = _Outcome()
    unchanged: list[_Item] = []
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        await context.run(
            _decide_and_intend, context, account, channel.limits.stock_push_mode, items
        )
        for item in items:
            if item.problem is not None:
                outcome.failed.append((item, item.problem, None))
        unchanged += [item for item in items if item.update is None and item.problem is None]
        lost = _Outcome()
        counts.stats.batches += await _write(context, channel, items, lost)
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
    stats.released += sum(1 for item, _ in outcome.done if _frees_units(item))
    stats.released += sum(1 for item in unchanged if _frees_units(item))
    stats.rebalanced += sum(1 for item, _ in outcome.done if item.rebalanced)
    stats.starved += sum(1 for item, _ in outcome.done if item.starved)
    stats.starved += sum(1 for item in unchanged if item.starved)
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


def _release(context: SyncContext, account: str, items: Sequence[_Item], reason: str) -> None:
    """Give claimed rows back (the account stopped): they wait for re-authorisation."""
    now = context.now()
    for item in items:
        context.store.fail(account, item.sku, reason, now, owner=context.owner)


async def push_account(
    context: SyncContext, account: str, *, results: dict[str, SkuPush] | None = None
) -> AccountPushStats:
    """Drain the due outbox rows of ``account``; see :meth:`Engine.push`.

    ``results``, when given, receives how each claimed SKU ended. A SKU claimed twice in
    the pass (queued again during its push) ends as its last claim did, except that one
    written and then found in step stays ``pushed``.
    """
    counts = _Counts(stats=AccountPushStats(account=account), results=results)
    stats = counts.stats
    if await is_stopped(context, account):
        stats.stopped = True
        return stats
    channel = context.channel(account)
    if Capability.WRITE_STOCK not in channel.capabilities:
        return stats
    if context.config.engine.allocation == "quota" and context.config.engine.rotate_after:
        await context.run(context.store.queue_due_rotations, account)
    lease = context.config.engine.push_lease.total_seconds()
    size = channel.limits.max_stock_batch
    # One pass takes what is queued now (and a batch more): while a channel keeps selling, a
    # SKU pushed in this pass is queued again at once, and must wait for the next pass so the
    # other accounts' orders get polled in between.
    depth = await context.run(context.store.outbox_depth, account)
    for _ in range(min(math.ceil(depth / size) + 1, MAX_ROUNDS)):
        claims = await context.run(context.store.claim_dirty, account, size, context.owner, lease)
        if not claims:
            break
        if not await _leased(
            context, account, claims, lease, _push_batch(context, channel, claims, counts)
        ):
            break
    return stats


async def _leased(
    context: SyncContext,
    account: str,
    claims: Sequence[OutboxItem],
    lease: float,
    work: Awaitable[bool],
) -> bool:
    """Await ``work``, the push of ``claims``, renewing their leases until it ends.

    A lease that runs out tells the other pushers its holder died, and they take the rows
    over. A write outliving the lease (a platform's rate limit can hold a call for seconds)
    must not be taken for a dead one: its successor would start a second write of the same
    listing while the first is in flight, with one intent recorded for both, and the first
    one's confirmation would clear the second's. A compare-and-swap decided from the figure
    before the first write can land again once sales took the listing back to it, listing
    units no account is known to hold.
    """
    skus = [claim.sku for claim in claims]
    every = max(min(lease / 3, LEASE_RENEWAL), 0.01)

    async def renew() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await context.run(context.store.renew_leases, account, skus, context.owner, lease)
            except Exception as exc:  # the store is down: the push itself will say so
                logger.warning("%s: renewing push leases failed: %s", account, exc)

    keeper = asyncio.create_task(renew())
    try:
        return await work
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def push_listings(
    context: SyncContext, account: str, skus: Sequence[str]
) -> dict[str, SkuPush]:
    """Set the listings of ``skus`` on ``account`` right now, through the outbox.

    This is how reconciliation and ``apply`` repair a listing: they record the figures they
    read (``Store.record_listed``), which the pusher then starts from, queue the SKUs and
    drain the account's outbox (other due rows of the account go too). Returns how each of
    ``skus`` ended; a SKU missing from the answer was not pushed in this pass (its retry
    time has not come, another pusher holds it, or the account stopped): it stays queued.
    """
    if not skus:
        return {}
    await mark_dirty(context, skus, [account])
    results: dict[str, SkuPush] = {}
    await push_account(context, account, results=results)
    return {sku: results[sku] for sku in skus if sku in results}


async def push(context: SyncContext, account: str | None = None) -> PushStats:
    """See :meth:`Engine.push`."""
    names = [account] if account is not None else sorted(context.stock_accounts())
    totals = {name: AccountPushStats(account=name) for name in names}
    for _ in range(PUSH_ROUNDS):
        results = await asyncio.gather(
            *(push_account(context, name) for name in names), return_exceptions=True
        )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, AccountPushStats):
                _add(totals[name], result)
            elif isinstance(result, Exception):
                logger.warning("%s: push failed: %s", name, result)
                totals[name].error = str(result) or type(result).__name__
            else:
                raise result
        # A lost swap ingested orders, and a figure lowered freed units for the others'
        # quotas: both queued pushes to the other accounts, so go again.
        if account is not None or not any(
            isinstance(r, AccountPushStats) and (r.conflicts or r.released) for r in results
        ):
            break
    return PushStats(accounts=list(totals.values()))


def _add(total: AccountPushStats, part: AccountPushStats) -> None:
    for name in _COUNTERS:
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.stopped = total.stopped or part.stopped
    total.error = part.error or total.error


async def retry_failed(context: SyncContext, account: str | None = None) -> int:
    """See :meth:`Engine.retry_failed_pushes`."""
    store = context.store

    def work(session: Transaction) -> int:
        failed = store.list_listings(account=account, failed=True, session=session)
        for state in failed:
            store.clear_push_failure(state.account, state.sku, session=session)
            store.mark_dirty(session, state.account, state.sku)
        return len(failed)

    return await context.run(in_transaction, store, work)
