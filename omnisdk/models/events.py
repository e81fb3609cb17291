"""Channel events: what a webhook (or a poll) says happened on a platform."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import Field

from omnisdk.models.base import CanonicalModel
from omnisdk.models.order import Order
from omnisdk.models.product import Product
from omnisdk.models.stock import StockLevel

__all__ = ["ChannelEvent", "EventKind"]


class EventKind(enum.StrEnum):
    """What happened on a channel."""

    ORDER_CREATED = "order_created"
    ORDER_UPDATED = "order_updated"
    ORDER_CANCELLED = "order_cancelled"
    PRODUCT_UPDATED = "product_updated"
    PRODUCT_DELETED = "product_deleted"
    STOCK_CHANGED = "stock_changed"
    CUSTOMER_UPDATED = "customer_updated"
    CHANNEL_DEAUTHORISED = "channel_deauthorised"
    """The merchant removed the app or revoked access: the account needs re-authorisation."""
    OTHER = "other"
    """A topic omnisdk does not act on; kept so nothing is silently dropped."""


class ChannelEvent(CanonicalModel):
    """One event parsed from a webhook delivery.

    Webhooks are hints: ``external_id`` says which object changed so the engine can fetch the
    truth; ``order``/``product``/``stock`` carry the canonical object when the payload held
    it whole. ``delivery_id`` is the platform's id of the delivery, remembered so a
    redelivery is a no-op. ``topic`` keeps the platform's own name for the event.
    """

    kind: EventKind
    channel: str
    account: str
    topic: str
    delivery_id: str | None = None
    external_id: str | None = None
    occurred_at: datetime | None = None
    order: Order | None = None
    product: Product | None = None
    stock: list[StockLevel] = Field(default_factory=list)
    raw: dict[str, Any] | None = Field(default=None, repr=False)
