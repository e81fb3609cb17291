"""Lazada push messages: verification and canonical events.

Lazada POSTs ``{"seller_id": "...", "message_type": 0, "data": {...}, "timestamp": ...,
"site": "lazada_vn"}`` with an ``Authorization`` header: the lower-case hex HMAC-SHA256, keyed
with the app secret, of ``app_key + raw_body`` (checked on the raw bytes, before any JSON
parsing). It wants HTTP 200 within 500 ms, retries a failed delivery every 30 minutes up to 12
times and delivers at least once, so a push is a hint: the engine re-reads the order it names
(``/order/get`` + ``/order/items/get``). Duplicates and late pushes change nothing twice.

:func:`delivery_id` is stable per message: for trade pushes it is the dedupe key Lazada
recommends, (``trade_order_id``, ``trade_order_line_id``, ``order_status``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from omnisdk.models import ChannelEvent, EventKind
from omnisdk_lazada.errors import parse_body
from omnisdk_lazada.mapping import parse_time, plain_json

__all__ = [
    "PUSH_TOPICS",
    "SUBSCRIBED_TYPES",
    "PushMessage",
    "delivery_id",
    "events_from_push",
    "parse_push",
]

PUSH_TOPICS: dict[int, str] = {
    0: "trade_order",
    1: "product_qc",
    2: "im_message",
    3: "product_created",
    4: "product_updated",
    5: "product_deleted",
    6: "shallow_stock",
    7: "short_video",
    8: "authorisation_expiry",
    10: "reverse_order",
    11: "promotion",
    12: "category_tree",
    13: "seller_status",
    14: "fulfilment_order",
}
"""Lazada's push message types and the topic names omnisdk reports them under."""

SUBSCRIBED_TYPES: tuple[int, ...] = (0, 3, 4, 5, 6, 8, 10)
"""The message types omnisdk acts on (subscribed in the Lazada console)."""

_PRODUCT_TYPES = frozenset({1, 3, 4})


@dataclass(frozen=True)
class PushMessage:
    """One decoded push."""

    message_type: int
    seller_id: str | None
    timestamp: int | None
    site: str | None
    data: dict[str, Any]
    raw: dict[str, Any]

    @property
    def topic(self) -> str:
        """The topic name (``push_<type>`` for types omnisdk does not know)."""
        return PUSH_TOPICS.get(self.message_type, f"push_{self.message_type}")


def parse_push(body: bytes) -> PushMessage:
    """Decode a push body; ``ValueError`` when it is not a Lazada push envelope."""
    envelope = parse_body(body)
    if not isinstance(envelope, dict) or "message_type" not in envelope:
        raise ValueError("a Lazada push is a JSON object with a 'message_type'")
    kind = envelope["message_type"]
    if isinstance(kind, bool) or not isinstance(kind, int | str) or not str(kind).isdigit():
        raise ValueError(f"message_type must be an integer, got {kind!r}")
    data = envelope.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("push 'data' must be a JSON object")
    seller = envelope.get("seller_id")
    stamp = envelope.get("timestamp")
    return PushMessage(
        message_type=int(kind),
        seller_id=str(seller) if seller not in (None, "") else None,
        timestamp=int(stamp) if isinstance(stamp, int | str) and str(stamp).isdigit() else None,
        site=str(envelope["site"]) if envelope.get("site") else None,
        data=data,
        raw=envelope,
    )


def delivery_id(message: PushMessage, body: bytes) -> str:
    """A stable id: the same message delivered twice (or retried) gets the same id."""
    data = message.data
    if message.message_type == 0:
        key = "|".join(
            str(data.get(name) or "")
            for name in ("trade_order_id", "trade_order_line_id", "order_status")
        )
    elif message.message_type == 10:
        key = "|".join(
            str(data.get(name) or "")
            for name in ("reverse_order_id", "reverse_order_line_id", "reverse_status")
        )
    else:
        key = hashlib.sha256(body).hexdigest()[:32]
    return f"lazada:{message.message_type}:{message.seller_id or 0}:{key}"


def events_from_push(
    message: PushMessage, body: bytes, *, channel: str, account: str, site: str = "VN"
) -> list[ChannelEvent]:
    """The canonical event one push means (``OTHER`` for types omnisdk does not act on).

    A trade push names one order *item*; it is reported as an update of its order (even a
    cancellation: the other units of the order may still be live), and the engine re-reads it.
    """
    data = message.data
    external_id: str | None = None
    kind = EventKind.OTHER
    if message.message_type in (0, 10):
        external_id = str(data.get("trade_order_id") or "") or None
        if external_id is None:
            raise ValueError(f"push type {message.message_type} without 'trade_order_id'")
        status = str(data.get("order_status") or "").lower()
        kind = EventKind.ORDER_CREATED if status == "unpaid" else EventKind.ORDER_UPDATED
    elif message.message_type in _PRODUCT_TYPES:
        kind = EventKind.PRODUCT_UPDATED
        external_id = str(data.get("item_id") or data.get("itemId") or "") or None
    elif message.message_type == 5:
        kind = EventKind.PRODUCT_DELETED
        external_id = str(data.get("item_id") or "") or None
    elif message.message_type == 6:
        kind = EventKind.STOCK_CHANGED
        external_id = str(data.get("seller_sku") or "") or None
    when = data.get("status_update_time") or message.timestamp
    return [
        ChannelEvent(
            kind=kind,
            channel=channel,
            account=account,
            topic=message.topic,
            delivery_id=delivery_id(message, body),
            external_id=external_id,
            occurred_at=parse_time(when, site=site) if when else None,
            raw=plain_json(message.raw),
        )
    ]
