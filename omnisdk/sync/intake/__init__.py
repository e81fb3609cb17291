"""Intake: what the channels sold, list and say, taken into the store.

Polling with cursors is the truth, webhooks are hints, and an app records the orders it took
itself; every order ends in :func:`~omnisdk.sync.intake.orders.ingest_order`. One module per
job:

====================  ==========================================================================
``polling``           what every poll shares: stream names, cursors, the pass, :class:`SyncStats`
``orders``            orders ingested (idempotent), recorded, updated and polled
``pages``             a page of orders ingested in one transaction, a few statements a page
``customers``         the customers an account lists, resolved into the one customer view
``listings``          the listings an account shows, bound to the master catalog by SKU
``webhook_events``    webhook events acted on (orders, deauthorisation, listed stock)
``webhook_batches``   many deliveries of one account taken in together (set-based)
====================  ==========================================================================
"""

from omnisdk.sync.intake.customers import poll_customers
from omnisdk.sync.intake.listings import poll_products
from omnisdk.sync.intake.orders import (
    IngestResult,
    ingest_order,
    ingest_orders,
    poll_orders,
    record_order,
    update_order,
)
from omnisdk.sync.intake.polling import CUSTOMERS_STREAM, ORDERS_STREAM, PRODUCTS_STREAM, SyncStats
from omnisdk.sync.intake.webhook_batches import EventBatch, handle_event_batch
from omnisdk.sync.intake.webhook_events import handle_events

__all__ = [
    "CUSTOMERS_STREAM",
    "ORDERS_STREAM",
    "PRODUCTS_STREAM",
    "EventBatch",
    "IngestResult",
    "SyncStats",
    "handle_event_batch",
    "handle_events",
    "ingest_order",
    "ingest_orders",
    "poll_customers",
    "poll_orders",
    "poll_products",
    "record_order",
    "update_order",
]
