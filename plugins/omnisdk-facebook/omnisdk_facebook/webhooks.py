"""Meta webhooks: the subscription handshake, ``X-Hub-Signature-256``, Messenger messages.

Meta confirms a callback URL with ``GET ?hub.mode=subscribe&hub.challenge=N&hub.verify_token=T``
(answer 200 with ``N`` verbatim when ``T`` is ours, else 403), then POSTs JSON deliveries
signed ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``. Deliveries
may come batched, twice, or out of order.

No delivery is about the catalog or an order, so the engine subscribes to nothing; these
functions serve the app that takes **chat orders** (Messenger, Page comments): it verifies a
delivery, reads its messages (:func:`messages`) and records the order it agrees with the buyer
through ``Engine.record_order`` (see :mod:`omnisdk_facebook.chat`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omnisdk.errors import WebhookBodyError, WebhookVerificationError
from omnisdk.models import MAX_QUANTITY

__all__ = [
    "SIGNATURE_HEADER",
    "ChatMessage",
    "answer_challenge",
    "messages",
    "signature",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"
"""The header carrying ``sha256=<hex>`` of the raw body."""


def signature(app_secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(key=app_secret, msg=body)>``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` exactly as received (constant-time comparison)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(app_secret, body), header.strip().lower())


def answer_challenge(query: Mapping[str, str], verify_token: str | None) -> str:
    """The handshake answer body: ``hub.challenge`` when mode and verify token are right."""
    if not verify_token:
        raise WebhookVerificationError("no verify_token configured: the handshake cannot pass")
    if query.get("hub.mode") != "subscribe":
        raise WebhookVerificationError("hub.mode is not subscribe")
    given = query.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        raise WebhookVerificationError("hub.verify_token does not match")
    challenge = query.get("hub.challenge")
    if not challenge or len(challenge) > 256:
        raise WebhookVerificationError("hub.challenge is missing")
    return challenge


@dataclass(frozen=True)
class ChatMessage:
    """One Messenger message of a delivery: who wrote to which Page, when, and what.

    ``payload`` is the developer payload of a quick reply or postback (an order button of
    the merchant's chat flow puts the agreed lines there); None for plain text.
    """

    page_id: str
    sender_id: str
    mid: str
    sent_at: datetime
    text: str | None
    payload: str | None

    def order_lines(self) -> list[tuple[str, int]]:
        """``(sku, quantity)`` lines of an order payload ``{"order": [{"retailer_id",
        "quantity"}]}``; empty for any other message."""
        if not self.payload:
            return []
        try:
            body = json.loads(self.payload)
        except (ValueError, RecursionError):  # not JSON, or absurdly deep: no order
            return []
        lines = body.get("order") if isinstance(body, dict) else None
        found: list[tuple[str, int]] = []
        for line in lines if isinstance(lines, list) else []:
            if not isinstance(line, dict):
                continue
            sku, quantity = line.get("retailer_id"), line.get("quantity")
            if (
                isinstance(sku, str)
                and sku
                and isinstance(quantity, int)
                and not isinstance(quantity, bool)
                and 0 < quantity <= MAX_QUANTITY
            ):
                found.append((sku, quantity))
        return found


def messages(body: bytes) -> list[ChatMessage]:
    """The Messenger messages of a ``{"object": "page", "entry": [{"messaging": [...]}]}``
    delivery (other entries, echoes and reads are skipped)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise WebhookBodyError(f"the delivery is not JSON: {exc}") from None
    except RecursionError:
        raise WebhookBodyError("the delivery is nested too deeply to read") from None
    if not isinstance(data, dict) or data.get("object") != "page":
        return []
    found: list[ChatMessage] = []
    entries = data.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        events = entry.get("messaging")
        for event in events if isinstance(events, list) else []:
            message = _message(entry, event)
            if message is not None:
                found.append(message)
    return found


def _message(entry: Mapping[str, Any], event: Any) -> ChatMessage | None:
    if not isinstance(event, dict):
        return None
    message = event.get("message")
    postback = event.get("postback")
    sender = event.get("sender")
    if not isinstance(sender, dict) or not isinstance(message or postback, dict):
        return None
    if isinstance(message, dict) and message.get("is_echo"):
        return None
    content: dict[str, Any] = message if isinstance(message, dict) else dict(postback or {})
    quick = content.get("quick_reply")
    payload = quick.get("payload") if isinstance(quick, dict) else content.get("payload")
    stamp = event.get("timestamp")
    sent_at = (
        datetime.fromtimestamp(stamp / 1000, UTC)
        if isinstance(stamp, int) and not isinstance(stamp, bool) and 0 < stamp < 10**14
        else datetime.now(UTC)
    )
    return ChatMessage(
        page_id=str(entry.get("id") or ""),
        sender_id=str(sender.get("id") or ""),
        mid=str(content.get("mid") or f"{sender.get('id')}:{stamp}"),
        sent_at=sent_at,
        text=content.get("text") if isinstance(content.get("text"), str) else None,
        payload=payload if isinstance(payload, str) else None,
    )
