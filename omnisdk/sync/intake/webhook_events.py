"""Webhook events: hints acted on at once (orders ingested or fetched, a deauthorisation
stops the account, listed stock recorded). A redelivered event is a no-op; one that cannot be
processed is quarantined and the others go on. Polling stays the truth."""

from __future__ import annotations

import functools
import logging

from omnisdk.errors import ReauthorisationRequired
from omnisdk.models import ChannelEvent, EventKind
from omnisdk.sync.accounts import is_stopped, lose_authorisation
from omnisdk.sync.context import SyncContext
from omnisdk.sync.intake.orders import ingest_order
from omnisdk.sync.intake.polling import RECORD_ERRORS, quarantine
from omnisdk.sync.sellable import record_listed
from omnisdk.sync.transactions import in_transaction

__all__ = ["handle_events"]

logger = logging.getLogger("omnisdk.sync.intake")


_ORDER_EVENTS = frozenset(
    {EventKind.ORDER_CREATED, EventKind.ORDER_UPDATED, EventKind.ORDER_CANCELLED}
)


async def _handle_event(context: SyncContext, account: str, event: ChannelEvent) -> None:
    store = context.store
    if event.kind is EventKind.CHANNEL_DEAUTHORISED:
        await lose_authorisation(context, account, f"the channel said so ({event.topic})")
        return
    if event.kind in _ORDER_EVENTS and event.order is not None:
        await ingest_order(context, event.order, delivery_id=event.delivery_id)
        return
    if event.delivery_id is not None and not await context.run(
        store.remember_delivery, account, event.delivery_id
    ):
        return  # a redelivery
    if event.kind in _ORDER_EVENTS and event.external_id is not None:
        if await is_stopped(context, account):
            return  # polling fetches it once the account is authorised again
        channel = context.channel(account)
        try:
            order = await channel.get_order(event.external_id)
        except ReauthorisationRequired as exc:
            await lose_authorisation(context, account, exc)
            return
        await ingest_order(context, order)
        return
    if event.kind is EventKind.STOCK_CHANGED:
        figures: dict[str, int] = {}
        for level in event.stock:
            figures[level.sku] = figures.get(level.sku, 0) + level.on_hand
        if figures:
            await context.run(
                in_transaction,
                store,
                functools.partial(record_listed, context, account=account, figures=figures),
            )


async def handle_events(context: SyncContext, account: str, events: list[ChannelEvent]) -> None:
    """See :meth:`Engine.handle_events`."""
    for event in events:
        try:
            await _handle_event(context, account, event)
        except RECORD_ERRORS as exc:
            logger.warning(
                "%s: webhook event %s (%s) quarantined: %s",
                account,
                event.delivery_id,
                event.topic,
                exc,
            )
            payload = event.raw if event.raw is not None else event.model_dump(mode="json")
            await quarantine(
                context,
                account,
                "webhook",
                event.delivery_id or event.external_id,
                str(exc),
                payload,
            )
