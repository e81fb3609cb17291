"""Stock: orders turned into ledger movements, manual counts and adjustments, the outbox marks.

Every movement is a ledger entry with a unique idempotency key, applied in the same
transaction as the outbox marks it causes (one per account listing the SKU), so a crash
either keeps both or neither. Hooks are fired by the caller after the commit, from the
:class:`Fired` list these functions return.

An order holds stock per (SKU, location): ``reserved`` units while it is open, ``shipped``
units once it left. What it holds is read back from its own ledger entries (they share the
order's ``reference``), and :func:`plan_line` computes the movements from what it holds to
what its status asks for. So any version of an order, seen in any order, any number of times,
moves stock exactly to where the newest version says; a first sight of an order that already
shipped reserves and commits at once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.errors import InsufficientStock, InvalidValue, UnknownRecord
from omnisdk.models import (
    MAX_QUANTITY,
    FulfilmentMode,
    Order,
    StockEffect,
    check_quantity,
    validate_sku,
)
from omnisdk.store import MovementKind, StockMovement, Transaction
from omnisdk.store.listings import Holding
from omnisdk.sync.context import SyncContext
from omnisdk.sync.sellable import (
    accounts_fed_by,
    allocate,
    fed_by,
    holding,
    pending_unseen,
    predicted_listed,
)
from omnisdk.sync.transactions import Fired, in_transaction

__all__ = [
    "LevelChange",
    "ListingView",
    "LocationStock",
    "Movement",
    "StockView",
    "adjust_stock",
    "apply_order_movements",
    "apply_orders_movements",
    "bounded_key",
    "manual_sku",
    "mark_changes",
    "mark_dirty",
    "mark_levels_changed",
    "order_reference",
    "plan_line",
    "set_stock",
    "stock_view",
]

MAX_KEY = 255
"""The longest idempotency key or reference the ledger stores."""


def bounded_key(text: str) -> str:
    """``text`` if it fits the ledger's key column, else a unique shortened form."""
    if len(text) <= MAX_KEY:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{text[: MAX_KEY - 33]}~{digest}"


def order_reference(account: str, external_id: str) -> str:
    """The ledger ``reference`` shared by every movement of one order."""
    return bounded_key(f"order:{account}:{external_id}")


# -- orders -> movements --------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One ledger movement of an order line: ``step`` names it in the idempotency key."""

    step: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int


def plan_line(held: Holding | None, reserved: int, shipped: int) -> list[Movement]:
    """The movements taking an order line from what it ``held`` to ``reserved``/``shipped``.

    Shipping takes units from the reservation (reserving first what is missing); units that
    come back after shipping are put on hand again; the reservation then moves to its target.
    """
    have_reserved = held.reserved if held else 0
    have_shipped = held.shipped if held else 0
    moves: list[Movement] = []
    if shipped > have_shipped:
        leaving = shipped - have_shipped
        if have_reserved < leaving:
            missing = leaving - have_reserved
            moves.append(Movement("reserve", MovementKind.RESERVE, 0, missing))
            have_reserved += missing
        moves.append(Movement("commit", MovementKind.COMMIT, -leaving, -leaving))
        have_reserved -= leaving
    elif shipped < have_shipped:
        back = have_shipped - shipped
        moves.append(Movement("return", MovementKind.RELEASE, back, 0))
    if reserved > have_reserved:
        moves.append(Movement("reserve", MovementKind.RESERVE, 0, reserved - have_reserved))
    elif reserved < have_reserved:
        moves.append(Movement("release", MovementKind.RELEASE, 0, reserved - have_reserved))
    return moves


def line_target(effect: StockEffect, quantity: int) -> tuple[int, int]:
    """(reserved, shipped) an order line of ``quantity`` should hold in status ``effect``.

    A function of the newest version alone, so the outcome never depends on the order in
    which versions arrived (a status that goes back from shipped brings the units back).
    """
    if effect is StockEffect.COMMIT:
        return 0, quantity
    if effect is StockEffect.RESERVE:
        return quantity, 0
    return 0, 0


def order_location(context: SyncContext, order: Order) -> str:
    """Where ``order`` takes its stock: the pick-up store, else its account's location."""
    if order.fulfilment is FulfilmentMode.PICKUP and order.pickup_location:
        return order.pickup_location
    return context.location_of(order.channel_ref.account)


@dataclass(frozen=True)
class OrderMoves:
    """What applying an order's movements did: how many, which levels, the units it took."""

    movements: int
    levels: frozenset[tuple[str, str]]
    taken: dict[str, int]
    """Net units the order took from its own channel's listing, per SKU (reserved + shipped)."""
    deltas: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    """(on hand, reserved) change of each level in ``levels``."""


def apply_order_movements(context: SyncContext, session: Transaction, order: Order) -> OrderMoves:
    """Move stock to where ``order``'s status says, in ``session`` (the order row is locked)."""
    return apply_orders_movements(context, session, [order])[0]


def apply_orders_movements(
    context: SyncContext, session: Transaction, orders: Sequence[Order]
) -> list[OrderMoves]:
    """:func:`apply_order_movements` of each of ``orders`` (locked, each once), with one read
    of what they hold and one write of their movements."""
    store = context.store
    references = [
        order_reference(order.channel_ref.account, order.channel_ref.external_id)
        for order in orders
    ]
    holdings = store.order_holdings_many(references, session=session)
    planned: list[StockMovement] = []
    owner: list[int] = []
    taken_of: list[dict[str, int]] = []
    for index, (order, reference) in enumerate(zip(orders, references, strict=True)):
        held_of = holdings.get(reference, {})
        location = order_location(context, order)
        effect = order.status.stock_effect
        wanted = {(sku, location): quantity for sku, quantity in order.quantities().items()}
        taken: dict[str, int] = {}
        # Sorted, so concurrent transactions lock stock rows in the same order (no deadlock).
        for sku, loc in sorted(set(wanted) | set(held_of)):
            held = held_of.get((sku, loc))
            reserved, shipped = line_target(effect, wanted.get((sku, loc), 0))
            entries = held.entries if held else 0
            for move in plan_line(held, reserved, shipped):
                step = move.step if entries == 0 else f"{move.step}#{entries + 1}"
                planned.append(
                    StockMovement(
                        key=bounded_key(f"{reference}:{sku}:{loc}:{step}"),
                        sku=sku,
                        location=loc,
                        kind=move.kind,
                        on_hand_delta=move.on_hand_delta,
                        reserved_delta=move.reserved_delta,
                        reference=reference,
                    )
                )
                owner.append(index)
                entries += 1
            # Units the order took from its channel's listing: a cancellation gives them back
            # there, a return after shipping does not (the goods come back to our store).
            units = (reserved - (held.reserved if held else 0)) + max(
                shipped - (held.shipped if held else 0), 0
            )
            if units:
                taken[sku] = taken.get(sku, 0) + units
        taken_of.append(taken)
    applied = store.apply_stock_movements(session, planned)
    counts = [0] * len(orders)
    deltas: list[dict[tuple[str, str], tuple[int, int]]] = [{} for _ in orders]
    for entry, index, done in zip(planned, owner, applied, strict=True):
        if done:
            counts[index] += 1
            on_hand, reserved = deltas[index].get((entry.sku, entry.location), (0, 0))
            deltas[index][(entry.sku, entry.location)] = (
                on_hand + entry.on_hand_delta,
                reserved + entry.reserved_delta,
            )
    return [
        OrderMoves(
            movements=counts[index],
            levels=frozenset(deltas[index]),
            taken=taken_of[index],
            deltas=deltas[index],
        )
        for index in range(len(orders))
    ]


# -- dirty marks and events -------------------------------------------------------------------


@dataclass(frozen=True)
class LevelChange:
    """Levels one change moved, by how much (on hand, reserved), and why (for the hook)."""

    deltas: Mapping[tuple[str, str], tuple[int, int]]
    reason: str


def mark_levels_changed(
    context: SyncContext,
    session: Transaction,
    levels: Iterable[tuple[str, str]],
    reason: str,
    fired: Fired,
) -> int:
    """Mark every account fed by the changed (SKU, location) levels dirty; queue the hooks.

    Returns how many (account, SKU) marks were made.
    """
    change = LevelChange(deltas={level: (0, 0) for level in levels}, reason=reason)
    return mark_changes(context, session, [(change, fired)])


def mark_changes(
    context: SyncContext, session: Transaction, changes: Sequence[tuple[LevelChange, Fired]]
) -> int:
    """:func:`mark_levels_changed` for several changes made one after the other in
    ``session``: each change's ``omnisdk_stock_changed`` hooks (queued on its own
    :class:`Fired`) carry the levels as they were right after it. One read of the levels,
    one of the listings, one write of the marks. Returns how many marks were made."""
    store = context.store
    places = sorted({place for change, _ in changes for place in change.deltas})
    if not places:
        return 0
    final = store.stock_levels_at(places, session=session)
    running = {place: (final[place].on_hand, final[place].reserved) for place in places}
    after: list[list[tuple[str, str, int, int]]] = [[] for _ in changes]
    for index in range(len(changes) - 1, -1, -1):
        change = changes[index][0]
        for sku, location in sorted(change.deltas):
            on_hand, reserved = running[(sku, location)]
            after[index].append((sku, location, on_hand, reserved))
            d_on_hand, d_reserved = change.deltas[(sku, location)]
            running[(sku, location)] = (on_hand - d_on_hand, reserved - d_reserved)
    for (change, fired), levels in zip(changes, after, strict=True):
        for sku, location, on_hand, reserved in levels:
            fired.add(
                "omnisdk_stock_changed",
                sku=sku,
                location=location,
                on_hand=on_hand,
                reserved=reserved,
                reason=change.reason,
            )
    listing = store.listing_accounts_many({sku for sku, _ in places}, session=session)
    marks = {
        (account, sku)
        for sku, location in places
        for account in fed_by(context, listing.get(sku, []), location)
    }
    return store.mark_dirty_many(session, marks)


# -- manual stock ---------------------------------------------------------------------------


def _known_target(context: SyncContext, session: Transaction, sku: str, location: str) -> None:
    """Refuse a manual count or adjustment of a SKU or at a location nothing else knows.

    A SKU is known when it is in the master catalog or an account lists it
    (:meth:`Engine.add_listing`); a location when the config names it or the store holds it.
    Without this a typo would silently create a SKU or a location no channel ever sells from.
    """
    store = context.store
    if store.get_variant(sku, session=session) is None and not store.listing_accounts(
        sku, session=session
    ):
        raise UnknownRecord(
            f"SKU {sku!r} is not in the master catalog; import it first "
            "(omnisdk catalog import ACCOUNT) or check the spelling"
        )
    known = context.configured_locations()
    if location not in known and store.get_location(location, session=session) is None:
        raise UnknownRecord(
            f"location {location!r} is not known (known: {', '.join(sorted(known))}); add it "
            "to [engine] locations in the config file, or check the spelling"
        )


def manual_sku(sku: str) -> str:
    """``sku`` in its canonical form, or InvalidValue saying why it cannot be one."""
    try:
        return validate_sku(sku)
    except ValueError as exc:
        raise InvalidValue(str(exc)) from None


async def set_stock(
    context: SyncContext,
    sku: str,
    quantity: int,
    *,
    location: str | None = None,
    reason: str = "count",
    key: str | None = None,
    create: bool = False,
) -> bool:
    """Record a count of ``sku`` at ``location``; see :meth:`Engine.set_stock`."""
    try:
        check_quantity(quantity, "a stock count", minimum=0)
    except ValueError as exc:
        raise InvalidValue(f"{sku}: {exc}") from None
    sku = manual_sku(sku)
    where = location or context.config.engine.default_location
    entry_key = bounded_key(key or f"count:{sku}:{where}:{uuid.uuid4().hex}")
    fired = Fired()
    store = context.store

    def work(session: Transaction) -> bool:
        fired.calls.clear()
        if store.ledger_key_applied(session, entry_key):
            return False
        if not create:
            _known_target(context, session, sku, where)
        applied = store.record_count(
            session,
            key=entry_key,
            sku=sku,
            location=where,
            counted=quantity,
            reference=bounded_key(reason),
        )
        if applied:
            mark_levels_changed(context, session, [(sku, where)], MovementKind.COUNT.value, fired)
        return applied

    applied = await context.run(in_transaction, store, work)
    fired.fire(context)
    return applied


async def adjust_stock(
    context: SyncContext,
    sku: str,
    delta: int,
    *,
    location: str | None = None,
    key: str | None = None,
    reason: str = "adjust",
) -> bool:
    """Add ``delta`` to on hand of ``sku`` at ``location``; see :meth:`Engine.adjust_stock`."""
    try:
        check_quantity(delta, "a stock adjustment")
    except ValueError as exc:
        raise InvalidValue(f"{sku}: {exc}") from None
    sku = manual_sku(sku)
    where = location or context.config.engine.default_location
    entry_key = bounded_key(key or f"adjust:{sku}:{where}:{uuid.uuid4().hex}")
    fired = Fired()
    store = context.store

    def work(session: Transaction) -> bool:
        fired.calls.clear()
        if store.ledger_key_applied(session, entry_key):
            return False
        _known_target(context, session, sku, where)
        level = store.lock_stock_level(session, sku, where)
        after = level.on_hand + delta
        if delta < 0 and after < 0:
            raise InsufficientStock(
                f"{sku} at {where}: on hand is {level.on_hand}, cannot remove {-delta} "
                f"(it would become {after}); record a stock count with `stock set` instead",
                sku=sku,
                location=where,
                on_hand=level.on_hand,
                delta=delta,
            )
        if after > MAX_QUANTITY:
            raise InvalidValue(
                f"{sku} at {where}: on hand {level.on_hand} {delta:+d} would exceed "
                f"{MAX_QUANTITY:,} (MAX_QUANTITY)"
            )
        applied = store.apply_stock_movement(
            session,
            key=entry_key,
            sku=sku,
            location=where,
            kind=MovementKind.ADJUST,
            on_hand_delta=delta,
            reference=bounded_key(reason),
        )
        if applied:
            mark_levels_changed(context, session, [(sku, where)], MovementKind.ADJUST.value, fired)
        return applied

    applied = await context.run(in_transaction, store, work)
    fired.fire(context)
    return applied


async def mark_dirty(
    context: SyncContext, skus: Sequence[str], accounts: Sequence[str] | None = None
) -> int:
    """Queue pushes of ``skus`` to ``accounts`` (default: the accounts listing each SKU)."""
    store = context.store
    skus = [manual_sku(sku) for sku in skus]

    def work(session: Transaction) -> int:
        marks: set[tuple[str, str]] = set()
        for sku in skus:
            targets = accounts_fed_by(context, session, sku, None) if accounts is None else accounts
            marks.update((account, sku) for account in targets)
        for account, sku in sorted(marks):
            store.mark_dirty(session, account, sku)
        return len(marks)

    return await context.run(in_transaction, store, work)


async def add_listing(
    context: SyncContext, account: str, sku: str, *, external_id: str | None = None
) -> bool:
    """Record that ``account`` lists ``sku`` and queue its first stock push.

    Returns True when the listing was new.
    """
    store = context.store
    sku = manual_sku(sku)

    def work(session: Transaction) -> bool:
        created = store.ensure_listing(account, sku, external_id=external_id, session=session)
        if account in context.stock_accounts():
            store.mark_dirty(session, account, sku)
        return created

    return await context.run(in_transaction, store, work)


# -- the view -------------------------------------------------------------------------------


class LocationStock(BaseModel):
    """On hand and reserved of one SKU at one location."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    location: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        """On hand less reserved (negative after an oversell)."""
        return self.on_hand - self.reserved


class ListingView(BaseModel):
    """One account's side of a SKU: what it may sell, what was pushed and what it showed.

    ``expected_listed`` is what the engine believes the channel shows now (what it pushed
    less the account's own orders ingested since); ``unseen`` the units it believes the
    channel sold that are not ingested yet. ``pending`` is True while a push waits in the
    outbox; ``error`` holds the last permanent push failure. ``sold`` counts the net units of
    the account's own orders ingested. Under quota allocation ``sellable`` is the account's
    quota now, ``share`` its share of the free stock (what it gets once the others gave up
    what they hold above theirs), ``holds`` what it holds (may still sell plus sold unseen;
    None: unknown until its first push); ``rebalances`` counts pushes that moved units away
    from it, ``starved`` pushes that listed less than its share while others held the units.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str
    sellable: int
    last_pushed: int | None = None
    pushed_at: datetime | None = None
    expected_listed: int | None = None
    last_listed: int | None = None
    listed_at: datetime | None = None
    unseen: int = 0
    pending: bool = False
    error: str | None = None
    sold: int = 0
    holds: int | None = None
    share: int | None = None
    rebalances: int = 0
    starved: int = 0


class StockView(BaseModel):
    """Everything known about one SKU's stock: per location, and per account listing it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    allocation: str = "quota"
    locations: list[LocationStock] = Field(default_factory=list)
    listings: list[ListingView] = Field(default_factory=list)
    unconfigured: list[str] = Field(default_factory=list)
    """Accounts the store still knows as listing the SKU but the config no longer names
    (``omnisdk channels remove`` forgets them); they take no part in the allocation."""

    @property
    def on_hand(self) -> int:
        """On hand over every location."""
        return sum(level.on_hand for level in self.locations)

    @property
    def reserved(self) -> int:
        """Reserved over every location."""
        return sum(level.reserved for level in self.locations)

    def listing(self, account: str) -> ListingView:
        """The view of ``account``; ``KeyError`` when it does not list the SKU."""
        for view in self.listings:
            if view.account == account:
                return view
        raise KeyError(account)


async def stock_view(context: SyncContext, sku: str) -> StockView:
    """See :meth:`Engine.stock_view`."""
    sku = manual_sku(sku)

    def read() -> StockView:
        store = context.store
        now = context.now()
        levels = store.stock_levels(sku)
        pending = {item.account for item in store.pending_pushes(sku=sku)}
        views = []
        configured = {entry.name for entry in context.config.channels}
        listing = store.listing_accounts(sku)
        for account in (name for name in listing if name in configured):
            state = store.get_listing(account, sku)
            unseen = pending_unseen(context, state, now)
            allocation = allocate(context, account, sku, unseen)
            views.append(
                ListingView(
                    account=account,
                    sellable=allocation.quantity,
                    sold=state.sold if state else 0,
                    holds=holding(context, account, state),
                    share=allocation.share,
                    rebalances=state.rebalances if state else 0,
                    starved=state.starved if state else 0,
                    last_pushed=state.last_pushed if state else None,
                    pushed_at=state.pushed_at if state else None,
                    expected_listed=predicted_listed(state),
                    last_listed=state.last_listed if state else None,
                    listed_at=state.listed_at if state else None,
                    unseen=unseen,
                    pending=account in pending,
                    error=state.last_error if state else None,
                )
            )
        return StockView(
            sku=sku,
            allocation=context.config.engine.allocation,
            locations=[
                LocationStock(location=lv.location or "", on_hand=lv.on_hand, reserved=lv.reserved)
                for lv in levels
            ],
            listings=views,
            unconfigured=[name for name in listing if name not in configured],
        )

    return await context.run(read)
