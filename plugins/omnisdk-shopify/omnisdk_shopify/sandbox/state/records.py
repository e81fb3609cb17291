"""The emulated shop's objects: plain dataclasses named after Shopify's resources.

Products, variants, inventory items and levels, locations, customers, orders with their
fulfillment orders and fulfillments, jobs and webhook subscriptions; global ids (``gid``);
and the errors the shop's operations raise. :mod:`~omnisdk_shopify.sandbox.state.shop`
holds them and performs Shopify's operations on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from omnisdk.errors import SandboxError

__all__ = [
    "FULFILLABLE_STATUSES",
    "QUANTITY_NAMES",
    "Customer",
    "Fulfillment",
    "FulfillmentOrder",
    "FulfillmentOrderLine",
    "InventoryItem",
    "InventoryLevel",
    "Job",
    "LineItem",
    "Location",
    "Order",
    "Product",
    "Refund",
    "Shop",
    "ShopStateError",
    "StockShort",
    "TrackingInfo",
    "Variant",
    "WebhookSubscription",
    "gid",
    "gid_kind",
    "parse_gid",
]

QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "reserved",
    "incoming",
    "damaged",
    "quality_control",
    "safety_stock",
)
"""Inventory quantity names Shopify knows (``InventoryLevel.quantities(names:)``)."""


def gid(kind: str, number: int) -> str:
    """The GraphQL global id of a ``kind`` object: ``gid://shopify/Product/1``."""
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str | int, kind: str | None = None) -> int:
    """The numeric id in a GraphQL global id (or a plain number); ValueError if malformed.

    With ``kind`` the gid must name that type (``gid://shopify/Product/1`` for "Product").
    """
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    match = _GID.match(text)
    if not match or (kind is not None and match.group(1) != kind):
        expected = f"a {kind} id" if kind else "a Shopify global id"
        raise ValueError(f"{text!r} is not {expected}")
    return int(match.group(2))


def gid_kind(value: str) -> str | None:
    """The type named in a global id, or None if ``value`` is not one."""
    match = _GID.match(value)
    return match.group(1) if match else None


_GID = re.compile(r"^gid://shopify/(\w+)/(\d+)(?:\?.*)?$")


class ShopStateError(SandboxError):
    """An operation the shop refuses (unknown object, invalid transition)."""

    def __init__(self, message: str, *, code: str = "INVALID", status: int = 422) -> None:
        self.code = code
        self.status = status
        super().__init__(message)


class StockShort(ShopStateError):
    """A buyer asked for more units than the shop lists (at ``where``, when named)."""

    def __init__(self, sku: str, wanted: int, available: int, *, where: str | None = None) -> None:
        self.sku = sku
        self.available = available
        at = f" at {where}" if where else ""
        super().__init__(
            f"only {available} of {sku!r} available{at}, {wanted} wanted",
            code="OUT_OF_STOCK",
            status=409,
        )


@dataclass
class Shop:
    """The shop itself (``GET /shop.json``, GraphQL ``shop``)."""

    id: int
    name: str
    domain: str
    email: str
    currency: str
    iana_timezone: str = "Asia/Ho_Chi_Minh"
    utc_offset_hours: int = 7
    plan: str = "basic"


@dataclass
class Location:
    """A place stock sits in."""

    id: int
    name: str
    address1: str = ""
    city: str = ""
    province: str = ""
    country_code: str = "VN"
    active: bool = True
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class InventoryLevel:
    """Quantities of one inventory item at one location."""

    inventory_item_id: int
    location_id: int
    quantities: dict[str, int]
    created_at: datetime
    updated_at: datetime

    @property
    def available(self) -> int:
        """Units a buyer can order at this location."""
        return self.quantities["available"]


@dataclass
class InventoryItem:
    """The stock-keeping side of a variant: its SKU, tracking flag and levels per location."""

    id: int
    sku: str
    tracked: bool
    cost: Decimal | None
    created_at: datetime
    updated_at: datetime
    levels: dict[int, InventoryLevel] = field(default_factory=dict)

    @property
    def available(self) -> int:
        """Units available over every location."""
        return sum(level.available for level in self.levels.values())


@dataclass
class Variant:
    """A product variant."""

    id: int
    product_id: int
    inventory_item_id: int
    title: str
    sku: str
    price: Decimal
    position: int
    options: list[str]
    created_at: datetime
    updated_at: datetime
    compare_at_price: Decimal | None = None
    barcode: str | None = None
    inventory_policy: str = "deny"
    taxable: bool = True


@dataclass
class Product:
    """A product and the ids of its variants, in position order."""

    id: int
    title: str
    handle: str
    status: str
    vendor: str
    product_type: str
    tags: list[str]
    body_html: str
    option_names: list[str]
    variant_ids: list[int]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None


@dataclass
class LineItem:
    """One line of an order, priced when it was placed."""

    id: int
    variant_id: int | None
    product_id: int | None
    sku: str
    title: str
    variant_title: str
    quantity: int
    price: Decimal
    vendor: str = ""
    fulfilled_quantity: int = 0
    location_id: int | None = None
    """Where the units were committed (restocked there on cancel)."""


@dataclass
class Customer:
    """A buyer."""

    id: int
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    created_at: datetime
    updated_at: datetime
    state: str = "enabled"
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    addresses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Refund:
    """Money given back on an order: ``amount`` in all (one successful ``refund``
    transaction), ``shipping`` of it for shipping (an order adjustment of kind
    ``shipping_refund`` in REST, ``totalRefundedShippingSet`` in GraphQL)."""

    id: int
    created_at: datetime
    amount: Decimal
    shipping: Decimal = Decimal(0)


@dataclass
class Order:
    """An order with Shopify's three status axes: financial, fulfilment, open/closed/cancelled."""

    id: int
    number: int
    email: str | None
    phone: str | None
    customer_id: int | None
    currency: str
    line_items: list[LineItem]
    financial_status: str
    fulfillment_status: str | None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime
    shipping_address: dict[str, Any] | None = None
    shipping_price: Decimal = Decimal(0)
    total_discounts: Decimal = Decimal(0)
    total_tax: Decimal = Decimal(0)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    source_name: str = "web"
    test: bool = False
    pickup_location_id: int | None = None
    """Where the buyer collects the order (buy online, pick up in store); None: shipped."""
    shipping_line_id: int | None = None
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The order's display name, e.g. ``#1001``."""
        return f"#{self.number}"

    @property
    def subtotal(self) -> Decimal:
        """Sum of line prices times quantities, before order-level discounts."""
        return sum((line.price * line.quantity for line in self.line_items), Decimal(0))

    @property
    def total(self) -> Decimal:
        """What the buyer pays."""
        return self.subtotal - self.total_discounts + self.shipping_price + self.total_tax

    @property
    def tracking_numbers(self) -> list[str]:
        """Every tracking number of the order's successful fulfillments, oldest first."""
        return [
            info.number
            for fulfillment in self.fulfillments
            if fulfillment.status == "SUCCESS"
            for info in fulfillment.tracking
            if info.number
        ]

    def line_item(self, line_id: int) -> LineItem | None:
        """One of the order's lines by id."""
        return next((line for line in self.line_items if line.id == line_id), None)


FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
"""Fulfillment order statuses a fulfillment can be created from."""


@dataclass
class FulfillmentOrderLine:
    """The units of one order line a fulfillment order is to fulfil."""

    id: int
    line_item_id: int
    total_quantity: int
    remaining_quantity: int


@dataclass
class FulfillmentOrder:
    """What one location is to fulfil of an order, and how the buyer gets it.

    Shopify opens one per location the order's units were committed at. ``delivery_method``
    is a ``DeliveryMethodType`` (``SHIPPING``, ``PICK_UP``, ...); ``status`` a
    ``FulfillmentOrderStatus`` (``OPEN``, ``IN_PROGRESS``, ``CLOSED``, ``CANCELLED``, ...).
    """

    id: int
    order_id: int
    location_id: int
    delivery_method: str
    lines: list[FulfillmentOrderLine]
    created_at: datetime
    updated_at: datetime
    status: str = "OPEN"

    @property
    def fulfillable(self) -> bool:
        """Whether a fulfillment can be created from it now."""
        return self.status in FULFILLABLE_STATUSES


@dataclass
class TrackingInfo:
    """A fulfillment's tracking: carrier name, number and URL."""

    company: str | None
    number: str | None
    url: str | None = None


@dataclass
class Fulfillment:
    """Units that left one location for the buyer (shipped, or collected in store)."""

    id: int
    order_id: int
    location_id: int
    name: str
    lines: list[tuple[int, int]]
    """(line item id, quantity) pairs."""
    tracking: list[TrackingInfo]
    created_at: datetime
    updated_at: datetime
    status: str = "SUCCESS"
    notify_customer: bool = False

    @property
    def total_quantity(self) -> int:
        """Units in this fulfillment."""
        return sum(quantity for _, quantity in self.lines)


@dataclass
class Job:
    """An asynchronous job (``orderCancel`` runs as one); ``done`` once it has run."""

    id: int
    kind: str
    order_id: int
    created_at: datetime
    done: bool = True
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class WebhookSubscription:
    """A webhook subscription (topic in REST spelling, e.g. ``orders/create``)."""

    id: int
    topic: str
    address: str
    format: str
    created_at: datetime
    updated_at: datetime
    api_version: str = "2025-07"
