"""Example payloads as omnisdk's canonical types: pure functions, no I/O.

Each function takes the raw platform record and ``ref``, which makes the
``{"channel", "account", "external_id"}`` reference of an object of this account (the
channel's :meth:`~omnisdk.Channel.ref`). A record that cannot be mapped raises
(``KeyError``, ``ValueError``...): the Channel base class quarantines it, counts it and
goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from omnisdk import (
    Customer,
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
from omnisdk.models import Address, Email, Phone, listed_count

__all__ = [
    "STATUSES",
    "Ref",
    "changed_since",
    "parse_customer",
    "parse_location",
    "parse_order",
    "parse_product",
    "parse_stock_level",
]

Ref = Callable[[str | int], dict[str, str]]
"""Makes the channel reference of an object from its platform id."""

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

UNPAID_STATUSES = frozenset({"pending", "cancelled"})
"""Statuses of an order that has not been paid."""


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


def parse_product(raw: dict[str, Any], ref: Ref) -> Product:
    """A product (with its variants) as a canonical Product."""
    variants = [
        Variant(
            sku=v["sku"],
            title=" / ".join(v["options"].values()) or None,
            options=v["options"],
            price=Money.of(v["price"], v["currency"]),
            channel_ref=ref(v["id"]),
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
        channel_ref=ref(raw["id"]),
        raw=raw,
    )


def parse_order(raw: dict[str, Any], ref: Ref) -> Order:
    """An order (with its buyer, when known) as a canonical Order."""
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
    customer = parse_customer(raw["customer"], ref) if raw.get("customer") else None
    return Order(
        channel_ref=ref(raw["id"]),
        number=raw["number"],
        status=STATUSES[status],
        channel_status=status,
        payment_status=PaymentStatus.UNPAID if status in UNPAID_STATUSES else PaymentStatus.PAID,
        currency=currency,
        lines=lines,
        subtotal=Money.of(raw["subtotal"], currency),
        shipping_total=Money.of(raw["shipping_fee"], currency),
        total=Money.of(raw["total"], currency),
        customer=customer,
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        raw=raw,
    )


def parse_customer(raw: dict[str, Any], ref: Ref) -> Customer:
    """A customer as a canonical Customer (phone numbers read as Vietnamese)."""
    address = raw.get("address")
    return Customer(
        full_name=raw.get("name"),
        phones=[Phone.parse(raw["phone"])] if raw.get("phone") else [],
        emails=[Email.parse(raw["email"])] if raw.get("email") else [],
        addresses=[Address.model_validate(address)] if isinstance(address, dict) else [],
        created_at=raw.get("created_at"),
        updated_at=raw.get("updated_at"),
        channel_ref=ref(raw["id"]),
        identities=[ref(raw["id"])],
        raw=raw,
    )


def parse_location(raw: dict[str, Any], ref: Ref) -> Location:
    """A warehouse or store as a canonical Location."""
    kind = raw["type"]
    return Location(
        code=raw["id"],
        name=raw["name"],
        kind=LocationKind(kind) if kind in ("warehouse", "store") else LocationKind.OTHER,
        pickup=raw["pickup"],
        channel_ref=ref(raw["id"]),
    )


def parse_stock_level(raw: dict[str, Any], ref: Ref) -> StockLevel:
    """One SKU's listed stock as a canonical StockLevel; ValueError for a figure that is no
    whole number within :data:`~omnisdk.models.MAX_LEVEL`."""
    return StockLevel(
        sku=raw["sku"],
        location=raw["location_id"],
        on_hand=listed_count(raw["available"], "available"),
        channel_ref=ref(raw["sku"]),
    )
