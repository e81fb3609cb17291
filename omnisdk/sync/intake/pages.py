"""A page of orders ingested inside one transaction, with a few statements for the whole page.

What :func:`~omnisdk.sync.intake.orders.ingest_order` does to one order, done to many at once
and with the same outcome as one after the other: the page's stored orders are locked (in a
fixed order) and their versions read in one query; the buyers that are new or changed are
resolved together (an unchanged buyer is not matched again); the orders are written together
(the store applies the version rule); then the stock movements of every order that changed,
their listing counters and outbox marks, each a single statement for the page. Each order's
hooks are queued on its own :class:`Fired`, in the order a one-by-one ingestion would fire
them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from omnisdk.models import Order, OrderStatus
from omnisdk.store import LockedOrder, Store, Transaction
from omnisdk.store.documents import content_hash, to_document
from omnisdk.store.types import as_utc
from omnisdk.sync.context import SyncContext
from omnisdk.sync.customers import Buyer, Resolution, resolve_customers
from omnisdk.sync.notify import claim, listening
from omnisdk.sync.sellable import placed_span
from omnisdk.sync.stock import LevelChange, apply_orders_movements, mark_changes
from omnisdk.sync.transactions import Fired

__all__ = ["IngestResult", "ingest_page_in", "is_newer"]


@dataclass(frozen=True)
class IngestResult:
    """What ingesting one order did.

    ``applied`` is False when the store holds a newer version (nothing changed);
    ``changed`` False when this exact version was ingested before. ``movements`` counts the
    ledger entries written; ``merges`` the customer merges made (ids for
    :meth:`~omnisdk.sync.engine.Engine.undo_customer_merge`). ``customer_id`` is the customer
    the order is linked to when it changed. ``duplicate_delivery`` is True when a webhook
    delivery with the same id was processed before (nothing was done).
    """

    account: str
    external_id: str
    order_id: int | None
    created: bool
    applied: bool
    changed: bool
    previous_status: OrderStatus | None
    status: OrderStatus
    customer_id: str | None = None
    movements: int = 0
    merges: tuple[int, ...] = ()
    duplicate_delivery: bool = False


def is_newer(order: Order, updated_at: datetime, digest: str) -> bool:
    """True when ``order`` is a later version than the stored one (updated at ``updated_at``
    with content hash ``digest``), or the same moment with other content."""
    stamp = as_utc(order.updated_at)
    if stamp != updated_at:
        return stamp > updated_at
    return content_hash(to_document(order)) != digest


def _unique_runs(orders: Sequence[Order]) -> Iterator[list[Order]]:
    """``orders`` cut into consecutive runs in which no order appears twice."""
    run: list[Order] = []
    seen: set[tuple[str, str]] = set()
    for order in orders:
        ref = (order.channel_ref.account, order.channel_ref.external_id)
        if ref in seen:
            yield run
            run, seen = [], set()
        run.append(order)
        seen.add(ref)
    if run:
        yield run


def ingest_page_in(
    context: SyncContext, session: Transaction, orders: Sequence[Order]
) -> list[tuple[IngestResult, Fired]]:
    """Ingest ``orders`` inside ``session`` as one-by-one ingestion would: each order's
    result and the hooks it queued."""
    entries: list[tuple[IngestResult, Fired]] = []
    for run in _unique_runs(orders):
        entries.extend(_run_in(context, session, run))
    return entries


def _buyer_changed(order: Order, known: LockedOrder) -> bool:
    assert order.customer is not None
    return known.buyer != to_document(order.customer)


def _run_in(
    context: SyncContext, session: Transaction, orders: list[Order]
) -> list[tuple[IngestResult, Fired]]:
    store = context.store
    refs = [(order.channel_ref.account, order.channel_ref.external_id) for order in orders]
    store.ensure_accounts(session, {(o.channel_ref.account, o.channel_ref.channel) for o in orders})
    locked = store.lock_orders(session, refs)
    asked: list[int] = []
    buyers: list[Buyer] = []
    for index, (order, ref) in enumerate(zip(orders, refs, strict=True)):
        known = locked.get(ref)
        if order.customer is None:
            continue
        if known is not None and not (
            is_newer(order, known.updated_at, known.content_hash) and _buyer_changed(order, known)
        ):
            continue
        asked.append(index)
        buyers.append(
            Buyer(
                customer=order.customer,
                account=ref[0],
                context=f"order {ref[0]}/{ref[1]}",
                linked=known.customer_id if known is not None else None,
            )
        )
    resolutions: dict[int, tuple[Resolution, Fired]] = dict(
        zip(asked, resolve_customers(store, session, buyers), strict=True)
    )
    fired = [resolutions[i][1] if i in resolutions else Fired() for i in range(len(orders))]
    links = [
        resolutions[i][0].customer_id if i in resolutions else None for i in range(len(orders))
    ]
    saved = store.save_orders(session, list(zip(orders, links, strict=True)), locked)
    moving = [i for i, outcome in enumerate(saved) if outcome.applied and outcome.changed]
    moves = dict(
        zip(
            moving,
            apply_orders_movements(context, session, [orders[i] for i in moving]),
            strict=True,
        )
    )
    # Only an order sold through its channel moved that channel's listed figure (see
    # SyncContext.sells_on_channel); the others move the ledger alone.
    pushing = {name for name in context.stock_accounts() if context.sells_on_channel(name)}
    seen: dict[str, dict[str, int]] = {}
    placed: dict[str, dict[str, tuple[datetime, datetime]]] = {}
    for index, move in moves.items():
        account = refs[index][0]
        if account in pushing:
            units = seen.setdefault(account, {})
            spans = placed.setdefault(account, {})
            earliest, latest = placed_span(orders[index].created_at)
            for sku, count in move.taken.items():
                units[sku] = units.get(sku, 0) + count
                # One span per SKU for the page: the widest holds every order's.
                start, end = spans.get(sku, (earliest, latest))
                spans[sku] = (min(start, earliest), max(end, latest))
    recent_after = context.now() - context.config.engine.velocity_window
    for account in sorted(seen):
        store.add_seen_many(
            session, account, seen[account], recent_after=recent_after, placed=placed[account]
        )
    mark_changes(
        context,
        session,
        [
            (LevelChange(moves[i].deltas, f"order {refs[i][0]}/{refs[i][1]}"), fired[i])
            for i in moving
        ],
    )
    entries = []
    for index, (order, outcome) in enumerate(zip(orders, saved, strict=True)):
        ref = refs[index]
        if not (outcome.applied and outcome.changed):
            result = IngestResult(
                account=ref[0],
                external_id=ref[1],
                order_id=outcome.order_id,
                created=outcome.created,
                applied=outcome.applied,
                changed=outcome.changed,
                previous_status=outcome.previous_status,
                status=outcome.status,
            )
            entries.append((result, fired[index]))
            continue
        fired[index].add("omnisdk_order_received", order=order, is_new=outcome.created)
        if outcome.previous_status is not order.status:
            fired[index].add(
                "omnisdk_order_status_changed", order=order, previous=outcome.previous_status
            )
        resolution = resolutions[index][0] if index in resolutions else None
        known = locked.get(ref)
        linked = known.customer_id if known is not None and order.customer is not None else None
        result = IngestResult(
            account=ref[0],
            external_id=ref[1],
            order_id=outcome.order_id,
            created=outcome.created,
            applied=True,
            changed=True,
            previous_status=outcome.previous_status,
            status=order.status,
            customer_id=resolution.customer_id if resolution is not None else linked,
            movements=moves[index].movements,
            merges=resolution.merges if resolution is not None else (),
        )
        entries.append((result, fired[index]))
    if listening(context):
        _claim_notifications(store, session, entries, orders)
    return entries


def _claim_notifications(
    store: Store,
    session: Transaction,
    entries: list[tuple[IngestResult, Fired]],
    orders: Sequence[Order],
) -> None:
    """Claim the customer notification of every order whose status changed (a new order
    included) and whose buyer is known; queue the ones claimed now on their ``Fired``."""
    wanted = [
        index
        for index, (result, _) in enumerate(entries)
        if result.changed and result.customer_id and result.previous_status is not result.status
    ]
    claimed = claim(
        store, session, [(str(entries[i][0].customer_id), orders[i]) for i in wanted]
    )
    for index, key in zip(wanted, claimed, strict=True):
        if key is not None:
            entries[index][1].notifications[key] = orders[index]
