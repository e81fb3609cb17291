"""The REST Admin API subset the official ``ShopifyAPI`` client uses.

Paths are ``/admin/api/{version}/{resource}.json``; bodies are root-keyed JSON; lists page with
cursor ``page_info`` links in a ``Link`` header (after the first page only ``limit`` and
``fields`` may accompany ``page_info``); errors use the ``errors`` key. Access and the
leaky-bucket call limit are checked by the sandbox app before a handler runs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi, route
from omnisdk.testing.sandbox import read_json
from omnisdk_shopify.sandbox.api.gateway import RestError, admin_json, rest_endpoint
from omnisdk_shopify.sandbox.api.rest_views import (
    customer_json,
    inventory_item_json,
    inventory_level_json,
    location_json,
    order_json,
    product_json,
    shop_json,
    variant_json,
    webhook_json,
)
from omnisdk_shopify.sandbox.state.order_flow import close_order
from omnisdk_shopify.sandbox.state.records import (
    InventoryLevel,
    Order,
    ShopStateError,
    WebhookSubscription,
)
from omnisdk_shopify.sandbox.state.shop import ShopState

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.app import ShopifySandbox  # noqa: F401 (in the base class)

__all__ = ["RestAdminApi"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
_PAGING_ONLY = {"limit", "fields", "page_info"}


def _int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise RestError(400, {name: ["expected an integer"]}) from None


def _ids(value: str | None) -> set[int] | None:
    if not value:
        return None
    try:
        return {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        raise RestError(400, {"ids": ["expected a comma-separated list of integers"]}) from None


def _instant(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RestError(400, {name: ["is not a valid date"]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fields(objects: list[dict[str, Any]], fields: str | None) -> list[dict[str, Any]]:
    if not fields:
        return objects
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    return [{k: v for k, v in obj.items() if k in wanted} for obj in objects]


def _encode_page(params: dict[str, str], after: int | None, before: int | None) -> str:
    raw = json.dumps({"p": params, "a": after, "b": before}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page(token: str) -> tuple[dict[str, str], int | None, int | None]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return dict(data["p"]), data["a"], data["b"]
    except (ValueError, KeyError, TypeError):
        raise RestError(400, {"page_info": ["Invalid value."]}) from None


class _Page:
    """Cursor paging of one list request, Shopify style."""

    def __init__(self, request: Request) -> None:
        self.request = request
        query = dict(request.query_params)
        self.limit = _int(query.get("limit"), "limit") or DEFAULT_LIMIT
        if not 1 <= self.limit <= MAX_LIMIT:
            raise RestError(400, {"limit": [f"must be between 1 and {MAX_LIMIT}"]})
        self.fields = query.get("fields")
        token = query.get("page_info")
        self.after: int | None = None
        self.before: int | None = None
        if token:
            extra = sorted(set(query) - _PAGING_ONLY)
            if extra:
                raise RestError(
                    400, {"page_info": [f"{extra[0]} cannot be passed when page_info is present"]}
                )
            self.params, self.after, self.before = _decode_page(token)
        else:
            self.params = {k: v for k, v in query.items() if k not in _PAGING_ONLY}

    def slice(self, items: list[Any], key: Callable[[Any], int]) -> tuple[list[Any], str]:
        """The page of ``items`` (ordered by ``key``) and the ``Link`` header for it."""
        ordered = sorted(items, key=key)
        if self.before is not None:
            earlier = [i for i in ordered if key(i) < self.before]
            page = earlier[-self.limit :]
            has_previous, has_next = len(earlier) > self.limit, True
        else:
            later = [i for i in ordered if self.after is None or key(i) > self.after]
            page = later[: self.limit]
            has_previous, has_next = self.after is not None, len(later) > self.limit
        base = str(self.request.url.replace(query=""))
        links = []
        if page and has_previous:
            links.append(f'<{self._url(base, None, key(page[0]))}>; rel="previous"')
        if page and has_next:
            links.append(f'<{self._url(base, key(page[-1]), None)}>; rel="next"')
        return page, ", ".join(links)

    def _url(self, base: str, after: int | None, before: int | None) -> str:
        token = _encode_page(self.params, after, before)
        extra = f"&fields={self.fields}" if self.fields else ""
        return f"{base}?limit={self.limit}{extra}&page_info={token}"


def _listing(
    request: Request, key: str, objects: Iterable[Any], view: Callable[[Any], Any], page: _Page
) -> Response:
    chosen, link = page.slice(list(objects), key=lambda o: o.id)
    body = {key: _fields([view(o) for o in chosen], page.fields)}
    headers = {"Link": link} if link else {}
    return admin_json(body, headers=headers)


def _root(body: Any, key: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise RestError(400, {key: "Required parameter missing or invalid"})
    return dict(body[key])


def _decimal(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RestError(422, {name: ["is not a number"]}) from None
    if not number.is_finite() or number < 0:
        raise RestError(422, {name: ["must be greater than or equal to 0"]})
    return number


def _time_filters(params: dict[str, str], objects: list[Any]) -> list[Any]:
    for field in ("updated_at", "created_at", "processed_at"):
        low = _instant(params.get(f"{field}_min"), f"{field}_min")
        high = _instant(params.get(f"{field}_max"), f"{field}_max")
        if low:
            objects = [o for o in objects if getattr(o, field) >= low]
        if high:
            objects = [o for o in objects if getattr(o, field) <= high]
    since = _int(params.get("since_id"), "since_id")
    if since is not None:
        objects = [o for o in objects if o.id > since]
    ids = _ids(params.get("ids"))
    if ids is not None:
        objects = [o for o in objects if o.id in ids]
    return objects


def _order_filter(params: dict[str, str], order: Order) -> bool:
    status = params.get("status", "open")
    if status == "open" and (order.closed_at or order.cancelled_at):
        return False
    if status == "closed" and not order.closed_at:
        return False
    if status == "cancelled" and not order.cancelled_at:
        return False
    financial = params.get("financial_status", "any")
    if financial not in ("any", order.financial_status):
        return False
    fulfilment = params.get("fulfillment_status", "any")
    shipped = order.fulfillment_status == "fulfilled"
    return {
        "any": True,
        "shipped": shipped,
        "unshipped": not shipped,
        "unfulfilled": not shipped,
        "partial": order.fulfillment_status == "partial",
    }.get(fulfilment, True)


class RestAdminApi(SandboxApi["ShopifySandbox"]):
    """The REST Admin API of one sandbox: a method per endpoint, :meth:`routes` to serve them."""

    prefix: ClassVar[str] = "/admin/api/{version}"

    @property
    def shop(self) -> ShopState:
        """The sandbox's shop state (replaced on reset, so read it each time)."""
        return self.sandbox.shop

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Every REST endpoint passes the gateway: access, call limit, lock, error bodies."""
        return rest_endpoint(self.sandbox, handler)

    # -- shop, products, variants ---------------------------------------------------------

    @route("GET", "/shop.json")
    def get_shop(self, request: Request) -> Response:
        """``GET /shop.json``."""
        return admin_json({"shop": shop_json(self.shop)})

    def product_filter(self, params: dict[str, str]) -> list[Any]:
        """Products matching the list filters."""
        products = _time_filters(params, list(self.shop.products.values()))
        for field in ("status", "vendor", "handle", "product_type"):
            if params.get(field):
                wanted = {v.strip() for v in params[field].split(",")}
                products = [p for p in products if getattr(p, field) in wanted]
        return products

    @route("GET", "/products.json")
    def list_products(self, request: Request) -> Response:
        """``GET /products.json``."""
        page = _Page(request)
        self.sandbox.note_operation(request, "products.read")
        return _listing(
            request,
            "products",
            self.product_filter(page.params),
            lambda p: product_json(self.shop, p),
            page,
        )

    @route("GET", "/products/count.json")
    def count_products(self, request: Request) -> Response:
        """``GET /products/count.json``."""
        return admin_json({"count": len(self.product_filter(dict(request.query_params)))})

    @route("GET", "/products/{id:int}.json")
    def get_product(self, request: Request) -> Response:
        """``GET /products/{id}.json``."""
        product = self.shop.get(self.shop.products, int(request.path_params["id"]), "product")
        return admin_json(
            {
                "product": _fields(
                    [product_json(self.shop, product)], request.query_params.get("fields")
                )[0]
            }
        )

    @route("GET", "/products/{id:int}/variants.json")
    def list_variants(self, request: Request) -> Response:
        """``GET /products/{id}/variants.json``."""
        product = self.shop.get(self.shop.products, int(request.path_params["id"]), "product")
        page = _Page(request)
        return _listing(
            request,
            "variants",
            self.shop.product_variants(product),
            lambda v: variant_json(self.shop, v),
            page,
        )

    @route("GET", "/variants/{id:int}.json")
    def get_variant(self, request: Request) -> Response:
        """``GET /variants/{id}.json``."""
        variant = self.shop.get(self.shop.variants, int(request.path_params["id"]), "variant")
        return admin_json({"variant": variant_json(self.shop, variant)})

    @route("PUT", "/variants/{id:int}.json")
    async def update_variant(self, request: Request) -> Response:
        """``PUT /variants/{id}.json`` (price, compare-at price, SKU, barcode)."""
        body = _root(await _body(request), "variant")
        variant = self.shop.get(self.shop.variants, int(request.path_params["id"]), "variant")
        self.sandbox.note_operation(request, "price.write", items=1)
        self.shop.update_variant(
            variant,
            price=_decimal(body.get("price"), "price"),
            compare_at_price=_decimal(body.get("compare_at_price"), "compare_at_price"),
            clear_compare_at="compare_at_price" in body and body["compare_at_price"] is None,
            sku=body.get("sku"),
            barcode=body.get("barcode"),
        )
        product = self.shop.products[variant.product_id]
        self.sandbox.emit_webhook("products/update", product_json(self.shop, product))
        return admin_json({"variant": variant_json(self.shop, variant)})

    # -- locations and inventory ----------------------------------------------------------

    @route("GET", "/locations.json")
    def list_locations(self, request: Request) -> Response:
        """``GET /locations.json`` (not paged)."""
        return admin_json(
            {"locations": [location_json(self.shop, loc) for loc in self.shop.locations.values()]}
        )

    @route("GET", "/locations/{id:int}.json")
    def get_location(self, request: Request) -> Response:
        """``GET /locations/{id}.json``."""
        location = self.shop.get(self.shop.locations, int(request.path_params["id"]), "location")
        return admin_json({"location": location_json(self.shop, location)})

    def all_levels(self) -> list[InventoryLevel]:
        """Every inventory level of the shop."""
        return [
            level for item in self.shop.inventory_items.values() for level in item.levels.values()
        ]

    def level_page(self, request: Request, levels: list[InventoryLevel], page: _Page) -> Response:
        """One page of inventory levels."""
        chosen, link = page.slice(
            levels, key=lambda lv: lv.inventory_item_id * 10**12 + lv.location_id
        )
        body = {"inventory_levels": [inventory_level_json(self.shop, lv) for lv in chosen]}
        return admin_json(body, headers={"Link": link} if link else {})

    @route("GET", "/locations/{id:int}/inventory_levels.json")
    def location_levels(self, request: Request) -> Response:
        """``GET /locations/{id}/inventory_levels.json``."""
        location_id = int(request.path_params["id"])
        self.shop.get(self.shop.locations, location_id, "location")
        page = _Page(request)
        return self.level_page(
            request, [lv for lv in self.all_levels() if lv.location_id == location_id], page
        )

    @route("GET", "/inventory_levels.json")
    def list_levels(self, request: Request) -> Response:
        """``GET /inventory_levels.json`` (``inventory_item_ids`` and/or ``location_ids``)."""
        page = _Page(request)
        items = _ids(page.params.get("inventory_item_ids"))
        locations = _ids(page.params.get("location_ids"))
        if items is None and locations is None:
            raise RestError(422, {"base": ["inventory_item_ids or location_ids must be present"]})
        for name, chosen in (("inventory_item_ids", items), ("location_ids", locations)):
            if chosen is not None and len(chosen) > 50:
                raise RestError(422, {name: ["must have at most 50 ids"]})
        levels = [
            lv
            for lv in self.all_levels()
            if (items is None or lv.inventory_item_id in items)
            and (locations is None or lv.location_id in locations)
        ]
        low = _instant(page.params.get("updated_at_min"), "updated_at_min")
        if low:
            levels = [lv for lv in levels if lv.updated_at >= low]
        return self.level_page(request, levels, page)

    @route("POST", "/inventory_levels/set.json")
    async def set_level(self, request: Request) -> Response:
        """``POST /inventory_levels/set.json``: absolute, connects the location if needed."""
        body = await _body(request)
        item_id, location_id = (
            _int_field(body, "inventory_item_id"),
            _int_field(body, "location_id"),
        )
        available = _int_field(body, "available")
        self.sandbox.note_operation(request, "stock.write", items=1)
        item = self.shop.get(self.shop.inventory_items, item_id, "inventory item")
        location = self.shop.get(self.shop.locations, location_id, "location")
        if not item.tracked:
            raise RestError(422, ["Inventory item does not have inventory tracking enabled"])
        level = self.shop.connect(item, location)  # set connects an unconnected location
        if self.shop.set_quantity(level, "available", available):
            self.sandbox.emit_webhook(
                "inventory_levels/update", inventory_level_json(self.shop, level)
            )
        return admin_json({"inventory_level": inventory_level_json(self.shop, level)})

    @route("POST", "/inventory_levels/adjust.json")
    async def adjust_level(self, request: Request) -> Response:
        """``POST /inventory_levels/adjust.json``: a signed change."""
        body = await _body(request)
        level = self._level_of(body)
        delta = _int_field(body, "available_adjustment")
        self.sandbox.note_operation(request, "stock.write", items=1)
        self.shop.change_quantity(level, "available", delta)
        self.sandbox.emit_webhook("inventory_levels/update", inventory_level_json(self.shop, level))
        return admin_json({"inventory_level": inventory_level_json(self.shop, level)})

    @route("POST", "/inventory_levels/connect.json")
    async def connect_level(self, request: Request) -> Response:
        """``POST /inventory_levels/connect.json``."""
        body = await _body(request)
        item = self.shop.get(
            self.shop.inventory_items, _int_field(body, "inventory_item_id"), "inventory item"
        )
        location = self.shop.get(self.shop.locations, _int_field(body, "location_id"), "location")
        level = self.shop.connect(item, location)
        return admin_json({"inventory_level": inventory_level_json(self.shop, level)}, 201)

    def _level_of(self, body: Any) -> InventoryLevel:
        """The level named by a request body."""
        try:
            return self.shop.level(
                _int_field(body, "inventory_item_id"), _int_field(body, "location_id")
            )
        except ShopStateError as exc:
            raise RestError(422, [str(exc)]) from None

    @route("GET", "/inventory_items.json")
    def list_items(self, request: Request) -> Response:
        """``GET /inventory_items.json`` (``ids`` required, at most 100)."""
        page = _Page(request)
        ids = _ids(page.params.get("ids"))
        if ids is None:
            raise RestError(422, {"ids": ["is required"]})
        if len(ids) > 100:
            raise RestError(422, {"ids": ["must have at most 100 ids"]})
        return _listing(
            request,
            "inventory_items",
            [i for i in self.shop.inventory_items.values() if i.id in ids],
            lambda i: inventory_item_json(self.shop, i),
            page,
        )

    @route("GET", "/inventory_items/{id:int}.json")
    def get_item(self, request: Request) -> Response:
        """``GET /inventory_items/{id}.json``."""
        item = self.shop.get(
            self.shop.inventory_items, int(request.path_params["id"]), "inventory item"
        )
        return admin_json({"inventory_item": inventory_item_json(self.shop, item)})

    # -- orders and customers -------------------------------------------------------------

    def order_filter(self, params: dict[str, str]) -> list[Order]:
        """Orders matching the list filters (``status`` defaults to open)."""
        orders = _time_filters(params, list(self.shop.orders.values()))
        return [o for o in orders if _order_filter(params, o)]

    @route("GET", "/orders.json")
    def list_orders(self, request: Request) -> Response:
        """``GET /orders.json``."""
        page = _Page(request)
        self.sandbox.note_operation(request, "orders.read")
        return _listing(
            request,
            "orders",
            self.order_filter(page.params),
            lambda o: order_json(self.shop, o),
            page,
        )

    @route("GET", "/orders/count.json")
    def count_orders(self, request: Request) -> Response:
        """``GET /orders/count.json``."""
        return admin_json({"count": len(self.order_filter(dict(request.query_params)))})

    @route("GET", "/orders/{id:int}.json")
    def get_order(self, request: Request) -> Response:
        """``GET /orders/{id}.json``."""
        order = self.shop.get(self.shop.orders, int(request.path_params["id"]), "order")
        return admin_json(
            {
                "order": _fields(
                    [order_json(self.shop, order)], request.query_params.get("fields")
                )[0]
            }
        )

    @route("POST", "/orders/{id:int}/cancel.json")
    def cancel_order(self, request: Request) -> Response:
        """``POST /orders/{id}/cancel.json``."""
        order = self.shop.get(self.shop.orders, int(request.path_params["id"]), "order")
        self.sandbox.cancel(order)
        return admin_json({"order": order_json(self.shop, order)})

    @route("POST", "/orders/{id:int}/close.json")
    def close_order(self, request: Request) -> Response:
        """``POST /orders/{id}/close.json``."""
        order = self.shop.get(self.shop.orders, int(request.path_params["id"]), "order")
        close_order(self.shop, order)
        return admin_json({"order": order_json(self.shop, order)})

    @route("POST", "/orders/{id:int}/open.json")
    def open_order(self, request: Request) -> Response:
        """``POST /orders/{id}/open.json``."""
        order = self.shop.get(self.shop.orders, int(request.path_params["id"]), "order")
        order.closed_at = None
        order.updated_at = self.shop.now()
        return admin_json({"order": order_json(self.shop, order)})

    @route("GET", "/customers.json")
    def list_customers(self, request: Request) -> Response:
        """``GET /customers.json``."""
        page = _Page(request)
        customers = _time_filters(page.params, list(self.shop.customers.values()))
        return _listing(
            request, "customers", customers, lambda c: customer_json(self.shop, c), page
        )

    @route("GET", "/customers/{id:int}.json")
    def get_customer(self, request: Request) -> Response:
        """``GET /customers/{id}.json``."""
        customer = self.shop.get(self.shop.customers, int(request.path_params["id"]), "customer")
        return admin_json({"customer": customer_json(self.shop, customer)})

    @route("GET", "/customers/{id:int}/orders.json")
    def customer_orders(self, request: Request) -> Response:
        """``GET /customers/{id}/orders.json``."""
        customer_id = int(request.path_params["id"])
        self.shop.get(self.shop.customers, customer_id, "customer")
        page = _Page(request)
        orders = [o for o in self.order_filter(page.params) if o.customer_id == customer_id]
        return _listing(request, "orders", orders, lambda o: order_json(self.shop, o), page)

    # -- webhooks -------------------------------------------------------------------------

    @route("GET", "/webhooks.json")
    def list_webhooks(self, request: Request) -> Response:
        """``GET /webhooks.json``."""
        page = _Page(request)
        hooks = list(self.shop.webhook_subscriptions.values())
        if page.params.get("topic"):
            hooks = [h for h in hooks if h.topic == page.params["topic"]]
        return _listing(request, "webhooks", hooks, lambda w: webhook_json(self.shop, w), page)

    @route("POST", "/webhooks.json")
    async def create_webhook(self, request: Request) -> Response:
        """``POST /webhooks.json``."""
        body = _root(await _body(request), "webhook")
        topic, address = body.get("topic"), body.get("address")
        errors: dict[str, list[str]] = {}
        if not topic:
            errors["topic"] = ["can't be blank"]
        if not address:
            errors["address"] = ["can't be blank"]
        if errors:
            raise RestError(422, errors)
        if any(
            h.topic == topic and h.address == address
            for h in self.shop.webhook_subscriptions.values()
        ):
            raise RestError(422, {"address": ["for this topic has already been taken"]})
        now = self.shop.now()
        hook = WebhookSubscription(
            id=self.shop.next_id(),
            topic=str(topic),
            address=str(address),
            format=str(body.get("format", "json")),
            created_at=now,
            updated_at=now,
            api_version=request.path_params["version"],
        )
        self.shop.webhook_subscriptions[hook.id] = hook
        return admin_json({"webhook": webhook_json(self.shop, hook)}, 201)

    @route("DELETE", "/webhooks/{id:int}.json")
    def delete_webhook(self, request: Request) -> Response:
        """``DELETE /webhooks/{id}.json``."""
        hook_id = int(request.path_params["id"])
        self.shop.get(self.shop.webhook_subscriptions, hook_id, "webhook")
        del self.shop.webhook_subscriptions[hook_id]
        return admin_json({})


async def _body(request: Request) -> Any:
    return await read_json(
        request, invalid=lambda: RestError(400, "Bad Request: the body is not valid JSON")
    )


def _int_field(body: Any, name: str) -> int:
    value = body.get(name) if isinstance(body, dict) else None
    if isinstance(value, bool) or value is None:
        raise RestError(422, {name: ["is required"]})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RestError(422, {name: ["expected an integer"]}) from None
