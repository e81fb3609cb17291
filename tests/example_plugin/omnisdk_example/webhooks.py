"""Example webhook deliveries: the signature check and the events a delivery means.

Each delivery carries ``X-Example-Topic``, ``X-Example-Delivery`` (the same on a redelivery)
and ``X-Example-Signature``: base64 of HMAC-SHA256 of the raw body with the webhook secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from omnisdk import ChannelEvent, EventKind, WebhookRequest, WebhookVerificationError
from omnisdk_example.mapping import EVENT_KINDS

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TOPIC_HEADER",
    "events_from_delivery",
    "order_payload",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Example-Signature"
TOPIC_HEADER = "X-Example-Topic"
DELIVERY_HEADER = "X-Example-Delivery"


def sign(body: bytes, secret: str) -> str:
    """The ``X-Example-Signature`` value for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_signature(request: WebhookRequest, secret: str | None, *, where: str) -> None:
    """Raise WebhookVerificationError unless the delivery is signed with ``secret``.

    ``where`` names the channel account in the messages (``"example/main"``).
    """
    if secret is None:
        raise WebhookVerificationError(
            f"{where}: no webhook_secret configured, deliveries cannot be verified"
        )
    signature = request.header(SIGNATURE_HEADER)
    if not signature:
        raise WebhookVerificationError(f"{where}: the delivery has no {SIGNATURE_HEADER}")
    if not hmac.compare_digest(sign(request.body, secret), signature.strip()):
        raise WebhookVerificationError(f"{where}: {SIGNATURE_HEADER} does not match the body")


def events_from_delivery(
    request: WebhookRequest, *, channel: str, account: str
) -> list[ChannelEvent]:
    """One event per delivery; the whole envelope is kept as the event's ``raw``."""
    payload = json.loads(request.body)
    topic = request.header(TOPIC_HEADER) or payload["topic"]
    data = payload.get("data") or {}
    return [
        ChannelEvent(
            kind=EVENT_KINDS.get(topic, EventKind.OTHER),
            channel=channel,
            account=account,
            topic=topic,
            delivery_id=request.header(DELIVERY_HEADER),
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
