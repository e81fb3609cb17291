"""Example webhooks: check a delivery's signature, read its events and the record it carries.

Deliveries carry ``X-Example-Topic``, ``X-Example-Delivery`` (the delivery id, the same on a
redelivery) and ``X-Example-Signature``: base64 of HMAC-SHA256 of the raw body with the
webhook secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from pydantic import SecretStr

from omnisdk import ChannelEvent, EventKind, WebhookRequest, WebhookVerificationError

__all__ = [
    "EVENT_KINDS",
    "TOPICS",
    "order_payload",
    "parse_delivery",
    "signature",
    "verify_delivery",
]

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


def parse_delivery(request: WebhookRequest, *, channel: str, account: str) -> list[ChannelEvent]:
    """One event per delivery, left unmapped; the whole envelope is kept as the event's ``raw``.

    The channel's ``webhook_record`` (:func:`order_payload`) names the order the delivery
    carries, and the base class maps it into the event.
    """
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
            raw=payload,
        )
    ]


def order_payload(event: ChannelEvent) -> dict[str, Any] | None:
    """The raw order an ``order.*`` delivery carries whole in ``data`` (None otherwise)."""
    if not event.topic.startswith("order.") or event.raw is None:
        return None
    data = event.raw.get("data") or {}
    return data if isinstance(data, dict) else None
