"""Shopee push (webhook) messages: verification and canonical events.

Shopee POSTs ``{"shop_id": int, "code": int, "timestamp": int, "data": {...}}`` with an
``Authorization`` header: the lowercase hex HMAC-SHA256, keyed with the partner key, of
``callback_url + "|" + raw_body``. A push is a hint, not state: the engine re-reads the order
(``get_order_detail``) it names, so a duplicate or a late push changes nothing.

Shopee gives a push no delivery id. :func:`delivery_id` derives one from the push code, shop
and a digest of the raw body, so a redelivery of the same message has the same id and the
engine's dedupe makes it a no-op.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from omnisdk.models import ChannelEvent, EventKind
from omnisdk_shopee.errors import parse_body
from omnisdk_shopee.mapping import plain_json, unix_time

__all__ = [
    "PUSH_TOPICS",
    "SUBSCRIBED_CODES",
    "PushMessage",
    "delivery_id",
    "encode_push",
    "events_from_push",
    "parse_push",
]

PUSH_TOPICS: dict[int, str] = {
    1: "shop_authorization_push",
    2: "shop_authorization_canceled_push",
    3: "order_status_push",
    4: "order_trackingno_push",
    5: "shopee_updates",
    6: "banned_item_push",
    7: "item_promotion_push",
    8: "reserved_stock_change_push",
    9: "promotion_update_push",
    10: "webchat_push",
    11: "video_upload_push",
    12: "open_api_authorization_expiry",
    13: "brand_register_result",
}
"""Shopee's push codes and the topic names omnisdk reports them under."""

SUBSCRIBED_CODES: tuple[int, ...] = (1, 2, 3, 4, 6, 7, 8, 12)
"""The push codes the channel switches on: authorisation, orders, tracking, items, stock."""

_ORDER_CODES = frozenset({3, 4})
_PRODUCT_CODES = frozenset({6, 7})


@dataclass(frozen=True)
class PushMessage:
    """One decoded push: its code, shop, time and data."""

    code: int
    shop_id: int | None
    timestamp: int | None
    data: dict[str, Any]
    raw: dict[str, Any]

    @property
    def topic(self) -> str:
        """The topic name for the code (``push_<code>`` for codes omnisdk does not know)."""
        return PUSH_TOPICS.get(self.code, f"push_{self.code}")


def parse_push(body: bytes) -> PushMessage:
    """Decode a push body; ``ValueError`` when it is not a Shopee push envelope."""
    envelope = parse_body(body)
    if not isinstance(envelope, dict) or "code" not in envelope:
        raise ValueError("a Shopee push is a JSON object with a 'code'")
    code = envelope["code"]
    if isinstance(code, bool) or not isinstance(code, int):
        raise ValueError(f"push code must be an integer, got {code!r}")
    data = envelope.get("data")
    if isinstance(data, str):  # the docs type lost-push data as a string; samples show objects
        data = json.loads(data) if data.strip() else {}
    if data is None:
        # Partner-level pushes (code 1, 2, 12) put their fields beside "code".
        data = {k: v for k, v in envelope.items() if k not in ("code", "timestamp")}
    if not isinstance(data, dict):
        raise ValueError("push 'data' must be a JSON object")
    shop = envelope.get("shop_id", data.get("shop_id"))
    timestamp = envelope.get("timestamp")
    return PushMessage(
        code=code,
        shop_id=int(shop) if shop not in (None, "") else None,
        timestamp=int(timestamp) if timestamp not in (None, "") else None,
        data=data,
        raw=envelope,
    )


def encode_push(message: dict[str, Any]) -> bytes:
    """A lost push message (from ``get_lost_push_message``) as a push body."""
    return json.dumps(plain_json(message), ensure_ascii=False, separators=(",", ":")).encode()


def delivery_id(message: PushMessage, body: bytes) -> str:
    """A stable id for a push: the same message delivered twice gets the same id."""
    digest = hashlib.sha256(body).hexdigest()[:32]
    return f"shopee:{message.code}:{message.shop_id or 0}:{digest}"


def _order_kind(message: PushMessage) -> EventKind:
    if message.code == 3:
        status = str(message.data.get("status") or "")
        if status == "CANCELLED":
            return EventKind.ORDER_CANCELLED
        if status == "UNPAID":
            return EventKind.ORDER_CREATED
    return EventKind.ORDER_UPDATED


def events_from_push(
    message: PushMessage, body: bytes, *, channel: str, account: str
) -> list[ChannelEvent]:
    """The canonical events one push means (one event; ``OTHER`` for codes omnisdk ignores)."""
    data = message.data
    external_id: str | None = None
    if message.code in _ORDER_CODES:
        kind = _order_kind(message)
        external_id = str(data.get("ordersn") or data.get("order_sn") or "") or None
        if external_id is None:
            raise ValueError(f"push code {message.code} without 'ordersn'")
    elif message.code in _PRODUCT_CODES:
        kind = EventKind.PRODUCT_UPDATED
        external_id = str(data.get("item_id") or "") or None
    elif message.code == 8:
        kind = EventKind.STOCK_CHANGED
        external_id = str(data.get("item_id") or "") or None
    elif message.code == 2:
        kind = EventKind.CHANNEL_DEAUTHORISED
        external_id = str(message.shop_id) if message.shop_id else None
    else:
        kind = EventKind.OTHER
    when = data.get("update_time") or message.timestamp
    return [
        ChannelEvent(
            kind=kind,
            channel=channel,
            account=account,
            topic=message.topic,
            delivery_id=delivery_id(message, body),
            external_id=external_id,
            occurred_at=unix_time(when) if when else None,
            raw=plain_json(message.raw),
        )
    ]
