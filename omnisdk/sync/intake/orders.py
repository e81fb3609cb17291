"""Orders: every path (polling, webhooks, the app's own orders) ends in :func:`ingest_order`.

One transaction saves the order (the store ignores a version older than the one it holds),
resolves its customer, moves stock to where the order's status says and marks the pushes that
follow. The hooks fire after the commit. So the same order seen twice, out of order or after a
crash is applied once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from omnisdk.channel import Capability, OrderUpdate
from omnisdk.errors import (
    BadRequest,
    MappingError,
    OmnisdkError,
    ReauthorisationRequired,
    UnknownRecord,
    UsageError,
)
from omnisdk.models import Order, OrderStatus
from omnisdk.store import Transaction
from omnisdk.store.documents import content_hash, to_document
from omnisdk.store.listings import OrderVersion
from omnisdk.store.types import as_utc
from omnisdk.sync.accounts import is_stopped, lose_authorisation
from omnisdk.sync.context import SyncContext
from omnisdk.sync.customers import resolve_customer
from omnisdk.sync.intake.polling import (
    ORDERS_STREAM,
    SyncStats,
    later,
    quarantine_record,
    read_cursor,
)
from omnisdk.sync.sellable import CLOCK_MARGIN, placed_span, release_window_holds
from omnisdk.sync.stock import apply_order_movements, mark_levels_changed
from omnisdk.sync.transactions import Fired, in_transaction

__all__ = [
    "IngestResult",
    "ingest_order",
    "poll_orders",
    "record_order",
    "update_order",
]

logger = logging.getLogger("omnisdk.sync.intake")


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


def _ingest_in(
    context: SyncContext, session: Transaction, order: Order, fired: Fired
) -> IngestResult:
    """Ingest ``order`` inside ``session``; queue its hooks on ``fired``."""
    store = context.store
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
    moves = apply_order_movements(context, session, order)
    if ref.account in context.stock_accounts():
        recent_after = context.now() - context.config.engine.velocity_window
        for sku, units in sorted(moves.taken.items()):
            store.add_seen(
                session,
                ref.account,
                sku,
                units,
                recent_after=recent_after,
                overwritten_at=placed_span(order.created_at),
            )
    mark_levels_changed(
        context, session, moves.levels, f"order {ref.account}/{ref.external_id}", fired
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
    context: SyncContext, order: Order, *, delivery_id: str | None = None
) -> IngestResult:
    """See :meth:`Engine.ingest_order`.

    With ``delivery_id`` (a webhook's), the delivery is remembered in the same transaction,
    and a redelivery does nothing.
    """
    store = context.store
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
        return _ingest_in(context, session, order, fired)

    result = await context.run(in_transaction, store, work)
    fired.fire(context)
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


async def record_order(context: SyncContext, order: Order | Mapping[str, Any]) -> IngestResult:
    """See :meth:`Engine.record_order`."""
    return await ingest_order(context, _as_order(order))


async def update_order(
    context: SyncContext,
    account: str,
    external_id: str,
    status: OrderStatus,
    *,
    tracking_number: str | None = None,
    carrier: str | None = None,
    note: str | None = None,
) -> IngestResult:
    """See :meth:`Engine.update_order`."""
    stored = await context.run(context.store.get_order, account, external_id)
    if stored is None:
        raise UnknownRecord(f"{account}: there is no order {external_id!r} in the store")
    channel = context.channels.get(account)
    if channel is not None and Capability.WRITE_ORDERS in channel.capabilities:
        if await is_stopped(context, account):
            raise UsageError(f"{account}: the account needs re-authorisation")
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
            await lose_authorisation(context, account, exc)
            raise
        if not answer.ok:
            raise BadRequest(
                f"{account}: the channel refused to move order {external_id} to "
                f"{status.value}: {answer.error or answer.code or 'refused'}"
            )
    current = stored.order
    # The next version: later than the stored one even if the clocks disagree.
    updated_at = max(context.now(), as_utc(current.updated_at) + timedelta(microseconds=1))
    data = current.model_dump()
    data.update(status=status, updated_at=updated_at)
    if tracking_number is not None:
        data["tracking_number"] = tracking_number
    if note is not None:
        data["note"] = note
    return await ingest_order(context, Order.model_validate(data))


def _is_newer(order: Order, known: OrderVersion) -> bool:
    """True when ``order`` is a later version than the stored one (or the same moment with
    other content)."""
    updated_at = as_utc(order.updated_at)
    if updated_at != known.updated_at:
        return updated_at > known.updated_at
    return content_hash(to_document(order)) != known.content_hash


def _already_ingested(context: SyncContext, order: Order) -> bool:
    """True when the store holds this version of ``order`` or a newer one (a read only)."""
    ref = order.channel_ref
    known = context.store.order_version(ref.account, ref.external_id)
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


async def poll_orders(context: SyncContext, account: str) -> SyncStats:
    """See :meth:`Engine.poll_orders`."""
    store = context.store
    if await is_stopped(context, account):
        return SyncStats(account=account, stream=ORDERS_STREAM, stopped=True)
    channel = context.channel(account)
    channel.require(Capability.READ_ORDERS)
    settings = context.config.engine
    cursor = read_cursor(await context.run(store.get_cursor, account, ORDERS_STREAM))
    since = (
        cursor - settings.order_overlap
        if cursor is not None
        else context.now() - settings.initial_backfill
    )
    counts = _PollCounts()
    started = context.now()
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
                if await context.run(_already_ingested, context, order):
                    counts.unchanged += 1
                    newest = later(newest, order.updated_at)
                    continue
                result = await ingest_order(context, order)
            except (OmnisdkError, ValueError) as exc:
                counts.quarantined += 1
                await quarantine_record(context, account, "order", external_id, order, exc)
            else:
                counts.count(result)
            newest = later(newest, order.updated_at)
    except ReauthorisationRequired as exc:
        await lose_authorisation(context, account, exc)
        stats = counts.stats(account, cursor=cursor, stopped=True)
        context.fire(
            "omnisdk_sync_finished", account=account, stream=ORDERS_STREAM, stats=stats.counts()
        )
        return stats
    if newest is not None and newest != cursor:
        await context.run(store.set_cursor, account, ORDERS_STREAM, newest.isoformat())
    await context.run(release_window_holds, context, account, started - CLOCK_MARGIN)
    stats = counts.stats(account, cursor=newest)
    context.fire(
        "omnisdk_sync_finished", account=account, stream=ORDERS_STREAM, stats=stats.counts()
    )
    return stats
