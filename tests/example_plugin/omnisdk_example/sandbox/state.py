"""The Example platform's data and the rules that change it; nothing here speaks HTTP.

:class:`ExampleState` is the state half of :class:`~omnisdk_example.sandbox.app.ExampleSandbox`
(it implements the sandbox hooks that only read or change data). Every method is called with
the sandbox's lock held.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.sandbox import BuyerOrder, OutOfStock, SandboxError, SeedProduct, UnknownObject

__all__ = [
    "CANCELLABLE",
    "ORDER_FLOW",
    "ExampleState",
    "ProductRecord",
    "VariantRecord",
    "item_error",
]

ORDER_FLOW = ["pending", "paid", "packed", "shipped", "delivered", "completed"]
"""An order's statuses, in the order it moves through them."""
CANCELLABLE = frozenset({"pending", "paid", "packed"})
"""Statuses from which an order can still be cancelled."""
LOCATIONS = (
    {"id": "loc-hn", "name": "Kho Hà Nội", "type": "warehouse", "pickup": False},
    {"id": "loc-q1", "name": "Cửa hàng Quận 1", "type": "store", "pickup": True},
)
"""The shop's warehouse and store."""
STOCK_LOCATION = "loc-hn"
"""Where listed stock is kept."""


@dataclass
class VariantRecord:
    """One sellable variant (one SKU) of a product, with its listed stock and price."""

    id: str
    sku: str
    product_id: str
    options: dict[str, str]
    price: Decimal
    currency: str
    stock: int
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The variant as the API shows it."""
        return {
            "id": self.id,
            "sku": self.sku,
            "options": self.options,
            "price": str(self.price),
            "currency": self.currency,
            "stock": self.stock,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass
class ProductRecord:
    """A product and its variants."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    variants: list[VariantRecord] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The product as the API shows it."""
        return {
            "id": self.id,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "variants": [v.as_json() for v in self.variants],
        }


def item_error(sku: Any, code: str, message: str, **extra: Any) -> dict[str, Any]:
    """A failed item of a batch write: ``{"sku", "ok": false, "error", "message", ...}``."""
    return {"sku": sku, "ok": False, "error": code, "message": message, **extra}


class ExampleState:
    """Products, variants (by SKU), orders, customers and webhook subscriptions.

    The sandbox provides ``clock`` and ``rng``; :meth:`reset_data` empties everything.
    """

    clock: SandboxClock
    rng: random.Random

    def reset_data(self) -> None:
        """Forget every product, order, customer and subscription."""
        self.products: dict[str, ProductRecord] = {}
        self.variants: dict[str, VariantRecord] = {}  # by SKU
        self.orders: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, list[str]] = {}  # URL -> topics
        self.locations = [dict(location) for location in LOCATIONS]
        self._counters: dict[str, int] = {}

    def next_id(self, prefix: str) -> str:
        """A fresh id: ``prd_00001``, ``prd_00002``..."""
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}_{self._counters[prefix]:05d}"

    # -- the catalog -------------------------------------------------------------------

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Create products (entries sharing ``product`` become variants of one product)."""
        created = []
        by_title: dict[str, ProductRecord] = {}
        for seed in products:
            if seed.sku in self.variants:
                raise SandboxError(f"SKU {seed.sku!r} already exists", sku=seed.sku)
            now = self.clock.now()
            group = seed.product
            product = by_title.get(group) if group else None
            if product is None:
                product = ProductRecord(
                    id=self.next_id("prd"),
                    title=group or seed.title,
                    created_at=now,
                    updated_at=now,
                )
                self.products[product.id] = product
                if group:
                    by_title[group] = product
            variant = VariantRecord(
                id=self.next_id("var"),
                sku=seed.sku,
                product_id=product.id,
                options=dict(seed.options),
                price=seed.price,
                currency=seed.currency,
                stock=seed.stock,
                updated_at=now,
            )
            product.variants.append(variant)
            product.updated_at = now
            self.variants[seed.sku] = variant
            created.append({"sku": seed.sku, "product_id": product.id, "variant_id": variant.id})
        return created

    def listings(self) -> list[dict[str, Any]]:
        """Every SKU's listed stock and price."""
        return [
            {"sku": v.sku, "stock": v.stock, "price": str(v.price), "currency": v.currency}
            for v in self.variants.values()
        ]

    def set_stock(self, item: dict[str, Any]) -> dict[str, Any]:
        """One item of a stock write; ``expected`` makes it a compare-and-swap."""
        sku, quantity, expected = item.get("sku"), item.get("quantity"), item.get("expected")
        variant = self.variants.get(sku) if isinstance(sku, str) else None
        if variant is None:
            return item_error(sku, "unknown_sku", f"no listing with SKU {sku!r}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            return item_error(sku, "invalid_quantity", "quantity must be an integer >= 0")
        if expected is not None and expected != variant.stock:
            return item_error(
                sku,
                "stock_mismatch",
                f"expected {expected} but the listing holds {variant.stock}",
                actual=variant.stock,
            )
        variant.stock = quantity
        variant.updated_at = self.clock.now()
        return {"sku": sku, "ok": True, "available": quantity}

    def set_price(self, item: dict[str, Any]) -> dict[str, Any]:
        """One item of a price write: a decimal string in the listing's currency."""
        sku = item.get("sku")
        variant = self.variants.get(sku) if isinstance(sku, str) else None
        if variant is None:
            return item_error(sku, "unknown_sku", f"no listing with SKU {sku!r}")
        if item.get("currency") != variant.currency:
            return item_error(
                sku, "currency_mismatch", f"the listing is priced in {variant.currency}"
            )
        try:
            price = Decimal(str(item.get("price")))
        except InvalidOperation:
            price = Decimal(-1)
        if not isinstance(item.get("price"), str) or not price.is_finite() or price < 0:
            return item_error(sku, "invalid_price", "price must be a decimal string >= 0")
        variant.price = price
        variant.updated_at = self.clock.now()
        return {"sku": sku, "ok": True, "price": str(price)}

    # -- orders --------------------------------------------------------------------------

    def take_order(self, order: BuyerOrder) -> str:
        """Check and take listed stock, record the order and its buyer; the new order's id."""
        wanted: dict[str, int] = {}
        for line in order.lines:
            if line.sku not in self.variants:
                raise UnknownObject("SKU", line.sku)
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        for sku, quantity in wanted.items():
            if self.variants[sku].stock < quantity:
                raise OutOfStock(sku, available=self.variants[sku].stock, requested=quantity)
        now = self.clock.now()
        lines: list[dict[str, Any]] = []
        for line in order.lines:
            variant = self.variants[line.sku]
            variant.stock -= line.quantity
            variant.updated_at = now
            lines.append(
                {
                    "sku": line.sku,
                    "title": self.products[variant.product_id].title,
                    "quantity": line.quantity,
                    "unit_price": str(variant.price),
                }
            )
        subtotal = sum((Decimal(x["unit_price"]) * x["quantity"] for x in lines), Decimal(0))
        order_id = self.next_id("ord")
        self.orders[order_id] = {
            "id": order_id,
            "number": f"#{1000 + len(self.orders) + 1}",
            "status": "pending",
            "currency": self.variants[order.lines[0].sku].currency,
            "lines": lines,
            "subtotal": str(subtotal),
            "shipping_fee": "0",
            "total": str(subtotal),
            "customer": self._customer_for(order.customer, now),
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
        return order_id

    def _customer_for(self, data: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
        """The buyer's customer record: found by phone or email, else created."""
        if not data:
            return None
        phone, email = data.get("phone"), data.get("email")
        for customer in self.customers.values():
            if (phone and customer["phone"] == phone) or (email and customer["email"] == email):
                return customer
        customer = {
            "id": self.next_id("cus"),
            "name": data.get("name"),
            "phone": phone,
            "email": email,
            "address": data.get("address"),
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
        self.customers[customer["id"]] = customer
        return customer

    def find_order(self, order_id: str) -> dict[str, Any]:
        """The order ``order_id``; :class:`UnknownObject` if there is none."""
        if order_id not in self.orders:
            raise UnknownObject("order", order_id)
        return self.orders[order_id]

    def cancel(self, order_id: str) -> None:
        """Cancel an order not yet shipped and put its stock back on the listing."""
        order = self.find_order(order_id)
        if order["status"] not in CANCELLABLE:
            raise SandboxError(
                f"order {order_id} is {order['status']}, it cannot be cancelled", order_id=order_id
            )
        for line in order["lines"]:
            if line["sku"] in self.variants:
                self.variants[line["sku"]].stock += line["quantity"]
        order["status"] = "cancelled"
        order["updated_at"] = self.clock.now().isoformat()

    def advance(self, order_id: str) -> str:
        """pending → paid → packed → shipped → delivered → completed; the new status."""
        order = self.find_order(order_id)
        if order["status"] not in ORDER_FLOW or order["status"] == ORDER_FLOW[-1]:
            raise SandboxError(
                f"order {order_id} is {order['status']}, it cannot move on", order_id=order_id
            )
        order["status"] = ORDER_FLOW[ORDER_FLOW.index(order["status"]) + 1]
        order["updated_at"] = self.clock.now().isoformat()
        return str(order["status"])

    def orders_state(self) -> list[dict[str, Any]]:
        """Every order, as ``GET /orders`` shows it."""
        return [dict(order) for order in self.orders.values()]

    def stock_entry(self, variant: VariantRecord) -> dict[str, Any]:
        """A variant's listed stock, as ``GET /stock`` shows it."""
        return {
            "sku": variant.sku,
            "available": variant.stock,
            "location_id": STOCK_LOCATION,
            "updated_at": variant.updated_at.isoformat(),
        }
