"""The emulated shop: every object it holds, and the operations Shopify performs on them.

Nothing here knows about HTTP, GraphQL or REST: those are views (``api/graphql``,
``api/rest_views``) over this one state, so the official REST client, the GraphQL clients and
the sandbox control API always agree. Inventory follows Shopify's quantity names: a placed
order moves units from ``available`` to ``committed``; fulfilment takes them off ``on_hand``;
a cancellation restocks them. The order lifecycle (checkout, fulfillment orders,
fulfillments, cancellation) is in :mod:`omnisdk_shopify.sandbox.state.order_flow`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from omnisdk_shopify.sandbox.state.records import (
    QUANTITY_NAMES,
    Customer,
    Fulfillment,
    FulfillmentOrder,
    InventoryItem,
    InventoryLevel,
    Job,
    Location,
    Order,
    Product,
    Shop,
    ShopStateError,
    Variant,
    WebhookSubscription,
    parse_gid,
)

__all__ = ["LevelSnapshot", "ShopState", "handleize"]


class LevelSnapshot:
    """A mark from :meth:`ShopState.levels_snapshot`: ``before`` holds ``available`` before
    the first change of each level touched since (None for a level created since)."""

    __slots__ = ("__weakref__", "before")

    def __init__(self) -> None:
        self.before: dict[tuple[int, int], int | None] = {}


def handleize(title: str) -> str:
    """Shopify's handle for a title: lower-case ASCII words joined by hyphens."""
    folded = unicodedata.normalize("NFKD", title.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "product"


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
        # Indexes that keep the hot paths (checkout, seeding) linear in the shop's size.
        self._by_sku: dict[str, list[int]] = {}
        self._variant_by_item: dict[int, int] = {}
        self._handles: set[str] = set()
        self._customer_by_email: dict[str, int] = {}
        self._customer_by_phone: dict[str, int] = {}
        self._watchers: weakref.WeakSet[LevelSnapshot] = weakref.WeakSet()
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
        found = [
            variant
            for number in self._by_sku.get(sku, ())
            if (variant := self.variants.get(number)) is not None and variant.sku == sku
        ]
        if len(found) != len(self._by_sku.get(sku, ())):
            self._by_sku[sku] = [v.id for v in found]  # a variant left or changed its SKU
        return found

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

    # -- catalog -------------------------------------------------------------------------

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
        handle, n = base, 1
        while handle in self._handles:
            n += 1
            handle = f"{base}-{n}"
        self._handles.add(handle)
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
        self._by_sku.setdefault(variant.sku, []).append(variant.id)
        self._variant_by_item[item.id] = variant.id
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
            self._by_sku.setdefault(sku, []).append(variant.id)
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
        for watcher in self._watchers:
            watcher.before.setdefault((item.id, location.id), None)
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
        for watcher in self._watchers:
            watcher.before.setdefault((level.inventory_item_id, level.location_id), level.available)
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

    def levels_snapshot(self) -> LevelSnapshot:
        """A mark to find the levels whose ``available`` changes from now on.

        It costs nothing up front: each level touched afterwards records its ``available``
        before the first change (None for a level created since), so a checkout stays
        independent of how many levels the shop holds.
        """
        snapshot = LevelSnapshot()
        self._watchers.add(snapshot)
        return snapshot

    def changed_levels(self, before: LevelSnapshot) -> list[InventoryLevel]:
        """Levels whose ``available`` differs from ``before`` (a :meth:`levels_snapshot`)."""
        self._watchers.discard(before)
        changed = []
        for (item_id, location_id), was in before.before.items():
            item = self.inventory_items.get(item_id)
            level = item.levels.get(location_id) if item is not None else None
            if level is not None and level.available != was:
                changed.append(level)
        return changed

    def set_quantity(self, level: InventoryLevel, name: str, quantity: int) -> int:
        """Set quantity ``name`` to ``quantity``; return the delta applied."""
        delta = quantity - level.quantities[name]
        self.change_quantity(level, name, delta)
        return delta

    def _variant_of_item(self, item_id: int) -> Variant | None:
        number = self._variant_by_item.get(item_id)
        variant = self.variants.get(number) if number is not None else None
        if variant is not None and variant.inventory_item_id == item_id:
            return variant
        return next((v for v in self.variants.values() if v.inventory_item_id == item_id), None)

    def variant_of_item(self, item_id: int) -> Variant | None:
        """The variant an inventory item belongs to."""
        return self._variant_of_item(item_id)

    # -- customers -------------------------------------------------------------------------

    def find_or_create_customer(
        self, details: dict[str, Any], *, at: datetime | None = None
    ) -> Customer:
        """The customer with the same email (or phone), else a new one from ``details``
        (created ``at`` that time, default now)."""
        email = (details.get("email") or "").strip().lower() or None
        phone = details.get("phone")
        for index, key in ((self._customer_by_email, email), (self._customer_by_phone, phone)):
            known = self.customers.get(index[key]) if key and key in index else None
            if known is not None and (known.email == email or known.phone == phone):
                return known
        now = at or self.now()
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
        self.add_customer(customer)
        return customer

    def add_customer(self, customer: Customer) -> None:
        """Store ``customer`` (and index it by email and phone for checkout lookups)."""
        self.customers[customer.id] = customer
        if customer.email:
            self._customer_by_email.setdefault(customer.email, customer.id)
        if customer.phone:
            self._customer_by_phone.setdefault(customer.phone, customer.id)
