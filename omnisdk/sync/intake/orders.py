"""Orders: every path (polling, webhooks, the app's own orders) ends in :func:`ingest_orders`.

One transaction per page of orders (a poll's :data:`ORDERS_PAGE`, or one order) saves them (the
store ignores a version older than the one it holds), resolves their customers, moves stock to
where each order's status says and marks the pushes that follow; a version the store holds
already is found by a read and costs no write. The hooks fire after the commit. So the same
order seen twice, out of order or after a crash is applied once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from omnisdk.channel import Capability, OrderUpdate
from omnisdk.errors import (
    BadRequest,
    MappingError,
    ReauthorisationRequired,
    UnknownRecord,
    UsageError,
)
from omnisdk.models import Order, OrderStatus
from omnisdk.store import NotificationKey, Transaction
from omnisdk.store.records import OrderVersion
from omnisdk.store.types import as_utc
from omnisdk.sync.accounts import is_stopped, lose_authorisation
from omnisdk.sync.context import SyncContext
from omnisdk.sync.intake.pages import IngestResult, ingest_page_in, is_newer
from omnisdk.sync.intake.polling import (
    ORDERS_STREAM,
    RECORD_ERRORS,
    SyncStats,
    later,
    quarantine_record,
    read_cursor,
)
from omnisdk.sync.notify import deliver
from omnisdk.sync.sellable import release_window_holds
from omnisdk.sync.transactions import Fired, in_transaction

__all__ = [
    "ORDERS_PAGE",
    "IngestResult",
    "ingest_order",
    "ingest_orders",
    "poll_orders",
    "record_order",
    "update_order",
]

logger = logging.getLogger("omnisdk.sync.intake")


ORDERS_PAGE = 100
"""Orders a poll ingests per transaction."""


def _unchanged(order: Order, known: OrderVersion) -> IngestResult:
    """The result of an order whose version (or a newer one) the store holds already."""
    ref = order.channel_ref
    newer_stored = as_utc(order.updated_at) < known.updated_at
    return IngestResult(
        account=ref.account,
        external_id=ref.external_id,
        order_id=known.order_id,
        created=False,
        applied=not newer_stored,
        changed=False,
        previous_status=known.status,
        status=known.status or order.status,
    )


async def ingest_orders(
    context: SyncContext, orders: Sequence[Order]
) -> list[IngestResult | Exception]:
    """Ingest a page of orders: what :func:`ingest_order` does to each, in one transaction.

    Orders whose version the store holds already (or a newer one) are found with one read
    and cost no write at all. The others are ingested together (see
    :mod:`~omnisdk.sync.intake.pages`); their hooks fire after the commit, order by order.
    If the page fails, each of its orders is ingested on its own, so one bad order does not
    keep the others out: its place in the list holds the error that stopped it.
    """
    store = context.store
    refs = [(order.channel_ref.account, order.channel_ref.external_id) for order in orders]
    known = await context.run(store.order_versions, refs)
    results: list[IngestResult | Exception | None] = [None] * len(orders)
    pending: list[int] = []
    for index, (order, ref) in enumerate(zip(orders, refs, strict=True)):
        stored = known.get(ref)
        try:
            same = stored is not None and not is_newer(
                order, stored.updated_at, stored.content_hash
            )
        except RECORD_ERRORS:  # e.g. its raw payload nests too deep to dump
            same = False  # then ingested, and failing there quarantined, on its own
        if same:
            assert stored is not None
            results[index] = _unchanged(order, stored)
        else:
            pending.append(index)
    if pending:
        page = [orders[index] for index in pending]

        def work(session: Transaction) -> list[tuple[IngestResult, Fired]]:
            return ingest_page_in(context, session, page)

        try:
            entries = await context.run(in_transaction, store, work)
        except RECORD_ERRORS as exc:
            if len(pending) == 1:
                results[pending[0]] = exc
            else:
                logger.info(
                    "a page of %d orders failed (%s); ingesting them one by one", len(pending), exc
                )
                for index in pending:
                    results[index] = (await ingest_orders(context, [orders[index]]))[0]
        else:
            notify: dict[NotificationKey, Order] = {}
            for index, (result, fired) in zip(pending, entries, strict=True):
                notify.update(fired.notifications)
                fired.fire(context)
                results[index] = result
            await deliver(context, list(notify), notify)
    return [result for result in results if result is not None]


async def ingest_order(
    context: SyncContext, order: Order, *, delivery_id: str | None = None
) -> IngestResult:
    """See :meth:`Engine.ingest_order`.

    With ``delivery_id`` (a webhook's), the delivery is remembered in the same transaction,
    and a redelivery does nothing. Without, :func:`ingest_orders` of a page of one.
    """
    if delivery_id is None:
        outcome = (await ingest_orders(context, [order]))[0]
        if not isinstance(outcome, IngestResult):
            raise outcome
        return outcome
    store = context.store
    ref = order.channel_ref

    def work(session: Transaction) -> tuple[IngestResult, Fired]:
        store.ensure_account(ref.account, ref.channel, session=session)
        if not store.remember_delivery(ref.account, delivery_id, session=session):
            duplicate = IngestResult(
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
            return duplicate, Fired()
        return ingest_page_in(context, session, [order])[0]

    result, fired = await context.run(in_transaction, store, work)
    fired.fire(context)
    await deliver(context, list(fired.notifications), fired.notifications)
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


@dataclass
class _PollCounts:
    rejected_before: int = 0
    """The channel's rejections of ``order`` records when the pass started: the orders it
    could not map are quarantined by the channel, never seen here, and counted from it."""
    rejected: int = 0
    seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0

    def close(self, context: SyncContext, account: str) -> None:
        """Count in the orders the channel rejected during the pass."""
        self.rejected = context.rejections(account, "order") - self.rejected_before

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
            seen=self.seen + self.rejected,
            new=self.new,
            updated=self.updated,
            unchanged=self.unchanged,
            quarantined=self.quarantined + self.rejected,
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
    counts = _PollCounts(rejected_before=context.rejections(account, "order"))
    started = context.now()
    newest = cursor
    page: list[Order] = []

    async def ingest_page() -> None:
        taken, page[:] = list(page), []
        if not taken:
            return
        for order, result in zip(taken, await ingest_orders(context, taken), strict=True):
            if isinstance(result, IngestResult):
                counts.count(result)
            else:
                counts.quarantined += 1
                external_id = order.channel_ref.external_id
                await quarantine_record(context, account, "order", external_id, order, result)

    try:
        async for order in channel.stream_orders(updated_since=since):
            counts.seen += 1
            newest = later(newest, order.updated_at)
            if order.channel_ref.account != account:
                wrong = MappingError(
                    f"the order says it is from account {order.channel_ref.account!r}",
                    channel=f"{channel.name}/{account}",
                    kind="order",
                    external_id=order.channel_ref.external_id,
                )
                counts.quarantined += 1
                await quarantine_record(
                    context, account, "order", order.channel_ref.external_id, order, wrong
                )
                continue
            page.append(order)
            if len(page) >= ORDERS_PAGE:
                await ingest_page()
        await ingest_page()
    except ReauthorisationRequired as exc:
        await ingest_page()  # what was read before the refusal is ingested, as it came
        await lose_authorisation(context, account, exc)
        counts.close(context, account)
        stats = counts.stats(account, cursor=cursor, stopped=True)
        context.fire(
            "omnisdk_sync_finished", account=account, stream=ORDERS_STREAM, stats=stats.counts()
        )
        return stats
    if newest is not None and newest != cursor:
        await context.run(store.set_cursor, account, ORDERS_STREAM, newest.isoformat())
    # Orders placed before the poll started are in it (platforms that list orders late are
    # covered by the overlap of the next polls, not here): holds of writes made before go.
    released = await context.run(release_window_holds, context, account, started)
    counts.close(context, account)
    stats = dataclasses.replace(counts.stats(account, cursor=newest), released=len(released))
    context.fire(
        "omnisdk_sync_finished", account=account, stream=ORDERS_STREAM, stats=stats.counts()
    )
    return stats
