"""The emulated shop's state: plain dataclasses and the operations Shopify performs on them.

Nothing here knows about HTTP, GraphQL or REST: those are views (``graphql_schema``,
``rest_views``) over this one state, so the official REST client, the GraphQL clients and
the sandbox control API always agree. Inventory follows Shopify's quantity names: a placed
order moves units from ``available`` to ``committed``; fulfilment takes them off ``on_hand``;
a cancellation restocks them. The order lifecycle (checkout, fulfillment orders,
fulfillments, cancellation) is in :mod:`omnisdk_shopify.sandbox.order_flow`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
    "Shop",
    "ShopState",
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


class ShopStateError(Exception):
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


def handleize(title: str) -> str:
    """Shopify's handle for a title: lower-case ASCII words joined by hyphens."""
    folded = unicodedata.normalize("NFKD", title.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "product"


Emitter = Callable[[str, dict[str, Any]], None]
"""Called with (topic, REST-shaped payload source) whenever the shop would send a webhook."""


class ShopState:
    """Everything one emulated shop holds, and the operations Shopify performs on it.

    ``now`` is the clock (the sandbox's, so tests can move time). Ids are deterministic,
    increasing 64-bit-looking integers, unique across object kinds like Shopify's.
    """

    def __init__(
        self, *, now: Callable[[], datetime], currency: str = "VND", shop_name: str = "demo-shop"
    ) -> None:
        self.now = now
        self._ids = itertools.count(1_000_001)
        self._order_numbers = itertools.count(1001)
        created = now()
        self.shop = Shop(
            id=self.next_id(),
            name=shop_name,
            domain=f"{shop_name}.myshopify.com",
            email=f"owner@{shop_name}.example",
            currency=currency,
        )
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.inventory_items: dict[int, InventoryItem] = {}
        self.orders: dict[int, Order] = {}
        self.customers: dict[int, Customer] = {}
        self.webhook_subscriptions: dict[int, WebhookSubscription] = {}
        self.jobs: dict[int, Job] = {}
        primary = Location(
            id=self.next_id(),
            name="Kho HCM",
            address1="12 Nguyễn Huệ",
            city="Hồ Chí Minh",
            province="Hồ Chí Minh",
            created_at=created,
            updated_at=created,
        )
        self.locations[primary.id] = primary

    # -- ids and lookups -------------------------------------------------------------------

    def next_id(self) -> int:
        """A fresh object id."""
        return next(self._ids)

    def next_order_number(self) -> int:
        """The next order number (``#1001``, ``#1002``, ...)."""
        return next(self._order_numbers)

    @property
    def primary_location(self) -> Location:
        """The shop's first active location (where seeded stock goes)."""
        return next(loc for loc in self.locations.values() if loc.active)

    def add_location(self, name: str, *, city: str = "", active: bool = True) -> Location:
        """Create a location."""
        now = self.now()
        location = Location(
            id=self.next_id(),
            name=name,
            city=city,
            province=city,
            active=active,
            created_at=now,
            updated_at=now,
        )
        self.locations[location.id] = location
        return location

    def find_location(self, reference: str | int) -> Location | None:
        """A location by numeric id, global id or name (names compare case-insensitively)."""
        try:
            return self.locations.get(parse_gid(reference, "Location"))
        except ValueError:
            wanted = str(reference).strip().casefold()
            return next(
                (loc for loc in self.locations.values() if loc.name.casefold() == wanted), None
            )

    def fulfillment_order(self, number: int) -> FulfillmentOrder | None:
        """A fulfillment order by numeric id, whichever order holds it."""
        for order in self.orders.values():
            for fulfillment_order in order.fulfillment_orders:
                if fulfillment_order.id == number:
                    return fulfillment_order
        return None

    def fulfillment(self, number: int) -> Fulfillment | None:
        """A fulfillment by numeric id, whichever order holds it."""
        for order in self.orders.values():
            for fulfillment in order.fulfillments:
                if fulfillment.id == number:
                    return fulfillment
        return None

    def variants_by_sku(self, sku: str) -> list[Variant]:
        """Every variant with ``sku`` (Shopify does not enforce unique SKUs)."""
        return [v for v in self.variants.values() if v.sku == sku]

    def variant_for_sku(self, sku: str) -> Variant:
        """The one variant with ``sku``; an error if there is none or several."""
        found = self.variants_by_sku(sku)
        if not found:
            raise ShopStateError(f"no variant has SKU {sku!r}", code="NOT_FOUND", status=404)
        if len(found) > 1:
            raise ShopStateError(f"SKU {sku!r} is on {len(found)} variants", code="AMBIGUOUS")
        return found[0]

    def get(self, table: dict[int, Any], number: int, kind: str) -> Any:
        """``table[number]`` or a 404-style error naming ``kind``."""
        try:
            return table[number]
        except KeyError:
            raise ShopStateError(
                f"{kind} {number} not found", code="NOT_FOUND", status=404
            ) from None

    def product_variants(self, product: Product) -> list[Variant]:
        """A product's variants in position order."""
        return [self.variants[v] for v in product.variant_ids]

    def variant_available(self, variant: Variant) -> int:
        """Units of ``variant`` available over every location (its listed stock)."""
        return self.inventory_items[variant.inventory_item_id].available

    # -- catalogue -------------------------------------------------------------------------

    def create_product(
        self,
        title: str,
        variants: Iterable[dict[str, Any]],
        *,
        option_names: list[str] | None = None,
        vendor: str = "",
        product_type: str = "",
        tags: list[str] | None = None,
        body_html: str = "",
        status: str = "active",
    ) -> Product:
        """Create a product with variants; each variant dict has ``sku``, ``price``,
        ``options`` (values in option order), optional ``stock``, ``compare_at_price``,
        ``barcode``, ``cost``. Stock goes to the primary location."""
        now = self.now()
        product = Product(
            id=self.next_id(),
            title=title,
            handle=self._unique_handle(title),
            status=status,
            vendor=vendor,
            product_type=product_type,
            tags=list(tags or []),
            body_html=body_html,
            option_names=list(option_names or ["Title"]),
            variant_ids=[],
            created_at=now,
            updated_at=now,
            published_at=now,
        )
        self.products[product.id] = product
        for position, spec in enumerate(variants, start=1):
            self._add_variant(product, spec, position)
        return product

    def _unique_handle(self, title: str) -> str:
        base = handleize(title)
        taken = {p.handle for p in self.products.values()}
        handle, n = base, 1
        while handle in taken:
            n += 1
            handle = f"{base}-{n}"
        return handle

    def _add_variant(self, product: Product, spec: dict[str, Any], position: int) -> Variant:
        now = self.now()
        item = InventoryItem(
            id=self.next_id(),
            sku=spec["sku"],
            tracked=True,
            cost=spec.get("cost"),
            created_at=now,
            updated_at=now,
        )
        self.inventory_items[item.id] = item
        options = list(spec.get("options") or ["Default Title"])
        variant = Variant(
            id=self.next_id(),
            product_id=product.id,
            inventory_item_id=item.id,
            title=" / ".join(options),
            sku=spec["sku"],
            price=Decimal(str(spec["price"])),
            position=position,
            options=options,
            compare_at_price=spec.get("compare_at_price"),
            barcode=spec.get("barcode"),
            created_at=now,
            updated_at=now,
        )
        self.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        self.connect(item, self.primary_location, available=int(spec.get("stock", 0)))
        return variant

    def update_variant(
        self,
        variant: Variant,
        *,
        price: Decimal | None = None,
        compare_at_price: Decimal | None = None,
        clear_compare_at: bool = False,
        sku: str | None = None,
        barcode: str | None = None,
    ) -> Variant:
        """Change a variant's price, compare-at price, SKU or barcode; touches its product."""
        now = self.now()
        if price is not None:
            variant.price = price
        if compare_at_price is not None or clear_compare_at:
            variant.compare_at_price = compare_at_price
        if sku is not None:
            variant.sku = sku
            self.inventory_items[variant.inventory_item_id].sku = sku
        if barcode is not None:
            variant.barcode = barcode
        variant.updated_at = now
        self.products[variant.product_id].updated_at = now
        return variant

    # -- inventory -------------------------------------------------------------------------

    def connect(
        self, item: InventoryItem, location: Location, *, available: int = 0
    ) -> InventoryLevel:
        """Stock ``item`` at ``location`` (no-op if it already is)."""
        if location.id in item.levels:
            return item.levels[location.id]
        now = self.now()
        quantities = dict.fromkeys(QUANTITY_NAMES, 0)
        quantities["available"] = quantities["on_hand"] = available
        level = InventoryLevel(
            inventory_item_id=item.id,
            location_id=location.id,
            quantities=quantities,
            created_at=now,
            updated_at=now,
        )
        item.levels[location.id] = level
        return level

    def level(self, item_id: int, location_id: int) -> InventoryLevel:
        """The level of an item at a location; an error if the item is not stocked there."""
        item = self.get(self.inventory_items, item_id, "inventory item")
        self.get(self.locations, location_id, "location")
        try:
            return item.levels[location_id]  # type: ignore[no-any-return]
        except KeyError:
            raise ShopStateError(
                f"inventory item {item_id} is not stocked at location {location_id}",
                code="ITEM_NOT_STOCKED_AT_LOCATION",
            ) from None

    def change_quantity(self, level: InventoryLevel, name: str, delta: int) -> None:
        """Apply ``delta`` to quantity ``name`` the way Shopify does.

        ``available`` and ``committed`` are parts of ``on_hand``: changing one of them moves
        ``on_hand`` with it; changing ``on_hand`` moves ``available``.
        """
        if name not in QUANTITY_NAMES:
            raise ShopStateError(f"unknown quantity name {name!r}", code="INVALID_NAME")
        quantities = level.quantities
        quantities[name] += delta
        if name in (
            "available",
            "committed",
            "reserved",
            "damaged",
            "quality_control",
            "safety_stock",
        ):
            quantities["on_hand"] += delta
        elif name == "on_hand":
            quantities["available"] += delta
        now = self.now()
        level.updated_at = now
        self.inventory_items[level.inventory_item_id].updated_at = now
        variant = self._variant_of_item(level.inventory_item_id)
        if variant is not None:
            variant.updated_at = now

    def levels_snapshot(self) -> dict[tuple[int, int], int]:
        """``available`` of every (inventory item, location) now."""
        return {
            (level.inventory_item_id, level.location_id): level.available
            for item in self.inventory_items.values()
            for level in item.levels.values()
        }

    def changed_levels(self, before: dict[tuple[int, int], int]) -> list[InventoryLevel]:
        """Levels whose ``available`` differs from ``before`` (a :meth:`levels_snapshot`)."""
        return [
            level
            for item in self.inventory_items.values()
            for level in item.levels.values()
            if before.get((level.inventory_item_id, level.location_id)) != level.available
        ]

    def set_quantity(self, level: InventoryLevel, name: str, quantity: int) -> int:
        """Set quantity ``name`` to ``quantity``; return the delta applied."""
        delta = quantity - level.quantities[name]
        self.change_quantity(level, name, delta)
        return delta

    def _variant_of_item(self, item_id: int) -> Variant | None:
        return next((v for v in self.variants.values() if v.inventory_item_id == item_id), None)

    def variant_of_item(self, item_id: int) -> Variant | None:
        """The variant an inventory item belongs to."""
        return self._variant_of_item(item_id)

    # -- customers -------------------------------------------------------------------------

    def find_or_create_customer(self, details: dict[str, Any]) -> Customer:
        """The customer with the same email (or phone), else a new one from ``details``."""
        email = (details.get("email") or "").strip().lower() or None
        phone = details.get("phone")
        for customer in self.customers.values():
            if (email and customer.email == email) or (phone and customer.phone == phone):
                return customer
        now = self.now()
        first, last = details.get("first_name"), details.get("last_name")
        if not (first or last) and details.get("name"):
            *rest, last_word = str(details["name"]).split()
            first, last = last_word, " ".join(rest) or None
        customer = Customer(
            id=self.next_id(),
            email=email,
            phone=phone,
            first_name=first,
            last_name=last,
            created_at=now,
            updated_at=now,
            addresses=[details["address"]] if details.get("address") else [],
        )
        self.customers[customer.id] = customer
        return customer
