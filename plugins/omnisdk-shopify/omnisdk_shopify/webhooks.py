"""Shopify webhooks: signature check, redelivery de-duplication, topics as canonical events.

Shopify signs each delivery with ``X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(app secret,
raw body))``. The check runs on the exact bytes received (a body parsed and re-serialised no
longer matches) and compares in constant time. A delivery is retried with the same
``X-Shopify-Webhook-Id``; :class:`RecentDeliveries` remembers recent ids so a redelivery
yields no events twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from collections import OrderedDict

from omnisdk.errors import WebhookVerificationError
from omnisdk.models import EventKind

__all__ = [
    "SIGNATURE_HEADER",
    "TOPIC_EVENTS",
    "TOPIC_HEADER",
    "WEBHOOK_ID_HEADER",
    "RecentDeliveries",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"
EVENT_ID_HEADER = "x-shopify-event-id"
TRIGGERED_AT_HEADER = "x-shopify-triggered-at"
SHOP_HEADER = "x-shopify-shop-domain"

TOPIC_EVENTS: dict[str, EventKind] = {
    "orders/create": EventKind.ORDER_CREATED,
    "orders/updated": EventKind.ORDER_UPDATED,
    "orders/paid": EventKind.ORDER_UPDATED,
    "orders/fulfilled": EventKind.ORDER_UPDATED,
    "orders/partially_fulfilled": EventKind.ORDER_UPDATED,
    "orders/cancelled": EventKind.ORDER_CANCELLED,
    "products/create": EventKind.PRODUCT_UPDATED,
    "products/update": EventKind.PRODUCT_UPDATED,
    "products/delete": EventKind.PRODUCT_DELETED,
    "inventory_levels/update": EventKind.STOCK_CHANGED,
    "customers/create": EventKind.CUSTOMER_UPDATED,
    "customers/update": EventKind.CUSTOMER_UPDATED,
    "app/uninstalled": EventKind.CHANNEL_DEAUTHORISED,
}
"""Topics omnisdk acts on and the event each becomes; any other topic is ``EventKind.OTHER``."""


def sign(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_signature(body: bytes, signature: str | None, secret: str) -> None:
    """Raise :class:`~omnisdk.errors.WebhookVerificationError` unless ``signature`` is
    Shopify's HMAC of exactly ``body`` under ``secret`` (compared in constant time)."""
    if not secret:
        raise WebhookVerificationError("shopify: no client_secret configured to verify webhooks")
    if not signature:
        raise WebhookVerificationError("shopify: webhook has no X-Shopify-Hmac-Sha256 header")
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("shopify: X-Shopify-Hmac-Sha256 is not base64") from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise WebhookVerificationError(
            "shopify: webhook signature does not match the body (forged, altered or "
            "re-serialised, or signed with another app's secret)"
        )


class RecentDeliveries:
    """A bounded, thread-safe memory of webhook ids already turned into events."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, delivery_id: str) -> bool:
        """True the first time ``delivery_id`` is seen; False for a redelivery."""
        with self._lock:
            if delivery_id in self._seen:
                self._seen.move_to_end(delivery_id)
                return False
            self._seen[delivery_id] = None
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return True
