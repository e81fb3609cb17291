"""Example payloads mapped onto omnisdk's canonical types: pure functions, raw in, canonical out.

The channel's ``parse_*`` methods call these with the channel's name and account (the
engine reaches them through the mapping hooks, so an app can wrap or replace them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from omnisdk import (
    Customer,
    EventKind,
    Location,
    LocationKind,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Product,
    StockLevel,
    Variant,
)
from omnisdk.models import Address, ChannelRef, Email, Phone

__all__ = [
    "EVENT_KINDS",
    "STATUSES",
    "changed_since",
    "customer_from_example",
    "location_from_example",
    "order_from_example",
    "product_from_example",
    "stock_level_from_example",
]

STATUSES = {
    "pending": OrderStatus.PENDING,
    "paid": OrderStatus.CONFIRMED,
    "packed": OrderStatus.READY_TO_SHIP,
    "shipped": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
    "completed": OrderStatus.COMPLETED,
    "cancelled": OrderStatus.CANCELLED,
}
"""The platform's order statuses onto the canonical ones."""

EVENT_KINDS = {
    "order.created": EventKind.ORDER_CREATED,
    "order.updated": EventKind.ORDER_UPDATED,
    "order.cancelled": EventKind.ORDER_CANCELLED,
}
"""Webhook topics onto canonical event kinds (any other topic is ``EventKind.OTHER``)."""


def _ref(channel: str, account: str, external_id: object) -> ChannelRef:
    return ChannelRef(channel=channel, account=account, external_id=str(external_id))


def changed_since(raw: dict[str, Any], moment: datetime) -> bool:
    """Whether a raw record changed at or after ``moment`` (True when it does not say when:
    the mapping then decides what becomes of it)."""
    stamp = raw.get("updated_at")
    try:
        changed = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return True
    if changed is None:
        return True
    return (changed if changed.tzinfo else changed.replace(tzinfo=UTC)) >= moment


def product_from_example(raw: dict[str, Any], *, channel: str, account: str) -> Product:
    """An Example product (with its variants) as a canonical Product."""
    variants = [
        Variant(
            sku=v["sku"],
            title=" / ".join(v["options"].values()) or None,
            options=v["options"],
            price=Money.of(v["price"], v["currency"]),
            channel_ref=_ref(channel, account, v["id"]),
        )
        for v in raw["variants"]
    ]
    option_names = list(dict.fromkeys(k for v in raw["variants"] for k in v["options"]))
    return Product(
        title=raw["title"],
        variants=variants,
        option_names=option_names,
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        channel_ref=_ref(channel, account, raw["id"]),
        raw=raw,
    )


def order_from_example(raw: dict[str, Any], *, channel: str, account: str) -> Order:
    """An Example order as a canonical Order."""
    currency = raw["currency"]
    lines = [
        OrderLine(
            sku=line["sku"],
            title=line["title"],
            quantity=line["quantity"],
            unit_price=Money.of(line["unit_price"], currency),
        )
        for line in raw["lines"]
    ]
    status = raw["status"]
    paid = status not in ("pending", "cancelled")
    buyer = raw.get("customer")
    return Order(
        channel_ref=_ref(channel, account, raw["id"]),
        number=raw["number"],
        status=STATUSES[status],
        channel_status=status,
        payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
        currency=currency,
        lines=lines,
        subtotal=Money.of(raw["subtotal"], currency),
        shipping_total=Money.of(raw["shipping_fee"], currency),
        total=Money.of(raw["total"], currency),
        customer=customer_from_example(buyer, channel=channel, account=account) if buyer else None,
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        raw=raw,
    )


def customer_from_example(raw: dict[str, Any], *, channel: str, account: str) -> Customer:
    """An Example customer as a canonical Customer (phones read as Vietnamese)."""
    address = raw.get("address")
    ref = _ref(channel, account, raw["id"])
    return Customer(
        full_name=raw.get("name"),
        phones=[Phone.parse(raw["phone"])] if raw.get("phone") else [],
        emails=[Email.parse(raw["email"])] if raw.get("email") else [],
        addresses=[Address.model_validate(address)] if isinstance(address, dict) else [],
        created_at=raw.get("created_at"),
        updated_at=raw.get("updated_at"),
        channel_ref=ref,
        identities=[ref],
        raw=raw,
    )


def location_from_example(raw: dict[str, Any], *, channel: str, account: str) -> Location:
    """An Example location (a warehouse, a store, anything else) as a canonical Location."""
    kind = raw["type"]
    return Location(
        code=raw["id"],
        name=raw["name"],
        kind=LocationKind(kind) if kind in ("warehouse", "store") else LocationKind.OTHER,
        pickup=raw["pickup"],
        channel_ref=_ref(channel, account, raw["id"]),
    )


def stock_level_from_example(raw: dict[str, Any], *, channel: str, account: str) -> StockLevel:
    """One entry of ``GET /stock`` as a StockLevel."""
    return StockLevel(
        sku=raw["sku"],
        location=raw["location_id"],
        on_hand=raw["available"],
        channel_ref=_ref(channel, account, raw["sku"]),
    )
