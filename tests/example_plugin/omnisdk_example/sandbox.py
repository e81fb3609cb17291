"""The Example platform, emulated: an in-memory JSON REST API for tests and demos.

It behaves like a small real platform would: bearer-token auth, page-numbered products,
cursor-paged orders, batch writes with per-item results (compare-and-swap on stock), and
signed webhooks. The control API (``/_sandbox/*``) and fault injection come from
:class:`omnisdk.testing.Sandbox`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk.testing.sandbox import (
    BuyerOrder,
    OutOfStock,
    Sandbox,
    SandboxError,
    SeedProduct,
    UnknownObject,
    json_response,
    read_json,
)

__all__ = ["MAX_BATCH", "ExampleSandbox"]

MAX_BATCH = 20
"""The most items one ``/stock/batch`` or ``/prices/batch`` call takes."""
MAX_PRODUCTS_PAGE = 100
MAX_ORDERS_PAGE = 50
MAX_STOCK_SKUS = 50
ORDER_FLOW = ["pending", "paid", "packed", "shipped", "delivered", "completed"]
CANCELLABLE = {"pending", "paid", "packed"}
TOPICS = ("order.created", "order.updated", "order.cancelled")


class Unauthorized(SandboxError):
    """No valid bearer token."""

    status = 401
    code = "unauthorized"


@dataclass
class _Variant:
    id: str
    sku: str
    product_id: str
    options: dict[str, str]
    price: Decimal
    currency: str
    stock: int
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
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
class _Product:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    variants: list[_Variant] = field(default_factory=list)


class ExampleSandbox(Sandbox):
    """The Example platform in memory. Credentials: :meth:`channel_settings`."""

    channel_type = "example"
    webhook_id_header = "X-Example-Delivery"

    def reset_state(self) -> None:
        """Forget everything; issue a fresh API token and webhook secret."""
        self.api_token = "exk_" + self.rng.randbytes(16).hex()
        self.webhook_secret = "whsec_" + self.rng.randbytes(16).hex()
        self.products: dict[str, _Product] = {}
        self.variants: dict[str, _Variant] = {}  # by SKU
        self.orders: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, list[str]] = {}
        self.locations = [
            {"id": "loc-hn", "name": "Kho Hà Nội", "type": "warehouse", "pickup": False},
            {"id": "loc-q1", "name": "Cửa hàng Quận 1", "type": "store", "pickup": True},
        ]
        self._counters: dict[str, int] = {}

    def _next_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}_{self._counters[prefix]:05d}"

    # -- credentials ---------------------------------------------------------------------

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """What an ``example`` channel entry needs."""
        return {
            "base_url": base_url,
            "api_token": self.api_token,
            "webhook_secret": self.webhook_secret,
        }

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """The Example platform has no official client: the same values, raw."""
        return self.channel_settings(base_url)

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """``X-Example-Signature``: base64 of HMAC-SHA256 of the raw body."""
        digest = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).digest()
        return {
            "X-Example-Topic": topic,
            "X-Example-Delivery": self.next_delivery_id(),
            "X-Example-Signature": base64.b64encode(digest).decode(),
        }

    # -- the control API's hooks ---------------------------------------------------------

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Create products (entries sharing ``product`` become variants of one product)."""
        created = []
        by_title: dict[str, _Product] = {}
        for seed in products:
            if seed.sku in self.variants:
                raise SandboxError(f"SKU {seed.sku!r} already exists", sku=seed.sku)
            now = self.clock.now()
            group = seed.product
            product = by_title.get(group) if group else None
            if product is None:
                product = _Product(
                    id=self._next_id("prd"),
                    title=group or seed.title,
                    created_at=now,
                    updated_at=now,
                )
                self.products[product.id] = product
                if group:
                    by_title[group] = product
            variant = _Variant(
                id=self._next_id("var"),
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

    def place_order(self, order: BuyerOrder) -> str:
        """Check and take listed stock, record the order and its buyer, send the webhook."""
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
            title = self.products[variant.product_id].title
            lines.append(
                {
                    "sku": line.sku,
                    "title": title,
                    "quantity": line.quantity,
                    "unit_price": str(variant.price),
                }
            )
        currency = self.variants[order.lines[0].sku].currency
        subtotal = sum((Decimal(x["unit_price"]) * x["quantity"] for x in lines), Decimal(0))
        order_id = self._next_id("ord")
        self.orders[order_id] = {
            "id": order_id,
            "number": f"#{1000 + len(self.orders) + 1}",
            "status": "pending",
            "currency": currency,
            "lines": lines,
            "subtotal": str(subtotal),
            "shipping_fee": "0",
            "total": str(subtotal),
            "customer": self._customer_for(order.customer, now),
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
        self._order_changed(order_id, "order.created")
        return order_id

    def _customer_for(self, data: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
        if not data:
            return None
        phone, email = data.get("phone"), data.get("email")
        for customer in self.customers.values():
            if (phone and customer["phone"] == phone) or (email and customer["email"] == email):
                return customer
        customer = {
            "id": self._next_id("cus"),
            "name": data.get("name"),
            "phone": phone,
            "email": email,
            "address": data.get("address"),
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
        self.customers[customer["id"]] = customer
        return customer

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order not yet shipped and put its stock back on the listing."""
        order = self._order(order_id)
        if order["status"] not in CANCELLABLE:
            raise SandboxError(
                f"order {order_id} is {order['status']}, it cannot be cancelled", order_id=order_id
            )
        for line in order["lines"]:
            if line["sku"] in self.variants:
                self.variants[line["sku"]].stock += line["quantity"]
        order["status"] = "cancelled"
        order["updated_at"] = self.clock.now().isoformat()
        self._order_changed(order_id, "order.cancelled")

    def advance_order(self, order_id: str) -> str:
        """pending → paid → packed → shipped → delivered → completed."""
        order = self._order(order_id)
        if order["status"] not in ORDER_FLOW or order["status"] == ORDER_FLOW[-1]:
            raise SandboxError(
                f"order {order_id} is {order['status']}, it cannot move on", order_id=order_id
            )
        order["status"] = ORDER_FLOW[ORDER_FLOW.index(order["status"]) + 1]
        order["updated_at"] = self.clock.now().isoformat()
        self._order_changed(order_id, "order.updated")
        return str(order["status"])

    def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.orders:
            raise UnknownObject("order", order_id)
        return self.orders[order_id]

    def _order_changed(self, order_id: str, topic: str) -> None:
        if any(topic in topics for topics in self.subscriptions.values()) or (
            self.webhook_url and not self.subscriptions
        ):
            self.emit_webhook(
                topic,
                {"topic": topic, "created_at": self.clock.now(), "data": self.orders[order_id]},
            )

    def listings(self) -> list[dict[str, Any]]:
        """Every SKU's listed stock and price."""
        return [
            {"sku": v.sku, "stock": v.stock, "price": str(v.price), "currency": v.currency}
            for v in self.variants.values()
        ]

    def orders_state(self) -> list[dict[str, Any]]:
        """Every order, as ``GET /orders`` shows it."""
        return [dict(order) for order in self.orders.values()]

    # -- the platform's API --------------------------------------------------------------

    def platform_routes(self) -> list[BaseRoute]:
        """The Example REST API."""
        return [
            Route("/shop", self.get_shop, methods=["GET"]),
            Route("/products", self.list_products, methods=["GET"]),
            Route("/orders", self.list_orders, methods=["GET"]),
            Route("/orders/{order_id}", self.get_order, methods=["GET"]),
            Route("/customers", self.list_customers, methods=["GET"]),
            Route("/locations", self.list_locations, methods=["GET"]),
            Route("/stock", self.get_stock, methods=["GET"]),
            Route("/stock/batch", self.write_stock, methods=["POST"]),
            Route("/prices/batch", self.write_prices, methods=["POST"]),
            Route("/webhooks", self.webhooks, methods=["GET", "POST", "DELETE"]),
        ]

    def _authorise(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token, self.api_token):
            raise Unauthorized("missing or invalid bearer token")

    async def get_shop(self, request: Request) -> Response:
        """``GET /shop``."""
        self._authorise(request)
        return json_response(
            {"name": "Cửa hàng Ví Dụ", "currency": "VND", "timezone": "Asia/Ho_Chi_Minh"}
        )

    async def list_products(self, request: Request) -> Response:
        """``GET /products?page=&limit=``: page numbers from 1."""
        self._authorise(request)
        page = _int_param(request, "page", 1, low=1)
        limit = _int_param(request, "limit", 50, low=1, high=MAX_PRODUCTS_PAGE)
        self.note_operation(request, "products.read")
        with self.lock:
            products = sorted(self.products.values(), key=lambda p: p.id)
            chunk = products[(page - 1) * limit : page * limit]
            body = [
                {
                    "id": p.id,
                    "title": p.title,
                    "created_at": p.created_at.isoformat(),
                    "updated_at": p.updated_at.isoformat(),
                    "variants": [v.as_json() for v in p.variants],
                }
                for p in chunk
            ]
            return json_response(
                {
                    "products": body,
                    "page": page,
                    "limit": limit,
                    "total": len(products),
                    "has_more": page * limit < len(products),
                }
            )

    async def list_orders(self, request: Request) -> Response:
        """``GET /orders?updated_since=&cursor=&limit=``: oldest change first."""
        self._authorise(request)
        limit = _int_param(request, "limit", 10, low=1, high=MAX_ORDERS_PAGE)
        since = _time_param(request, "updated_since")
        after = _decode_cursor(request.query_params.get("cursor"))
        self.note_operation(request, "orders.read")
        with self.lock:
            keyed = sorted(
                (
                    (datetime.fromisoformat(o["updated_at"]), o["id"], o)
                    for o in self.orders.values()
                ),
                key=lambda t: (t[0], t[1]),
            )
            rows = [
                (at, oid, o)
                for at, oid, o in keyed
                if (since is None or at >= since) and (after is None or (at, oid) > after)
            ]
            page = rows[:limit]
            cursor = _encode_cursor(page[-1][0], page[-1][1]) if len(rows) > limit else None
            return json_response({"orders": [dict(o) for _, _, o in page], "next_cursor": cursor})

    async def get_order(self, request: Request) -> Response:
        """``GET /orders/{id}``."""
        self._authorise(request)
        with self.lock:
            return json_response(dict(self._order(request.path_params["order_id"])))

    async def list_customers(self, request: Request) -> Response:
        """``GET /customers?page=&limit=``."""
        self._authorise(request)
        page = _int_param(request, "page", 1, low=1)
        limit = _int_param(request, "limit", 50, low=1, high=MAX_PRODUCTS_PAGE)
        with self.lock:
            customers = sorted(self.customers.values(), key=lambda c: str(c["id"]))
            chunk = customers[(page - 1) * limit : page * limit]
            return json_response(
                {"customers": chunk, "page": page, "has_more": page * limit < len(customers)}
            )

    async def list_locations(self, request: Request) -> Response:
        """``GET /locations``."""
        self._authorise(request)
        return json_response({"locations": self.locations})

    async def get_stock(self, request: Request) -> Response:
        """``GET /stock?skus=a,b``: listed stock of known SKUs (all when none given)."""
        self._authorise(request)
        wanted = [s for s in request.query_params.get("skus", "").split(",") if s]
        if len(wanted) > MAX_STOCK_SKUS:
            raise SandboxError(f"at most {MAX_STOCK_SKUS} SKUs per call", max=MAX_STOCK_SKUS)
        with self.lock:
            chosen = (
                [self.variants[s] for s in wanted if s in self.variants]
                if wanted
                else list(self.variants.values())
            )
            return json_response(
                {
                    "stock": [
                        {
                            "sku": v.sku,
                            "available": v.stock,
                            "location_id": "loc-hn",
                            "updated_at": v.updated_at.isoformat(),
                        }
                        for v in chosen
                    ]
                }
            )

    async def write_stock(self, request: Request) -> Response:
        """``POST /stock/batch``: set listed stock; ``expected`` makes it a compare-and-swap."""
        self._authorise(request)
        items = await _batch_items(request)
        self.note_operation(request, "stock.write", items=len(items))
        with self.lock:
            return json_response({"results": [self._set_stock(item) for item in items]})

    def _set_stock(self, item: dict[str, Any]) -> dict[str, Any]:
        sku, quantity, expected = item.get("sku"), item.get("quantity"), item.get("expected")
        variant = self.variants.get(sku) if isinstance(sku, str) else None
        if variant is None:
            return _item_error(sku, "unknown_sku", f"no listing with SKU {sku!r}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            return _item_error(sku, "invalid_quantity", "quantity must be an integer >= 0")
        if expected is not None and expected != variant.stock:
            return _item_error(
                sku,
                "stock_mismatch",
                f"expected {expected} but the listing holds {variant.stock}",
                actual=variant.stock,
            )
        variant.stock = quantity
        variant.updated_at = self.clock.now()
        return {"sku": sku, "ok": True, "available": quantity}

    async def write_prices(self, request: Request) -> Response:
        """``POST /prices/batch``: set prices (decimal strings in the listing's currency)."""
        self._authorise(request)
        items = await _batch_items(request)
        self.note_operation(request, "price.write", items=len(items))
        with self.lock:
            return json_response({"results": [self._set_price(item) for item in items]})

    def _set_price(self, item: dict[str, Any]) -> dict[str, Any]:
        sku = item.get("sku")
        variant = self.variants.get(sku) if isinstance(sku, str) else None
        if variant is None:
            return _item_error(sku, "unknown_sku", f"no listing with SKU {sku!r}")
        if item.get("currency") != variant.currency:
            return _item_error(
                sku, "currency_mismatch", f"the listing is priced in {variant.currency}"
            )
        try:
            price = Decimal(str(item.get("price")))
        except InvalidOperation:
            price = Decimal(-1)
        if not isinstance(item.get("price"), str) or not price.is_finite() or price < 0:
            return _item_error(sku, "invalid_price", "price must be a decimal string >= 0")
        variant.price = price
        variant.updated_at = self.clock.now()
        return {"sku": sku, "ok": True, "price": str(price)}

    async def webhooks(self, request: Request) -> Response:
        """``POST /webhooks`` subscribes a URL; ``DELETE /webhooks?url=`` removes it."""
        self._authorise(request)
        if request.method == "POST":
            body = await read_json(request)
            url = body.get("url") if isinstance(body, dict) else None
            topics = body.get("topics", list(TOPICS)) if isinstance(body, dict) else None
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise SandboxError("url must be an http(s) URL", field="url")
            if not isinstance(topics, list) or not set(topics) <= set(TOPICS):
                raise SandboxError(f"topics must be among {list(TOPICS)}", field="topics")
            with self.lock:
                self.subscriptions[url] = topics
                self.webhook_url = url
            return json_response({"url": url, "topics": topics}, 201)
        with self.lock:
            if request.method == "DELETE":
                url = request.query_params.get("url", "")
                if self.subscriptions.pop(url, None) is None:
                    raise UnknownObject("webhook subscription", url)
                if self.webhook_url == url:
                    self.webhook_url = next(iter(self.subscriptions), None)
                return json_response({"url": url, "deleted": True})
            return json_response(
                {"webhooks": [{"url": u, "topics": t} for u, t in self.subscriptions.items()]}
            )


def _item_error(sku: Any, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "ok": False, "error": code, "message": message, **extra}


async def _batch_items(request: Request) -> list[dict[str, Any]]:
    body = await read_json(request)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SandboxError('the body must be {"items": [{...}, ...]}', field="items")
    if not items:
        raise SandboxError("items is empty", field="items")
    if len(items) > MAX_BATCH:
        raise SandboxError(f"at most {MAX_BATCH} items per call, got {len(items)}", max=MAX_BATCH)
    return items


def _int_param(
    request: Request, name: str, default: int, *, low: int, high: int | None = None
) -> int:
    raw = request.query_params.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise SandboxError(f"{name} must be an integer", field=name) from None
    if value < low or (high is not None and value > high):
        raise SandboxError(f"{name} must be between {low} and {high}", field=name)
    return value


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise SandboxError(f"{name} must be an ISO 8601 time", field=name) from None
    if when.tzinfo is None:
        raise SandboxError(f"{name} needs a time zone offset", field=name)
    return when


def _encode_cursor(at: datetime, order_id: str) -> str:
    raw = json.dumps([at.isoformat(), order_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, order_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(order_id)
    except (ValueError, TypeError):
        raise SandboxError("cursor is not one this API gave out", field="cursor") from None
