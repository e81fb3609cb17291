"""The emulated shop's state: plain dataclasses and the operations Shopify performs on them.

Nothing here knows about HTTP, GraphQL or REST: those are views (``graphql_schema``,
``rest_views``) over this one state, so the official REST client, the GraphQL clients and
the sandbox control API always agree. Inventory follows Shopify's quantity names: a placed
order moves units from ``available`` to ``committed``; fulfilment takes them off ``on_hand``;
a cancellation restocks them.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "QUANTITY_NAMES",
    "Customer",
    "InventoryItem",
    "InventoryLevel",
    "LineItem",
    "Location",
    "Order",
    "Product",
    "Shop",
    "ShopState",
    "ShopStateError",
    "StockShort",
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
    """A buyer asked for more units than the shop lists."""

    def __init__(self, sku: str, wanted: int, available: int) -> None:
        self.sku = sku
        super().__init__(
            f"only {available} of {sku!r} available, {wanted} wanted",
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
    tracking_numbers: list[str] = field(default_factory=list)

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

    # -- orders ----------------------------------------------------------------------------

    def place_order(
        self,
        lines: list[tuple[str, int]],
        customer: dict[str, Any] | None = None,
        *,
        financial_status: str = "paid",
    ) -> Order:
        """A buyer checks out: refuse if any SKU's listed stock is short, else commit the units.

        Units move from ``available`` to ``committed`` at the locations that hold them,
        primary location first, like Shopify's checkout does.
        """
        wanted: dict[str, int] = {}
        for sku, quantity in lines:
            wanted[sku] = wanted.get(sku, 0) + quantity
        variants = {sku: self.variant_for_sku(sku) for sku in wanted}
        for sku, quantity in wanted.items():
            variant = variants[sku]
            available = self.variant_available(variant)
            tracked = self.inventory_items[variant.inventory_item_id].tracked
            if tracked and variant.inventory_policy == "deny" and available < quantity:
                raise StockShort(sku, quantity, available)
        now = self.now()
        buyer = self.find_or_create_customer(customer) if customer else None
        items: list[LineItem] = []
        for sku, quantity in lines:
            variant = variants[sku]
            product = self.products[variant.product_id]
            for location_id, units in self._commit_units(variant, quantity):
                items.append(
                    LineItem(
                        id=self.next_id(),
                        variant_id=variant.id,
                        product_id=product.id,
                        sku=sku,
                        title=product.title,
                        variant_title=variant.title,
                        quantity=units,
                        price=variant.price,
                        vendor=product.vendor,
                        location_id=location_id,
                    )
                )
        order = Order(
            id=self.next_id(),
            number=next(self._order_numbers),
            email=buyer.email if buyer else None,
            phone=buyer.phone if buyer else None,
            customer_id=buyer.id if buyer else None,
            currency=self.shop.currency,
            line_items=_merge_lines(items),
            financial_status=financial_status,
            fulfillment_status=None,
            created_at=now,
            updated_at=now,
            processed_at=now,
            shipping_address=(customer or {}).get("address"),
        )
        self.orders[order.id] = order
        return order

    def _commit_units(self, variant: Variant, quantity: int) -> Iterator[tuple[int, int]]:
        item = self.inventory_items[variant.inventory_item_id]
        levels = sorted(
            item.levels.values(), key=lambda lv: lv.location_id != self.primary_location.id
        )
        remaining = quantity
        for level in levels:
            take = min(max(level.available, 0), remaining)
            if take:
                self.change_quantity(level, "available", -take)
                self.change_quantity(level, "committed", take)
                remaining -= take
                yield level.location_id, take
            if not remaining:
                return
        if remaining:  # an untracked or "continue selling" variant oversells at the primary
            level = self.connect(item, self.primary_location)
            self.change_quantity(level, "available", -remaining)
            self.change_quantity(level, "committed", remaining)
            yield level.location_id, remaining

    def cancel_order(self, order: Order, *, reason: str = "customer") -> Order:
        """Cancel an unfulfilled order: restock its units and void or refund the payment."""
        if order.cancelled_at is not None:
            raise ShopStateError(f"order {order.id} is already cancelled", code="ALREADY_CANCELLED")
        if order.fulfillment_status == "fulfilled":
            raise ShopStateError(
                f"order {order.id} is fulfilled and cannot be cancelled", code="FULFILLED"
            )
        for line in order.line_items:
            level = self._line_level(line)
            if level is not None:
                left = line.quantity - line.fulfilled_quantity
                self.change_quantity(level, "committed", -left)
                self.change_quantity(level, "available", left)
        now = self.now()
        order.cancelled_at = now
        order.closed_at = now
        order.cancel_reason = reason
        order.financial_status = (
            "refunded" if order.financial_status in ("paid", "partially_paid") else "voided"
        )
        order.updated_at = now
        return order

    def _line_level(self, line: LineItem) -> InventoryLevel | None:
        if line.variant_id is None or line.variant_id not in self.variants:
            return None
        item = self.inventory_items[self.variants[line.variant_id].inventory_item_id]
        location_id = line.location_id or self.primary_location.id
        return item.levels.get(location_id)

    def fulfil_order(self, order: Order, *, tracking_number: str | None = None) -> Order:
        """Ship every unfulfilled unit: committed units leave ``on_hand``."""
        if order.cancelled_at is not None:
            raise ShopStateError(f"order {order.id} is cancelled", code="CANCELLED")
        for line in order.line_items:
            left = line.quantity - line.fulfilled_quantity
            level = self._line_level(line)
            if level is not None and left:
                self.change_quantity(level, "committed", -left)
            line.fulfilled_quantity = line.quantity
        order.fulfillment_status = "fulfilled"
        if tracking_number:
            order.tracking_numbers.append(tracking_number)
        order.updated_at = self.now()
        return order

    def advance_order(self, order: Order) -> str:
        """Move an order one step along Shopify's flow; return its new status.

        pending -> paid -> fulfilled -> closed. A cancelled or closed order does not move.
        """
        if order.cancelled_at is not None:
            raise ShopStateError(f"order {order.id} is cancelled", code="CANCELLED")
        if order.financial_status in ("pending", "authorized"):
            order.financial_status = "paid"
            order.updated_at = self.now()
            return "paid"
        if order.fulfillment_status != "fulfilled":
            self.fulfil_order(order, tracking_number=f"VN{order.number:010d}")
            return "fulfilled"
        if order.closed_at is None:
            order.closed_at = order.updated_at = self.now()
            return "closed"
        raise ShopStateError(f"order {order.id} is closed: nothing left to do", code="CLOSED")

    @staticmethod
    def order_status(order: Order) -> str:
        """One word for where an order stands (the sandbox state's ``status``)."""
        if order.cancelled_at is not None:
            return "cancelled"
        if order.closed_at is not None:
            return "closed"
        if order.fulfillment_status == "fulfilled":
            return "fulfilled"
        return order.financial_status


def _merge_lines(items: list[LineItem]) -> list[LineItem]:
    """One line per (variant, location): a SKU repeated by the buyer is one line on Shopify."""
    merged: dict[tuple[int | None, int | None], LineItem] = {}
    for item in items:
        key = (item.variant_id, item.location_id)
        if key in merged:
            merged[key].quantity += item.quantity
        else:
            merged[key] = item
    return list(merged.values())
