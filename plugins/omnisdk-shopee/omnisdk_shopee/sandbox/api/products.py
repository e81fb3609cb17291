"""Sandbox handlers of Shopee's product and shop paths.

``get_item_list`` (offset paging, ``item_status`` filter, optional update-time range),
``get_item_base_info`` (at most 50 ids), ``get_model_list``, ``update_stock`` and
``update_price`` (one item, at most 50 models, per-model ``success_list``/``failure_list``),
and ``shop/get_shop_info``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.models import minor_units
from omnisdk.testing.api import route
from omnisdk_shopee.sandbox.api.gateway import (
    ShopeeApi,
    ShopeeApiError,
    array_param,
    int_id,
    int_param,
    json_number,
    param_error,
    shopee_response,
)
from omnisdk_shopee.sandbox.state.catalog import Catalog, Item

if TYPE_CHECKING:
    from omnisdk_shopee.sandbox.app import ShopeeSandbox

__all__ = [
    "MAX_BASE_INFO_IDS",
    "MAX_MODELS_PER_UPDATE",
    "MAX_PAGE_SIZE",
    "ProductsApi",
    "base_info",
    "model_list",
]

MAX_PAGE_SIZE = 100
MAX_BASE_INFO_IDS = 50
MAX_MODELS_PER_UPDATE = 50
ITEM_STATUSES = frozenset(
    {"NORMAL", "BANNED", "UNLIST", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE"}
)


class ProductsApi(ShopeeApi):
    """Shopee's product and shop endpoints, served for one sandbox."""

    @route("GET", "/api/v2/shop/get_shop_info")
    def get_shop_info(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/shop/get_shop_info``."""
        return shopee_response(
            self.sandbox.request_id(),
            flat={
                "shop_name": self.sandbox.shop_name,
                "region": self.sandbox.region,
                "status": "NORMAL",
                "is_cb": False,
                "is_cnsc": False,
                "is_sip": False,
                "auth_time": self.sandbox.now() - 86400,
                "expire_time": self.sandbox.now() + 365 * 86400,
            },
        )

    @route("GET", "/api/v2/product/get_item_list")
    def get_item_list(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/product/get_item_list``."""
        offset = int_param(request, "offset", required=True) or 0
        page_size = int_param(request, "page_size", required=True) or 0
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise param_error(f"page_size should be in [1, {MAX_PAGE_SIZE}].")
        if offset < 0:
            raise param_error("offset should not be negative.")
        statuses = set(array_param(request, "item_status"))
        if not statuses:
            raise param_error("item_status is required.")
        if statuses - ITEM_STATUSES:
            raise param_error(f"invalid item_status {sorted(statuses - ITEM_STATUSES)}.")
        since = int_param(request, "update_time_from")
        until = int_param(request, "update_time_to")
        items = [
            item
            for item in sorted(self.sandbox.catalog.items.values(), key=lambda i: i.item_id)
            if item.status in statuses
            and (since is None or item.updated >= since)
            and (until is None or item.updated <= until)
        ]
        page = items[offset : offset + page_size]
        more = offset + page_size < len(items)
        self.sandbox.note_operation(request, "products.read", items=len(page))
        response: dict[str, Any] = {
            "item": [
                {
                    "item_id": item.item_id,
                    "item_status": item.status,
                    "update_time": item.updated,
                }
                for item in page
            ],
            "total_count": len(items),
            "has_next_page": more,
        }
        if more:
            response["next_offset"] = offset + page_size
        return shopee_response(self.sandbox.request_id(), response, warning="")

    @route("GET", "/api/v2/product/get_item_base_info")
    def get_item_base_info(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/product/get_item_base_info``."""
        raw_ids = array_param(request, "item_id_list", at_most=MAX_BASE_INFO_IDS)
        try:
            ids = [int(value) for value in raw_ids]
        except ValueError:
            raise param_error("item_id_list must hold integers.") from None
        found = [self.sandbox.catalog.items[i] for i in ids if i in self.sandbox.catalog.items]
        missing = [i for i in ids if i not in self.sandbox.catalog.items]
        warning = f"item_id {missing} not found" if missing else ""
        return shopee_response(
            self.sandbox.request_id(),
            {"item_list": [base_info(item, self.sandbox.now()) for item in found]},
            warning=warning,
        )

    @route("GET", "/api/v2/product/get_model_list")
    def get_model_list(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/product/get_model_list``."""
        item = _item(self.sandbox, int_param(request, "item_id", required=True))
        return shopee_response(
            self.sandbox.request_id(), model_list(item, self.sandbox.now()), warning=""
        )

    @route("POST", "/api/v2/product/update_stock")
    def update_stock(self, request: Request, body: dict[str, Any]) -> Response:
        """``POST /api/v2/product/update_stock``."""
        item, entries = self._batch(request, body, "stock_list", "stock.write")
        success, failure = [], []
        for entry in entries:
            if "normal_stock" in entry and "seller_stock" not in entry:
                raise param_error("normal_stock is offline, please use seller_stock.")
            model_id = int_id(entry.get("model_id"))
            rows = entry.get("seller_stock")
            reason = _listing_problem(item, model_id) or _stock_problem(
                rows, self.sandbox.locations
            )
            if reason is not None:
                failure.append({"model_id": model_id, "failed_reason": reason})
                continue
            assert isinstance(rows, list)
            target = Catalog.stock_of(item, item.model(model_id))
            for row in rows:
                location = str(row.get("location_id") or "")
                target[location] = int(row["stock"])
                success.append(
                    {"model_id": model_id, "location_id": location, "stock": int(row["stock"])}
                )
        return self._batch_answer(item, success, failure)

    @route("POST", "/api/v2/product/update_price")
    def update_price(self, request: Request, body: dict[str, Any]) -> Response:
        """``POST /api/v2/product/update_price``."""
        item, entries = self._batch(request, body, "price_list", "price.write")
        success, failure = [], []
        quantum = Decimal(1).scaleb(-minor_units(item.currency))
        for entry in entries:
            model_id = int_id(entry.get("model_id"))
            reason = _listing_problem(item, model_id)
            price = _decimal(entry.get("original_price"))
            if reason is None and (price is None or price <= 0):
                reason = "error_invalid_price: original_price must be a positive number."
            elif reason is None and price is not None and price != price.quantize(quantum):
                reason = (
                    f"error_invalid_price: {item.currency} prices allow "
                    f"{minor_units(item.currency)} decimal places."
                )
            if reason is not None or price is None:
                failure.append({"model_id": model_id, "failed_reason": reason})
                continue
            model = item.model(model_id)
            if model is not None:
                model.price = price
            else:
                item.price = price
            success.append({"model_id": model_id, "original_price": price})
        return self._batch_answer(item, success, failure)

    def _batch(
        self, request: Request, body: dict[str, Any], name: str, operation: str
    ) -> tuple[Item, list[dict[str, Any]]]:
        """The item and the entries of a per-model write, noted for the request log."""
        item = _item(self.sandbox, body.get("item_id"))
        entries = _entries(body, name)
        self.sandbox.note_operation(request, operation, items=len(entries))
        return item, entries

    def _batch_answer(
        self, item: Item, success: list[dict[str, Any]], failure: list[dict[str, Any]]
    ) -> Response:
        """A per-model write's answer; the item counts as updated when any model was."""
        if success:
            item.updated = self.sandbox.now()
        return shopee_response(
            self.sandbox.request_id(),
            {"success_list": success, "failure_list": failure},
            warning="",
        )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _item(sandbox: ShopeeSandbox, raw_id: Any) -> Item:
    item_id = int_id(raw_id) if raw_id is not None else None
    if item_id is None:
        raise param_error("item_id is required.")
    item = sandbox.catalog.items.get(item_id)
    if item is None:
        raise ShopeeApiError("error_item_not_found", f"Item {item_id} not found.")
    return item


def _entries(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    entries = body.get(name)
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_MODELS_PER_UPDATE:
        raise param_error(f"{name} size should be in [1, {MAX_MODELS_PER_UPDATE}].")
    if not all(isinstance(entry, dict) for entry in entries):
        raise param_error(f"every {name} entry must be an object.")
    return entries


def _stock_problem(rows: Any, locations: tuple[str, ...]) -> str | None:
    """Why ``seller_stock`` rows cannot be written (None when they can)."""
    if not isinstance(rows, list) or not rows:
        return "seller_stock is required."
    for row in rows:
        location = str(row.get("location_id") or "")
        stock = row.get("stock")
        if location not in locations:
            return f"location_id {location!r} is not a warehouse of the shop."
        if isinstance(stock, bool) or not isinstance(stock, int) or stock < 0:
            return "stock must be a whole number >= 0."
    return None


def _listing_problem(item: Item, model_id: int) -> str | None:
    if item.has_model and item.model(model_id) is None:
        return f"model_id {model_id} does not belong to item {item.item_id}."
    if not item.has_model and model_id != 0:
        return f"item {item.item_id} has no models: use model_id 0."
    return None


# -- Shopee's response shapes ------------------------------------------------------------


def price_info(
    currency: str, price: Decimal, current: Decimal | None = None
) -> list[dict[str, Any]]:
    """Shopee's ``price_info`` list for one price; ``current`` is a running discount's."""
    now = price if current is None else current
    return [
        {
            "currency": currency,
            "original_price": json_number(price),
            "current_price": json_number(now),
            "inflated_price_of_original_price": json_number(price),
            "inflated_price_of_current_price": json_number(now),
        }
    ]


def _promotion_of(item: Item, model_id: int, now: int | None) -> dict[str, Any]:
    offer = item.offer(model_id, now) if now is not None else None
    if offer is None:
        return {"promotion_id": 0, "has_promotion": False}
    return {"promotion_id": offer.discount.discount_id, "has_promotion": True}


def stock_info(stock: dict[str, int], reserved: int) -> dict[str, Any]:
    """Shopee's ``stock_info_v2`` for seller stock per location."""
    total = sum(stock.values())
    return {
        "summary_info": {
            "total_reserved_stock": reserved,
            "total_available_stock": max(total - reserved, 0),
        },
        "seller_stock": [
            {"location_id": location, "stock": quantity, "if_saleable": True}
            for location, quantity in stock.items()
        ],
        "shopee_stock": [],
    }


def base_info(item: Item, now: int | None = None) -> dict[str, Any]:
    """The item as ``get_item_base_info`` describes it (at ``now``: its running discount)."""
    info: dict[str, Any] = {
        "item_id": item.item_id,
        "category_id": 100_017,
        "item_name": item.name,
        "description": item.description,
        "item_sku": item.sku,
        "create_time": item.created,
        "update_time": item.updated,
        "attribute_list": [],
        "image": {
            "image_url_list": [f"https://cf.shopee.vn/file/sandbox-{item.item_id}"],
            "image_id_list": [f"sandbox-{item.item_id}"],
        },
        "weight": item.weight,
        "dimension": {"package_length": 20, "package_width": 15, "package_height": 5},
        "logistic_info": [],
        "pre_order": {"is_pre_order": False, "days_to_ship": 2},
        "condition": "NEW",
        "item_status": item.status,
        "has_model": item.has_model,
        "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
    }
    if not item.has_model:
        info["price_info"] = price_info(
            item.currency, item.price, item.current_price(0, now) if now is not None else None
        )
        info["stock_info_v2"] = stock_info(item.stock, 0)
    return info


def model_list(item: Item, now: int | None = None) -> dict[str, Any]:
    """The ``get_model_list`` response of an item (at ``now``: running discounts shown)."""
    return {
        "tier_variation": [
            {"name": name, "option_list": [{"option": option} for option in options]}
            for name, options in item.tiers
        ],
        "model": [
            {
                "model_id": model.model_id,
                "model_sku": model.sku,
                "model_status": model.status,
                "tier_index": list(model.tier_index),
                "price_info": price_info(
                    item.currency,
                    model.price,
                    item.current_price(model.model_id, now) if now is not None else None,
                ),
                "stock_info_v2": stock_info(model.stock, model.reserved),
                **_promotion_of(item, model.model_id, now),
                "weight": item.weight,
            }
            for model in item.models
        ],
        "standardise_tier_variation": [],
    }
