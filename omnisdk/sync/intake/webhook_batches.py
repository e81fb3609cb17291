"""Webhook deliveries of one account taken in together: set-based intake for a busy account.

:func:`~omnisdk.sync.intake.webhook_events.handle_events` acts on one delivery's events, one
event at a time: a transaction per order. An account selling hundreds of orders a minute
sends as many deliveries; the scale-out runtime buffers them per account and hands the
buffer to :func:`handle_event_batch` whole, which does for all of them what the one-by-one
path does, in a few statements:

- a delivery seen twice in the batch, or remembered from before, is dropped (one query);
- the orders the deliveries carry are ingested as one page
  (:func:`~omnisdk.sync.intake.pages.ingest_page_in`) in the transaction that remembers their
  delivery ids (one statement), so a redelivery, or the same batch taken again after a
  worker died mid-way, changes nothing;
- deliveries that only name an order (a hint) are fetched one by one (each distinct order
  once) when there are at most ``max_fetches`` of them and ingested as one page; with more,
  the batch asks for a poll of the account instead (:attr:`EventBatch.poll_needed`);
- every other event (a deauthorisation, listed stock) goes the one-by-one way.

A page that cannot be ingested whole is taken event by event, as the one-by-one path does,
so one bad order is quarantined and the others go in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from omnisdk.errors import OmnisdkError, ReauthorisationRequired
from omnisdk.models import ChannelEvent, EventKind, Order
from omnisdk.store import Transaction
from omnisdk.sync.accounts import is_stopped, lose_authorisation
from omnisdk.sync.context import SyncContext
from omnisdk.sync.intake.orders import ingest_orders
from omnisdk.sync.intake.pages import IngestResult, ingest_page_in
from omnisdk.sync.intake.polling import RECORD_ERRORS
from omnisdk.sync.intake.webhook_events import handle_events
from omnisdk.sync.notify import deliver
from omnisdk.sync.transactions import Fired, in_transaction

__all__ = ["MAX_FETCHES", "EventBatch", "handle_event_batch"]

logger = logging.getLogger("omnisdk.sync.intake")

MAX_FETCHES = 200
"""Order hints of a batch fetched one by one at most; past this the account is polled.
As many as a drain's batch takes: a hint is fetched as the one-by-one path fetches it, so an
order a poll misses (a platform that pages by offset while orders change) still comes in."""

_ORDER_EVENTS = frozenset(
    {EventKind.ORDER_CREATED, EventKind.ORDER_UPDATED, EventKind.ORDER_CANCELLED}
)


@dataclass
class EventBatch:
    """What :func:`handle_event_batch` did with a batch of events."""

    events: int = 0
    """Events in the batch."""
    redelivered: int = 0
    """Events dropped as deliveries seen before (in the batch or earlier)."""
    ingested: int = 0
    """Orders ingested as a page (carried by the deliveries, or fetched)."""
    fetched: int = 0
    """Orders fetched because a delivery only named them."""
    one_by_one: int = 0
    """Events taken the one-by-one way."""
    poll_needed: bool = False
    """True when the account should be polled now: more hints than fetches allowed, or a
    fetch failed (the caller queues the poll; webhooks are hints)."""


def _unique(
    context: SyncContext, account: str, events: list[ChannelEvent], batch: EventBatch
) -> list[ChannelEvent]:
    """The events of deliveries neither repeated in the batch nor remembered (one query)."""
    ids: set[str] = set()
    unique = []
    for event in events:
        if event.delivery_id is not None:
            if event.delivery_id in ids:
                batch.redelivered += 1
                continue
            ids.add(event.delivery_id)
        unique.append(event)
    done = context.store.processed_deliveries(account, ids)
    batch.redelivered += len(done)
    return [event for event in unique if event.delivery_id not in done]


def _carries_order(account: str, event: ChannelEvent) -> bool:
    return (
        event.kind in _ORDER_EVENTS
        and event.order is not None
        and event.delivery_id is not None
        and event.order.channel_ref.account == account
    )


def _is_hint(event: ChannelEvent) -> bool:
    return event.kind in _ORDER_EVENTS and event.order is None and event.external_id is not None


async def handle_event_batch(
    context: SyncContext,
    account: str,
    events: list[ChannelEvent],
    *,
    max_fetches: int = MAX_FETCHES,
) -> EventBatch:
    """Act on the events of many webhook deliveries of ``account`` at once (module doc)."""
    batch = EventBatch(events=len(events))
    unique = await context.run(_unique, context, account, events, batch)
    carrying = [event for event in unique if _carries_order(account, event)]
    hints = [event for event in unique if _is_hint(event)]
    taken = {id(event) for event in (*carrying, *hints)}
    rest = [event for event in unique if id(event) not in taken]
    if carrying:
        await _ingest_carried(context, account, carrying, batch)
    if hints:
        await _take_hints(context, account, hints, batch, max_fetches)
    if rest:
        batch.one_by_one += len(rest)
        await handle_events(context, account, rest)
    return batch


async def _ingest_carried(
    context: SyncContext, account: str, events: list[ChannelEvent], batch: EventBatch
) -> None:
    """The orders the deliveries carry, as one page, with their delivery ids remembered."""
    store = context.store

    def work(session: Transaction) -> list[tuple[IngestResult, Fired]]:
        orders: list[Order] = []
        for event in events:
            assert event.order is not None
            orders.append(event.order)
        ref = orders[0].channel_ref
        store.ensure_account(ref.account, ref.channel, session=session)
        fresh = store.remember_deliveries(
            account, [event.delivery_id for event in events if event.delivery_id], session=session
        )
        page = [
            order for event, order in zip(events, orders, strict=True) if event.delivery_id in fresh
        ]
        return ingest_page_in(context, session, page) if page else []

    try:
        entries = await context.run(in_transaction, store, work)
    except RECORD_ERRORS as exc:
        logger.info(
            "%s: a batch of %d webhook orders failed (%s); taking them one by one",
            account,
            len(events),
            exc,
        )
        batch.one_by_one += len(events)
        await handle_events(context, account, events)
        return
    notify = {}
    for _, fired in entries:
        notify.update(fired.notifications)
        fired.fire(context)
    batch.ingested += len(entries)
    await deliver(context, list(notify), notify)


async def _take_hints(
    context: SyncContext,
    account: str,
    hints: list[ChannelEvent],
    batch: EventBatch,
    max_fetches: int,
) -> None:
    """Fetch the orders the hints name (one page ingested), or ask for a poll."""
    wanted = sorted({event.external_id for event in hints if event.external_id is not None})
    if len(wanted) > max_fetches:
        batch.poll_needed = True
        return
    if await is_stopped(context, account):
        return  # polling fetches them once the account is authorised again
    ids = [event.delivery_id for event in hints if event.delivery_id is not None]
    await context.run(context.store.remember_deliveries, account, ids)
    channel = context.channel(account)
    orders: list[Order] = []
    for external_id in wanted:
        try:
            orders.append(await channel.get_order(external_id))
        except ReauthorisationRequired as exc:
            await lose_authorisation(context, account, exc)
            return
        except OmnisdkError as exc:  # the poll finds it
            logger.warning("%s: fetching order %s failed: %s", account, external_id, exc)
            batch.poll_needed = True
    batch.fetched += len(orders)
    if orders:
        results = await ingest_orders(context, orders)
        batch.ingested += sum(1 for result in results if isinstance(result, IngestResult))
        if any(not isinstance(result, IngestResult) for result in results):
            batch.poll_needed = True
