"""Example webhooks: check a delivery's signature, read its events.

Deliveries carry ``X-Example-Topic``, ``X-Example-Delivery`` (the delivery id, the same on a
redelivery) and ``X-Example-Signature``: base64 of HMAC-SHA256 of the raw body with the
webhook secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from omnisdk import ChannelEvent, EventKind, Order, WebhookRequest, WebhookVerificationError

__all__ = ["EVENT_KINDS", "TOPICS", "parse_delivery", "signature", "verify_delivery"]

TOPICS = ("order.created", "order.updated", "order.cancelled")
"""The topics the platform delivers."""

EVENT_KINDS = {
    "order.created": EventKind.ORDER_CREATED,
    "order.updated": EventKind.ORDER_UPDATED,
    "order.cancelled": EventKind.ORDER_CANCELLED,
}
"""Each topic's canonical event kind (anything else is ``EventKind.OTHER``)."""


def signature(secret: str, body: bytes) -> str:
    """The ``X-Example-Signature`` of ``body``: base64 of HMAC-SHA256 with ``secret``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_delivery(request: WebhookRequest, secret: SecretStr | None, *, where: str) -> None:
    """Raise :class:`WebhookVerificationError` unless ``request`` is signed with ``secret``.

    ``where`` (``channel/account``) starts every message.
    """
    if secret is None:
        raise WebhookVerificationError(
            f"{where}: no webhook_secret configured, deliveries cannot be verified"
        )
    sent = request.header("X-Example-Signature")
    if not sent:
        raise WebhookVerificationError(f"{where}: the delivery has no X-Example-Signature")
    if not hmac.compare_digest(signature(secret.get_secret_value(), request.body), sent.strip()):
        raise WebhookVerificationError(f"{where}: X-Example-Signature does not match the body")


def parse_delivery(
    request: WebhookRequest,
    *,
    channel: str,
    account: str,
    map_order: Callable[[dict[str, Any]], Order],
) -> list[ChannelEvent]:
    """One event per delivery; the order travels whole in ``data`` (mapped by ``map_order``)."""
    payload = json.loads(request.body)
    topic = request.header("X-Example-Topic") or payload["topic"]
    data = payload.get("data") or {}
    return [
        ChannelEvent(
            kind=EVENT_KINDS.get(topic, EventKind.OTHER),
            channel=channel,
            account=account,
            topic=topic,
            delivery_id=request.header("X-Example-Delivery"),
            external_id=str(data["id"]) if "id" in data else None,
            occurred_at=payload.get("created_at"),
            order=map_order(data) if topic.startswith("order.") else None,
            raw=payload,
        )
    ]
