"""Intake: polling with cursors (truth), webhooks (hints), app-recorded orders.

Every path ends in :func:`ingest_order`: one transaction saves the order (the store ignores a
version older than the one it holds), resolves its customer, moves stock to where the order's
status says and marks the pushes that follow. The hooks fire after the commit. So the same
order seen twice, out of order or after a crash is applied once.

Polling keeps a cursor per (account, stream): the newest ``updated_at`` seen, re-read with an
overlap (``[engine] order_overlap``) because platforms index late. The cursor only moves once
a whole pass has been ingested; an order that cannot be ingested is quarantined with the
reason and the pass goes on.

The same cursor discipline polls the customers an account lists (each resolved into the one
customer view, as an order's buyer is) and its listings (each listed variant whose SKU the
master catalogue knows is bound to the account and queued for a stock push; unknown SKUs are
reported, never added to the master: that is ``omnisdk catalog import``'s job). Their first
pass reads everything, as neither moves stock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from omnisdk.channel import Capability, OrderUpdate
from omnisdk.errors import (
    ChannelError,
    MappingError,
    OmnisdkError,
    ReauthorisationRequired,
)
from omnisdk.models import ChannelEvent, Customer, EventKind, Order, OrderStatus, Product
from omnisdk.store import Transaction
from omnisdk.store.documents import content_hash, to_document
from omnisdk.store.listings import OrderVersion
from omnisdk.store.types import as_utc
from omnisdk.sync.catalog.binding import bind_product, bind_variant
from omnisdk.sync.customers import ingest_customer, resolve_customer
from omnisdk.sync.stock import (
    Fired,
    apply_order_movements,
    in_transaction,
    mark_levels_changed,
)

if TYPE_CHECKING:
    from omnisdk.sync.engine import Engine

__all__ = [
    "CUSTOMERS_STREAM",
    "ORDERS_STREAM",
    "PRODUCTS_STREAM",
    "IngestResult",
    "SyncStats",
    "handle_events",
    "ingest_order",
    "poll_customers",
    "poll_orders",
    "poll_products",
    "record_order",
    "update_order",
]

logger = logging.getLogger("omnisdk.sync.intake")

ORDERS_STREAM = "orders"
"""The cursor stream name of order polling."""
CUSTOMERS_STREAM = "customers"
"""The cursor stream name of customer polling."""
PRODUCTS_STREAM = "products"
"""The cursor stream name of listing (product) polling."""
_UNKNOWN_SKUS_KEPT = 100


@dataclass(frozen=True)
class IngestResult:
    """What ingesting one order did.

    ``applied`` is False when the store holds a newer version (nothing changed);
    ``changed`` False when this exact version was ingested before. ``movements`` counts the
    ledger entries written; ``merges`` the customer merges made (ids for
    :meth:`~omnisdk.sync.engine.Engine.undo_customer_merge`). ``duplicate_delivery`` is True
    when a webhook delivery with the same id was processed before (nothing was done).
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


@dataclass(frozen=True)
class SyncStats:
    """What one poll of one account's stream did.

    Orders: ``seen`` orders were read; ``new`` were stored for the first time, ``updated``
    changed a stored order, ``unchanged`` were known already (or older than the stored
    version). Customers: ``new`` records became new customers, ``updated`` added to a known
    one, ``merged`` counts the merges they revealed. Products: ``seen`` listings were read;
    ``new`` listed variants were bound to the account, ``unchanged`` were bound already,
    ``unknown`` have a SKU the master catalogue does not have (``unknown_skus``, the first
    hundred). ``quarantined`` could not be ingested (kept with the reason), including records
    the channel could not map. ``cursor`` is where the next poll starts from (before the
    overlap); ``stopped`` is True when the account lost its authorisation.
    """

    account: str
    stream: str
    seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    cursor: datetime | None = None
    stopped: bool = False
    merged: int = 0
    unknown: int = 0
    unknown_skus: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """The counters, as the ``omnisdk_sync_finished`` hook receives them."""
        counts = {
            "seen": self.seen,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }
        if self.stream == CUSTOMERS_STREAM:
            counts["merged"] = self.merged
        elif self.stream == PRODUCTS_STREAM:
            counts["unknown"] = self.unknown
        return counts


# -- one order --------------------------------------------------------------------------------


def _ingest_in(engine: Engine, session: Transaction, order: Order, fired: Fired) -> IngestResult:
    """Ingest ``order`` inside ``session``; queue its hooks on ``fired``."""
    store = engine.store
    ref = order.channel_ref
    known = store.order_version(ref.account, ref.external_id, session=session)
    customer_id: str | None = None
    merges: tuple[int, ...] = ()
    if known is None:
        store.ensure_account(ref.account, ref.channel, session=session)
    if order.customer is not None and (known is None or _is_newer(order, known)):
        resolution = resolve_customer(
            store,
            session,
            order.customer,
            account=ref.account,
            context=f"order {ref.account}/{ref.external_id}",
            linked=known.customer_id if known is not None else None,
            fired=fired,
        )
        customer_id, merges = resolution.customer_id, resolution.merges
    # The store decides, under the order's row lock, whether this version is newer.
    saved = store.upsert_order(order, customer_id=customer_id, session=session)
    result = IngestResult(
        account=ref.account,
        external_id=ref.external_id,
        order_id=saved.order_id,
        created=saved.created,
        applied=saved.applied,
        changed=saved.changed,
        previous_status=saved.previous_status,
        status=saved.status,
    )
    if not (saved.applied and saved.changed):
        return result
    moves = apply_order_movements(engine, session, order)
    if ref.account in engine.stock_accounts():
        for sku, units in sorted(moves.taken.items()):
            store.add_seen(session, ref.account, sku, units)
    mark_levels_changed(
        engine, session, moves.levels, f"order {ref.account}/{ref.external_id}", fired
    )
    fired.add("omnisdk_order_received", order=order, is_new=saved.created)
    if saved.previous_status is not order.status:
        fired.add("omnisdk_order_status_changed", order=order, previous=saved.previous_status)
    return IngestResult(
        account=ref.account,
        external_id=ref.external_id,
        order_id=saved.order_id,
        created=saved.created,
        applied=True,
        changed=True,
        previous_status=saved.previous_status,
        status=order.status,
        customer_id=customer_id,
        movements=moves.movements,
        merges=merges,
    )


async def ingest_order(
    engine: Engine, order: Order, *, delivery_id: str | None = None
) -> IngestResult:
    """See :meth:`Engine.ingest_order`.

    With ``delivery_id`` (a webhook's), the delivery is remembered in the same transaction,
    and a redelivery does nothing.
    """
    store = engine.store
    fired = Fired()
    ref = order.channel_ref

    def work(session: Transaction) -> IngestResult:
        fired.calls.clear()
        if delivery_id is not None:
            store.ensure_account(ref.account, ref.channel, session=session)
            if not store.remember_delivery(ref.account, delivery_id, session=session):
                return IngestResult(
                    account=ref.account,
                    external_id=ref.external_id,
                    order_id=None,
                    created=False,
                    applied=False,
                    changed=False,
                    previous_status=None,
                    status=order.status,
                    duplicate_delivery=True,
                )
        return _ingest_in(engine, session, order, fired)

    result = await engine.db(in_transaction, store, work)
    fired.fire(engine)
    return result


def _as_order(order: Order | Mapping[str, Any]) -> Order:
    if isinstance(order, Order):
        return order
    try:
        return Order.model_validate(dict(order))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(order)'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise MappingError(f"not a valid order: {problems}", kind="order") from None


async def record_order(engine: Engine, order: Order | Mapping[str, Any]) -> IngestResult:
    """See :meth:`Engine.record_order`."""
    return await ingest_order(engine, _as_order(order))


async def update_order(
    engine: Engine,
    account: str,
    external_id: str,
    status: OrderStatus,
    *,
    tracking_number: str | None = None,
    carrier: str | None = None,
    note: str | None = None,
) -> IngestResult:
    """See :meth:`Engine.update_order`."""
    stored = await engine.db(engine.store.get_order, account, external_id)
    if stored is None:
        raise OmnisdkError(f"{account}: there is no order {external_id!r} in the store")
    channel = engine.channels.get(account)
    if channel is not None and Capability.WRITE_ORDERS in channel.capabilities:
        if await engine.is_stopped(account):
            raise OmnisdkError(f"{account}: the account needs re-authorisation")
        update = OrderUpdate(
            external_id=external_id,
            status=status,
            tracking_number=tracking_number,
            carrier=carrier,
            location=stored.order.pickup_location,
            note=note,
        )
        try:
            answer = await channel.update_order(update)
        except ReauthorisationRequired as exc:
            await engine.lost_authorisation(account, exc)
            raise
        if not answer.ok:
            raise OmnisdkError(
                f"{account}: the channel refused to move order {external_id} to "
                f"{status.value}: {answer.error or answer.code or 'refused'}"
            )
    current = stored.order
    # The next version: later than the stored one even if the clocks disagree.
    updated_at = max(engine.now(), as_utc(current.updated_at) + timedelta(microseconds=1))
    data = current.model_dump()
    data.update(status=status, updated_at=updated_at)
    if tracking_number is not None:
        data["tracking_number"] = tracking_number
    if note is not None:
        data["note"] = note
    return await ingest_order(engine, Order.model_validate(data))


# -- polling ----------------------------------------------------------------------------------


def _read_cursor(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        logger.warning("unreadable cursor %r: starting from the beginning", value)
        return None


async def quarantine(
    engine: Engine,
    account: str,
    kind: str,
    external_id: str | None,
    reason: str,
    payload: Any,
) -> None:
    """Keep a payload the engine could not process, with the reason (never raises)."""
    try:
        await engine.db(engine.store.quarantine, account, kind, external_id, reason, payload)
    except OmnisdkError:
        logger.exception("%s: could not quarantine %s %s (%s)", account, kind, external_id, reason)


def _later(newest: datetime | None, stamp: datetime) -> datetime:
    stamp = as_utc(stamp)
    return stamp if newest is None or stamp > newest else newest


def _is_newer(order: Order, known: OrderVersion) -> bool:
    """True when ``order`` is a later version than the stored one (or the same moment with
    other content)."""
    updated_at = as_utc(order.updated_at)
    if updated_at != known.updated_at:
        return updated_at > known.updated_at
    return content_hash(to_document(order)) != known.content_hash


def _already_ingested(engine: Engine, order: Order) -> bool:
    """True when the store holds this version of ``order`` or a newer one (a read only)."""
    ref = order.channel_ref
    known = engine.store.order_version(ref.account, ref.external_id)
    return known is not None and not _is_newer(order, known)


@dataclass
class _PollCounts:
    seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0

    def count(self, result: IngestResult) -> None:
        if result.created:
            self.new += 1
        elif result.changed:
            self.updated += 1
        else:
            self.unchanged += 1

    def stats(self, account: str, *, cursor: datetime | None, stopped: bool = False) -> SyncStats:
        return SyncStats(
            account=account,
            stream=ORDERS_STREAM,
            seen=self.seen,
            new=self.new,
            updated=self.updated,
            unchanged=self.unchanged,
            quarantined=self.quarantined,
            cursor=cursor,
            stopped=stopped,
        )


async def poll_orders(engine: Engine, account: str) -> SyncStats:
    """See :meth:`Engine.poll_orders`."""
    store = engine.store
    if await engine.is_stopped(account):
        return SyncStats(account=account, stream=ORDERS_STREAM, stopped=True)
    channel = engine.channel(account)
    channel.require(Capability.READ_ORDERS)
    settings = engine.config.engine
    cursor = _read_cursor(await engine.db(store.get_cursor, account, ORDERS_STREAM))
    since = (
        cursor - settings.order_overlap
        if cursor is not None
        else engine.now() - settings.initial_backfill
    )
    counts = _PollCounts()
    newest = cursor
    try:
        async for order in channel.stream_orders(updated_since=since):
            counts.seen += 1
            external_id = order.channel_ref.external_id
            try:
                if order.channel_ref.account != account:
                    raise MappingError(
                        f"the order says it is from account {order.channel_ref.account!r}",
                        channel=f"{channel.name}/{account}",
                        kind="order",
                        external_id=external_id,
                    )
                if await engine.db(_already_ingested, engine, order):
                    counts.unchanged += 1
                    newest = _later(newest, order.updated_at)
                    continue
                result = await ingest_order(engine, order)
            except (OmnisdkError, ValueError) as exc:
                counts.quarantined += 1
                logger.warning("%s: order %s quarantined: %s", account, external_id, exc)
                payload = order.raw if order.raw is not None else order.model_dump(mode="json")
                await quarantine(engine, account, "order", external_id, str(exc), payload)
            else:
                counts.count(result)
            newest = _later(newest, order.updated_at)
    except ReauthorisationRequired as exc:
        await engine.lost_authorisation(account, exc)
        stats = counts.stats(account, cursor=cursor, stopped=True)
        engine.fire(
            "omnisdk_sync_finished", account=account, stream=ORDERS_STREAM, stats=stats.counts()
        )
        return stats
    if newest is not None and newest != cursor:
        await engine.db(store.set_cursor, account, ORDERS_STREAM, newest.isoformat())
    stats = counts.stats(account, cursor=newest)
    engine.fire(
        "omnisdk_sync_finished", account=account, stream=ORDERS_STREAM, stats=stats.counts()
    )
    return stats


# -- customers and listings -------------------------------------------------------------------


@dataclass
class _StreamPass:
    """One pass over a customer or listing stream: the counters and the cursor it reached."""

    account: str
    stream: str
    cursor: datetime | None
    rejected_before: int
    newest: datetime | None = None
    seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    merged: int = 0
    unknown_skus: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.newest = self.cursor

    def saw(self, stamp: datetime | None) -> None:
        """A record changed at ``stamp`` was read (a record without a time leaves the cursor)."""
        if stamp is not None:
            self.newest = _later(self.newest, stamp)

    def stats(self, engine: Engine, *, stopped: bool = False) -> SyncStats:
        """The pass's :class:`SyncStats` (the channel's rejected records counted in)."""
        kind = _RECORD_KIND[self.stream]
        rejected = engine.rejections(self.account, kind) - self.rejected_before
        unknown = self.unknown_skus
        return SyncStats(
            account=self.account,
            stream=self.stream,
            seen=self.seen + rejected,
            new=self.new,
            updated=self.updated,
            unchanged=self.unchanged,
            quarantined=self.quarantined + rejected,
            cursor=self.cursor if stopped else self.newest,
            stopped=stopped,
            merged=self.merged,
            unknown=len(unknown),
            unknown_skus=tuple(unknown[:_UNKNOWN_SKUS_KEPT]),
        )


_RECORD_KIND = {CUSTOMERS_STREAM: "customer", PRODUCTS_STREAM: "product"}


async def _start_pass(
    engine: Engine, account: str, stream: str
) -> tuple[_StreamPass, datetime | None]:
    """The pass of ``stream`` and where it reads from (None: everything, the first time)."""
    cursor = _read_cursor(await engine.db(engine.store.get_cursor, account, stream))
    since = cursor - engine.config.engine.order_overlap if cursor is not None else None
    rejected = engine.rejections(account, _RECORD_KIND[stream])
    return _StreamPass(account, stream, cursor, rejected), since


async def _finish_pass(engine: Engine, done: _StreamPass, *, stopped: bool = False) -> SyncStats:
    """Move the cursor (a whole pass only), fire ``omnisdk_sync_finished``, return the stats."""
    if not stopped and done.newest is not None and done.newest != done.cursor:
        await engine.db(engine.store.set_cursor, done.account, done.stream, done.newest.isoformat())
    stats = done.stats(engine, stopped=stopped)
    engine.fire(
        "omnisdk_sync_finished", account=done.account, stream=done.stream, stats=stats.counts()
    )
    return stats


def _check_account(record: Customer | Product, account: str, kind: str, label: str) -> None:
    ref = record.channel_ref
    if ref is not None and ref.account != account:
        raise MappingError(
            f"the {kind} says it is from account {ref.account!r}",
            channel=label,
            kind=kind,
            external_id=ref.external_id,
        )


async def poll_customers(engine: Engine, account: str) -> SyncStats:
    """See :meth:`Engine.poll_customers`."""
    if await engine.is_stopped(account):
        return SyncStats(account=account, stream=CUSTOMERS_STREAM, stopped=True)
    channel = engine.channel(account)
    channel.require(Capability.READ_CUSTOMERS)
    done, since = await _start_pass(engine, account, CUSTOMERS_STREAM)
    try:
        async for customer in channel.stream_customers(updated_since=since):
            done.seen += 1
            ref = customer.channel_ref
            external_id = ref.external_id if ref is not None else None
            try:
                _check_account(customer, account, "customer", f"{channel.name}/{account}")
                resolution = await ingest_customer(engine, account, customer)
            except (OmnisdkError, ValueError) as exc:
                done.quarantined += 1
                logger.warning("%s: customer %s quarantined: %s", account, external_id, exc)
                payload = (
                    customer.raw if customer.raw is not None else customer.model_dump(mode="json")
                )
                await quarantine(engine, account, "customer", external_id, str(exc), payload)
            else:
                if resolution.created:
                    done.new += 1
                elif resolution.changed:
                    done.updated += 1
                else:
                    done.unchanged += 1
                done.merged += len(resolution.merges)
            done.saw(customer.updated_at)
    except ReauthorisationRequired as exc:
        await engine.lost_authorisation(account, exc)
        return await _finish_pass(engine, done, stopped=True)
    return await _finish_pass(engine, done)


@dataclass
class _Bound:
    """What binding one listing did (filled in the store thread)."""

    new: int = 0
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)


def _bind_listed(
    engine: Engine, account: str, listing: Product, claimed: dict[str, str | None]
) -> _Bound:
    """Bind the variants of ``listing`` whose SKU the master knows; one transaction.

    A new binding is queued for a stock push (when the account takes stock). The master
    catalogue is only read. A SKU another listing of this pass claimed is left to that one.
    """
    store = engine.store
    pushing = account in engine.stock_accounts()
    external_id = listing.channel_ref.external_id if listing.channel_ref is not None else None
    bound = _Bound()
    with store.session() as session:
        product_id: str | None = None
        for variant in listing.variants:
            if variant.sku in claimed and claimed[variant.sku] != external_id:
                logger.warning(
                    "%s: SKU %s is listed by %s and %s; only the first is bound",
                    account,
                    variant.sku,
                    claimed[variant.sku],
                    external_id,
                )
                continue
            claimed[variant.sku] = external_id
            master = store.get_variant(variant.sku, session=session)
            if master is None:
                bound.unknown.append(variant.sku)
                continue
            product_id = product_id or master.product_id
            if bind_variant(store, account, variant.sku, variant, session):
                bound.new += 1
                if pushing:
                    store.mark_dirty(session, account, variant.sku)
            else:
                bound.unchanged += 1
        if product_id is not None and external_id is not None:
            outcome = bind_product(store, account, product_id, external_id, session)
            if isinstance(outcome, str):
                logger.warning("%s: %s", account, outcome)
    return bound


async def poll_products(engine: Engine, account: str) -> SyncStats:
    """See :meth:`Engine.poll_products`."""
    if await engine.is_stopped(account):
        return SyncStats(account=account, stream=PRODUCTS_STREAM, stopped=True)
    channel = engine.channel(account)
    channel.require(Capability.READ_PRODUCTS)
    await engine.db(engine.store.ensure_account, account, channel.name)
    done, since = await _start_pass(engine, account, PRODUCTS_STREAM)
    claimed: dict[str, str | None] = {}
    try:
        async for listing in channel.stream_products(updated_since=since):
            done.seen += 1
            ref = listing.channel_ref
            external_id = ref.external_id if ref is not None else None
            try:
                _check_account(listing, account, "product", f"{channel.name}/{account}")
                bound = await engine.db(_bind_listed, engine, account, listing, claimed)
            except (OmnisdkError, ValueError) as exc:
                done.quarantined += 1
                logger.warning("%s: listing %s quarantined: %s", account, external_id, exc)
                payload = (
                    listing.raw if listing.raw is not None else listing.model_dump(mode="json")
                )
                await quarantine(engine, account, "product", external_id, str(exc), payload)
            else:
                done.new += bound.new
                done.unchanged += bound.unchanged
                done.unknown_skus.extend(bound.unknown)
            done.saw(listing.updated_at)
    except ReauthorisationRequired as exc:
        await engine.lost_authorisation(account, exc)
        return await _finish_pass(engine, done, stopped=True)
    if done.unknown_skus:
        logger.info(
            "%s: %d listed SKUs are not in the master catalogue (run `omnisdk catalog import` "
            "to add them): %s",
            account,
            len(done.unknown_skus),
            ", ".join(done.unknown_skus[:10]),
        )
    return await _finish_pass(engine, done)


# -- webhooks -------------------------------------------------------------------------------

_ORDER_EVENTS = frozenset(
    {EventKind.ORDER_CREATED, EventKind.ORDER_UPDATED, EventKind.ORDER_CANCELLED}
)


async def _handle_event(engine: Engine, account: str, event: ChannelEvent) -> None:
    store = engine.store
    if event.kind is EventKind.CHANNEL_DEAUTHORISED:
        await engine.lost_authorisation(account, f"the channel said so ({event.topic})")
        return
    if event.kind in _ORDER_EVENTS and event.order is not None:
        await ingest_order(engine, event.order, delivery_id=event.delivery_id)
        return
    if event.delivery_id is not None and not await engine.db(
        store.remember_delivery, account, event.delivery_id
    ):
        return  # a redelivery
    if event.kind in _ORDER_EVENTS and event.external_id is not None:
        if await engine.is_stopped(account):
            return  # polling fetches it once the account is authorised again
        channel = engine.channel(account)
        try:
            order = await channel.get_order(event.external_id)
        except ReauthorisationRequired as exc:
            await engine.lost_authorisation(account, exc)
            return
        await ingest_order(engine, order)
        return
    if event.kind is EventKind.STOCK_CHANGED:
        for level in event.stock:
            await engine.db(store.record_listed, account, level.sku, level.on_hand)


async def handle_events(engine: Engine, account: str, events: list[ChannelEvent]) -> None:
    """See :meth:`Engine.handle_events`."""
    for event in events:
        try:
            await _handle_event(engine, account, event)
        except (OmnisdkError, ValueError, ChannelError) as exc:
            logger.warning(
                "%s: webhook event %s (%s) quarantined: %s",
                account,
                event.delivery_id,
                event.topic,
                exc,
            )
            payload = event.raw if event.raw is not None else event.model_dump(mode="json")
            await quarantine(
                engine,
                account,
                "webhook",
                event.delivery_id or event.external_id,
                str(exc),
                payload,
            )
