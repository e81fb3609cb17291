"""What a channel account may list of a SKU now, and what it is believed to show.

The allocation hook's answer (given on hand and reserved per location, the account's rule and
the units the channel sold that the engine has not ingested yet) is what an account may list
under ``[engine] allocation = "shared"``. Under ``"quota"`` (the default) it is a cap: the
account lists the smallest of that cap, its share of the free stock and its headroom (the free
stock less what every other account holds), see :mod:`omnisdk.quotas`.
What it shows is predicted from its listing state (what was pushed, less the account's own
orders ingested since) unless a figure read from the channel since contradicts it. The pusher
decides every push from these; the stock view, the catalog plan and reconciliation report
them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from omnisdk.allocation import AllocationRequest
from omnisdk.errors import PluginError
from omnisdk.models import StockLevel, StockPushMode
from omnisdk.quotas import Claimant, quota_for
from omnisdk.store import Transaction
from omnisdk.store.listings import ListingState
from omnisdk.sync.context import SyncContext
from omnisdk.sync.transactions import in_transaction

__all__ = [
    "CLOCK_MARGIN",
    "Allocation",
    "Target",
    "accounts_fed_by",
    "allocate",
    "counted",
    "decide_target",
    "fed_by",
    "holding",
    "holds_expired_before",
    "landed_state",
    "landed_write",
    "listed_since_push",
    "listing_target",
    "needs_read",
    "other_listings",
    "pending_unseen",
    "placed_span",
    "predicted_listed",
    "push_mode",
    "record_listed",
    "release_window_holds",
    "sellable",
    "uncertain_units",
]


def predicted_listed(state: ListingState | None) -> int | None:
    """What the channel should show now, from what was pushed and the orders ingested since.

    Units sold unseen at the push were already off the channel: the first of the account's
    orders ingested afterwards are taken to be those. A net negative count means cancelled
    orders gave units back to the channel's listing (see ``apply_orders_movements``), so the
    channel shows that many more. None when nothing was ever pushed.
    """
    if state is None or state.last_pushed is None:
        return None
    seen = state.seen_since_push
    return state.last_pushed - max(seen - state.pending_unseen, min(seen, 0))


def _unseen_left(state: ListingState) -> int:
    """Units sold unseen at the push whose orders are still not ingested (a cancellation
    counted since the push does not make more of them)."""
    return max(state.pending_unseen - max(state.seen_since_push, 0), 0)


def pending_unseen(context: SyncContext, state: ListingState | None, now: datetime) -> int:
    """Units the channel sold that are still not ingested, while ``[engine] unseen_hold`` lasts."""
    if state is None or state.last_pushed is None or state.pending_unseen <= 0:
        return 0
    if state.pushed_at is None or now - state.pushed_at > context.config.engine.unseen_hold:
        return 0
    return _unseen_left(state)


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


def landed_write(state: ListingState | None, listed: int) -> ListingState | None:
    """The listing state had its unconfirmed write landed, when the channel's figure
    ``listed`` is what that write would have left (None: it is not, or there is no such
    write). After a crash or a lost answer the engine cannot tell better; a write the platform
    answered with a refusal for now (429, 5xx) is not asked this (see :func:`decide_target`).
    """
    if state is None:
        return None
    landed = landed_state(state)
    if landed is None or predicted_listed(landed) != listed:
        return None
    return landed


CLOCK_MARGIN = timedelta(seconds=2)
"""How far a platform's clock (an order's placing time) may be from the engine's; platforms
that give times in whole seconds need at least one."""


def push_mode(context: SyncContext, account: str) -> StockPushMode:
    """How ``account``'s channel writes stock (compare-and-swap when it is not open)."""
    cls = context.channels.channel_class(account)  # a class attribute: no channel is built
    return cls.limits.stock_push_mode if cls is not None else StockPushMode.COMPARE_AND_SWAP


def placed_span(placed_at: datetime) -> tuple[datetime, datetime]:
    """The instants, on the engine's clock, an order placed at ``placed_at`` (the platform's
    clock) may have been placed at (see ``Store.add_seen``)."""
    return placed_at - CLOCK_MARGIN, placed_at + CLOCK_MARGIN


def holds_expired_before(context: SyncContext) -> datetime:
    """Pushes made before this instant are past ``[engine] unseen_hold``: a figure read from
    the channel now drops the units they held back that no ingested order explains."""
    return context.now() - context.config.engine.unseen_hold


def _held(state: ListingState) -> int:
    """Units ``state``'s channel may still sell plus those it sold unseen (an upper bound).

    Units held back as sold unseen stay held here after ``[engine] unseen_hold``: the order
    may have been cancelled on the channel before the engine saw it, and the channel then
    lists the unit again; only a figure read from the channel after the hold tells (see
    ``Store.record_listed``).
    """
    unseen = _unseen_left(state)
    held = (predicted_listed(state) or 0) + unseen
    fresh = listed_since_push(state)
    if fresh is not None:
        held = max(held, fresh + unseen)
    return max(held, 0)


def holding(context: SyncContext, account: str, state: ListingState | None) -> int | None:
    """What ``account`` holds of a SKU: the units its channel may still sell plus those it
    sold that are not ingested yet; None when unknown (nothing was ever pushed).

    An upper bound: a write not confirmed yet counts at the larger of its old and new
    figure; an absolute write may have undone sales made between the read it started from
    and the write, so the figure read is held on top while the write is in flight and until
    the account's orders are known up to the write (``window_hold``), and the units of such
    orders ingested since stay held until the next write (``overwritten``).
    """
    if state is None or state.last_pushed is None:
        return None
    # Only an absolute write to a channel that sells can undo a sale (see sells_on_channel).
    absolute = (
        push_mode(context, account) is StockPushMode.ABSOLUTE
        and context.sells_on_channel(account)
    )
    held = _held(state)
    landed = landed_state(state)
    if landed is not None:
        in_flight = _held(landed)
        if absolute:
            in_flight += max(state.last_listed or 0, 0)
        held = max(held, in_flight)
    return held + max(state.window_hold, 0) + max(state.overwritten, 0)


def uncertain_units(state: ListingState | None) -> int:
    """Units of ingested orders an absolute write may have undone (``overwritten``).

    Their fate is unknown: undone, the channel still lists them (the prediction, counting
    them as sold, is that much too low); not undone (the order came just after the write,
    within the clocks' margin), the channel lost them. A read is therefore compared with the
    prediction *plus* these units: a read equal to the prediction alone may as well mean that
    many sales the engine has not seen, and taking it for "nothing unseen" would give those
    units to another channel too. The units beyond what the read then explains are held as
    sold unseen, until a read made once the account's orders are known up to the push tells
    (see ``Store.record_listed``).
    """
    if state is None:
        return 0
    return max(state.overwritten, 0)


def _velocity(context: SyncContext, state: ListingState | None, now: datetime) -> int:
    """Units the account sold of the SKU in its current velocity window (0 when stale)."""
    if state is None or state.sold_recent_since is None:
        return 0
    if now - state.sold_recent_since > 2 * context.config.engine.velocity_window:
        return 0
    return max(state.sold_recent, 0)


@dataclass(frozen=True)
class Allocation:
    """What one account may list of a SKU now, and why.

    ``quantity`` is the figure. Under quota allocation ``share`` is the account's share of
    the free stock, ``headroom`` the most it may list while the others hold what they hold,
    and ``alone`` what it would list if it were the only account (so a figure below both
    ``alone`` and what the channel shows moves units to another account); all None when
    shared. ``starved`` is True when units its share wants still sit on other accounts;
    ``over_share`` names the accounts holding more than their share; ``holds`` is what the
    account holds now (see :func:`holding`).
    """

    quantity: int
    share: int | None = None
    headroom: int | None = None
    alone: int | None = None
    starved: bool = False
    over_share: tuple[str, ...] = ()
    holds: int | None = None


def _answer(context: SyncContext, request: AllocationRequest) -> int:
    answer = context.plugins.hook.omnisdk_allocate_stock(request=request)
    if answer is None:
        raise PluginError(f"no omnisdk_allocate_stock implementation answered for {request.sku}")
    return max(int(answer), 0)


def _request(
    context: SyncContext,
    account: str,
    sku: str,
    levels: list[StockLevel],
    unseen: int,
    holdings: dict[str, int | None],
) -> AllocationRequest:
    channel_type = context.channel_type(account)
    return AllocationRequest(
        sku=sku,
        channel=channel_type,
        account=account,
        on_hand={level.location or "": level.on_hand for level in levels},
        reserved={level.location or "": level.reserved for level in levels},
        unseen=max(unseen, 0),
        rule=context.rule_of(account),
        holdings=holdings,
    )


def _free(context: SyncContext, accounts: list[str], levels: list[StockLevel]) -> int:
    """On hand less reserved over every location that feeds one of ``accounts``."""
    feeds: set[str] | None = set()
    for name in accounts:
        locations = context.rule_of(name).locations
        if locations is None:
            feeds = None
            break
        feeds.update(locations)  # type: ignore[union-attr]
    return sum(
        level.on_hand - level.reserved
        for level in levels
        if feeds is None or (level.location or "") in feeds
    )


def allocate(
    context: SyncContext, account: str, sku: str, unseen: int, session: Transaction | None = None
) -> Allocation:
    """What ``account`` may list of ``sku`` now, ``unseen`` units being sold on it unseen.

    Shared: the allocation hook's answer. Quota: the smallest of that answer, the account's
    share and its headroom, from what every stock-pushing account listing the SKU holds.
    """
    store = context.store
    levels = store.stock_levels(sku, session=session)
    if context.config.engine.allocation == "shared":
        return Allocation(
            quantity=_answer(context, _request(context, account, sku, levels, unseen, {}))
        )
    now = context.now()
    pushing = context.stock_accounts()
    names = sorted(
        {a for a in store.listing_accounts(sku, session=session) if a in pushing} | {account}
    )
    states = {s.account: s for s in store.list_listings(sku=sku, session=session)}
    holdings = {name: holding(context, name, states.get(name)) for name in names}
    claimants = []
    for name in names:
        rule = context.rule_of(name)
        own_unseen = unseen if name == account else pending_unseen(context, states.get(name), now)
        cap = _answer(context, _request(context, name, sku, levels, own_unseen, holdings))
        claimants.append(
            Claimant(
                account=name,
                holds=holdings[name],
                unseen=own_unseen,
                cap=cap,
                weight=rule.weight,
                velocity=_velocity(context, states.get(name), now),
                zero_below=rule.zero_below,
            )
        )
    free = _free(context, names, levels)
    quota = quota_for(account, free, claimants)
    return Allocation(
        quantity=quota.figure,
        share=quota.share,
        headroom=quota.headroom,
        alone=min(quota.cap, max(free - max(unseen, 0), 0)),
        starved=quota.starved,
        over_share=quota.over_share,
        holds=holdings[account],
    )


def sellable(context: SyncContext, account: str, sku: str) -> int:
    """What ``account`` may list of ``sku`` now, holding back its pending unseen sales."""
    state = context.store.get_listing(account, sku)
    return allocate(context, account, sku, pending_unseen(context, state, context.now())).quantity


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
    allocation: Allocation | None = None


def decide_target(
    context: SyncContext,
    account: str,
    sku: str,
    state: ListingState | None,
    listed: int | None,
    now: datetime,
    session: Transaction | None = None,
    *,
    trust_landed: bool = True,
) -> Target:
    """What ``account`` should list of ``sku``, from its listing ``state`` and ``listed``, a
    figure just read from the channel (None: none was read).

    A read figure lower than predicted means the channel sold units whose orders are not
    ingested yet: they are held back, never listed again. A read figure equal to what an
    unconfirmed write would have left means that write landed, unless ``trust_landed`` is
    False: the platform answered that write with a refusal for now (429, 5xx), so it most
    likely did not land, and buyers taking units meanwhile can leave the same figure; taken
    for the write, those sales would be lost from view (their orders, once ingested, would
    count against a figure the channel never showed). Raises what the allocation hook raises.
    """
    baseline = state
    if listed is not None and trust_landed:
        landed = landed_write(state, listed)
        if landed is not None:
            baseline = landed  # a write sent before a crash (or a failure) did land
    predicted = predicted_listed(baseline)
    # Units the prediction counts as sold that an absolute write may have undone: the channel
    # may still show them, so a read up to that many below "predicted + undone" may be unseen
    # sales (see :func:`uncertain_units`).
    undone = uncertain_units(baseline)
    extra = (
        max(predicted + undone - listed, 0) if predicted is not None and listed is not None else 0
    )
    unseen = pending_unseen(context, baseline, now) + extra
    allocation = allocate(context, account, sku, unseen, session)
    return Target(
        quantity=allocation.quantity,
        current=listed if listed is not None else predicted,
        predicted=predicted,
        unseen=unseen,
        seen_accounted=state.seen_since_push if state is not None else 0,
        allocation=allocation,
    )


def listing_target(
    context: SyncContext, account: str, sku: str, listed: int | None
) -> Target | None:
    """What the pusher would set ``sku``'s listing on ``account`` to now, given ``listed``
    (the channel's figure just read; None: unknown); None when the SKU was never counted
    (:func:`counted`), so it is never pushed as zero for want of a count. Synchronous (store
    reads)."""
    store = context.store
    if not counted(context, [sku]):
        return None
    state = store.get_listing(account, sku)
    return decide_target(context, account, sku, state, listed, context.now())


def counted(
    context: SyncContext, skus: Sequence[str], session: Transaction | None = None
) -> set[str]:
    """Those of ``skus`` the engine manages the listings of: their stock was counted or
    adjusted by hand at least once (``Engine.set_stock``/``adjust_stock``).

    The rule (docs/concepts.md, "Uncounted SKUs"): until a SKU is counted the engine does not
    know what there is, so it writes no figure for it on any channel (neither a zero nor
    anything else); its orders are still booked and their reservations count once it is.
    An order alone never makes a SKU counted: one Shopee order of an uncounted SKU must not
    zero its listing everywhere.
    """
    return context.store.counted_skus(skus, session=session)


def accounts_fed_by(
    context: SyncContext, session: Transaction, sku: str, location: str | None
) -> list[str]:
    """The stock-pushing accounts that list ``sku`` and are fed by ``location`` (None: any)."""
    return fed_by(context, context.store.listing_accounts(sku, session=session), location)


def other_listings(context: SyncContext, session: Transaction, account: str, sku: str) -> list[str]:
    """The stock-pushing accounts other than ``account`` that list ``sku``: whose quota of
    it may grow when ``account`` gives units up."""
    return [name for name in accounts_fed_by(context, session, sku, None) if name != account]


def fed_by(context: SyncContext, listing: list[str], location: str | None) -> list[str]:
    """Of the ``listing`` accounts, those that push stock and are fed by ``location``."""
    pushing = context.stock_accounts()
    found = []
    for account in listing:
        if account not in pushing:
            continue
        feeds = context.rule_of(account).locations
        if location is None or feeds is None or location in feeds:
            found.append(account)
    return found


def release_window_holds(context: SyncContext, account: str, before: datetime) -> list[str]:
    """``account``'s orders are ingested up to ``before``: the sales its absolute writes
    made before then may have overwritten are all seen, so their holds go. The account's own
    listings of those SKUs are queued too (the push reads what the channel shows, the truth
    that ends the ``overwritten`` estimate), and so are the other accounts' (their quota may
    grow). Returns the SKUs."""
    store = context.store

    def work(session: Transaction) -> list[str]:
        released = store.release_window_holds(account, before, session=session)
        marks = {
            (name, sku)
            for sku in released
            for name in (account, *other_listings(context, session, account, sku))
        }
        for name, sku in sorted(marks):  # the order every transaction takes outbox rows in
            store.mark_dirty(session, name, sku)
        return released

    return in_transaction(store, work)


def record_listed(
    context: SyncContext,
    session: Transaction,
    account: str,
    figures: Mapping[str, int],
    *,
    queue_own: bool = True,
) -> list[str]:
    """Record the figures ``account``'s channel showed just now (SKU -> units), in
    ``session``; returns the SKUs of which the read changed what the account holds.

    A read that drops units held as sold unseen (their hold ended, or they are settled: see
    ``Store.record_listed``) lowers what the account holds without any push: under quota
    allocation the other accounts listing the SKU are queued, as after a push that lowers a
    figure (their quota may grow), and so is the account's own listing when ``queue_own``
    (its figure may grow; the pusher, deciding it right after its read, passes False).
    Without this, a unit the accounts held as unseen while each was decided stayed listed by
    none: every decision came before some other account's read dropped its units.

    A read that shows more than the account was taken to hold (the platform put a
    cancelled order's units back on sale before the engine ingested the cancellation, or
    anything else raised the listing behind the engine's back) raises what it holds: the
    others are queued too, as their quota may shrink (they must lower), and so is its own
    listing when ``queue_own`` (it may be above its share now). Without this the figures
    waited for the next reconciliation.
    """
    store = context.store
    expired_before = holds_expired_before(context)
    quota = context.config.engine.allocation == "quota"
    before = (
        {state.sku: state for state in store.listings_of(account, figures, session=session)}
        if quota
        else {}
    )
    now = context.now()
    changed = []
    for sku, quantity in sorted(figures.items()):
        dropped = store.record_listed(
            account, sku, quantity, holds_expired_before=expired_before, session=session
        )
        if dropped or _read_raises(context, account, before.get(sku), quantity, now):
            changed.append(sku)
    if changed and quota:
        marks = {
            (name, sku)
            for sku in changed
            for name in (
                *((account,) if queue_own else ()),
                *other_listings(context, session, account, sku),
            )
        }
        store.mark_dirty_many(session, marks)
    return changed


def _read_raises(
    context: SyncContext, account: str, state: ListingState | None, listed: int, now: datetime
) -> bool:
    """True when the channel showing ``listed`` now makes ``account`` hold more than
    ``state`` (the listing before the read) says it does."""
    held = holding(context, account, state)
    if state is None or held is None:
        return False
    pushed_at = state.pushed_at
    read_at = now if pushed_at is None or now > pushed_at else pushed_at
    after = dataclasses.replace(state, last_listed=listed, listed_at=read_at)
    raised = holding(context, account, after)
    return raised is not None and raised > held
