"""Sandbox handlers of Lazada's product, stock and seller paths.

``/products/get`` (``filter``, update/create time bounds, ``sku_seller_list``, offset paging
with ``limit`` at most 50 and an offset ceiling, 10,000 by default), ``/product/item/get``,
``/product/price_quantity/update`` (XML or JSON ``payload``, at most 50 SKUs, per-SKU results:
code ``501`` with ``detail`` for those that failed, the others applied),
``/product/stock/sellable/update`` (absolute sellable figure) and
``/product/stock/sellable/adjust`` (signed delta), and ``/seller/get``.

Products are listed in item id order (Lazada does not document an order).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.models import minor_units
from omnisdk.testing.api import route
from omnisdk_lazada.sandbox.api.gateway import (
    Call,
    LazadaApi,
    business_error,
    int_param,
    lazada_response,
)
from omnisdk_lazada.sandbox.state.catalog import Item, Sku

if TYPE_CHECKING:
    from omnisdk_lazada.sandbox.app import LazadaSandbox

__all__ = ["MAX_PAGE_SIZE", "MAX_SKUS", "ProductsApi", "parse_payload", "product_entry"]

MAX_PAGE_SIZE = 50
MAX_SKUS = 50
MAX_SELLER_SKUS = 100
FILTERS = frozenset(
    {"all", "live", "inactive", "deleted", "image-missing", "pending", "rejected", "sold-out"}
)


def parse_time_param(call: Call, name: str) -> float | None:
    """An ISO 8601 time parameter (``+07:00`` or ``+0700``); code ``17`` when malformed."""
    raw = call.get(name)
    if raw is None:
        return None
    text = raw.strip().replace(" ", "+") if "T" in raw else raw.strip()
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise business_error(
            "17", f"E017: Invalid Date Format for {name}: use YYYY-MM-DDTHH:mm:ss+HH:MM"
        )
    return parsed.timestamp()


def parse_payload(raw: str | None) -> list[dict[str, Any]]:
    """The ``<Sku>`` entries of an XML payload (or of its JSON form), as dicts of text.

    Malformed XML or JSON is Lazada's ``5`` (invalid request format); no SKU, ``30``; more
    than 50, ``4171``. ``MultiWarehouseInventories`` becomes a list of dicts.
    """
    if raw is None or not raw.strip():
        raise business_error("30", "E030: Empty Request", kind="ISV")
    text = raw.strip()
    if text.startswith("{"):
        skus = _json_skus(text)
    else:
        if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
            raise business_error("5", "E005: Invalid Request Format", kind="ISV")
        try:
            root = ET.fromstring(text)  # noqa: S314 (DOCTYPE/ENTITY refused above)
        except ET.ParseError as exc:
            raise business_error("5", f"E005: Invalid Request Format ({exc})", kind="ISV") from None
        if root.tag != "Request":
            raise business_error("5", "E005: Invalid Request Format (no <Request>)", kind="ISV")
        skus = [_xml_sku(node) for node in root.findall("./Product/Skus/Sku")]
    if not skus:
        raise business_error("30", "E030: Empty Request: no <Sku> in the payload", kind="ISV")
    if len(skus) > MAX_SKUS:
        raise business_error(
            "4171", f"The number of SKUs exceeds the limit of {MAX_SKUS} ({len(skus)} sent)"
        )
    return skus


def _xml_sku(node: ET.Element) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for child in node:
        if child.tag == "MultiWarehouseInventories":
            entry[child.tag] = [
                {part.tag: (part.text or "").strip() for part in inventory}
                for inventory in child.findall("MultiWarehouseInventory")
            ]
        else:
            entry[child.tag] = (child.text or "").strip()
    return entry


def _json_skus(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
        skus = data["Request"]["Product"]["Skus"]["Sku"]
    except (ValueError, KeyError, TypeError):
        raise business_error("5", "E005: Invalid Request Format", kind="ISV") from None
    if isinstance(skus, dict):
        skus = [skus]
    if not isinstance(skus, list) or not all(isinstance(s, dict) for s in skus):
        raise business_error("5", "E005: Invalid Request Format", kind="ISV")
    return [{k: v if isinstance(v, list) else str(v) for k, v in s.items()} for s in skus]


class _SkuFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProductsApi(LazadaApi):
    """Lazada's product, stock and seller endpoints, served for one sandbox."""

    @route("GET", "/seller/get")
    def seller_get(self, request: Request, call: Call) -> Response:
        """``GET /seller/get``."""
        sandbox = self.sandbox
        return lazada_response(
            sandbox.request_id(),
            {
                "name": sandbox.shop_name,
                "name_company": sandbox.shop_name,
                "seller_id": int(sandbox.seller_id),
                "short_code": sandbox.short_code,
                "email": sandbox.account_email,
                "location": "Hồ Chí Minh",
                "status": "ACTIVE",
                "verified": True,
                "cb": False,
            },
        )

    @route("GET", "/products/get")
    def products_get(self, request: Request, call: Call) -> Response:
        """``GET /products/get``."""
        sandbox = self.sandbox
        wanted = call.get("filter", "all") or "all"
        if wanted not in FILTERS:
            raise business_error("InvalidParameter", f'Invalid parameter "filter": {wanted}')
        offset = int_param(call, "offset", default=0, code="14") or 0
        limit = int_param(call, "limit", default=10, code="19") or 0
        if offset < 0 or offset > sandbox.product_offset_ceiling:
            raise business_error(
                "14", f"E014: Invalid Offset (at most {sandbox.product_offset_ceiling})"
            )
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise business_error("19", f"E019: Invalid Limit (1 to {MAX_PAGE_SIZE})")
        bounds = {
            name: parse_time_param(call, name)
            for name in ("update_after", "update_before", "create_after", "create_before")
        }
        seller_skus = _seller_skus(call)
        items = [
            item
            for item in sorted(sandbox.catalog.items.values(), key=lambda i: i.item_id)
            if _matches(item, wanted, bounds, seller_skus)
        ]
        page = items[offset : offset + limit]
        sandbox.note_operation(request, "products.read", items=len(page))
        return lazada_response(
            sandbox.request_id(),
            {
                "total_products": len(items),
                "products": [product_entry(item, sandbox) for item in page],
            },
        )

    @route("GET", "/product/item/get")
    def item_get(self, request: Request, call: Call) -> Response:
        """``GET /product/item/get`` (``item_id`` or ``seller_sku``)."""
        catalog = self.sandbox.catalog
        item: Item | None = None
        item_id = int_param(call, "item_id")
        if item_id is not None:
            item = catalog.items.get(item_id)
        elif call.get("seller_sku"):
            found = catalog.find(call.get("seller_sku") or "")
            item = found[0] if found else None
        else:
            raise business_error(
                "MissingParameter", "item_id or seller_sku is required", kind="ISV"
            )
        if item is None:
            raise business_error("208", "E208: Product not found")
        return lazada_response(self.sandbox.request_id(), product_entry(item, self.sandbox))

    @route("POST", "/product/price_quantity/update")
    def price_quantity_update(self, request: Request, call: Call) -> Response:
        """``POST /product/price_quantity/update``: Price, SalePrice, Quantity (total)."""
        entries = parse_payload(call.get("payload"))
        writes_price = any("Price" in e or "SalePrice" in e for e in entries)
        self.sandbox.note_operation(
            request, "price.write" if writes_price else "stock.write", items=len(entries)
        )
        return self._apply(entries, self._price_quantity)

    @route("POST", "/product/stock/sellable/update")
    def sellable_update(self, request: Request, call: Call) -> Response:
        """``POST /product/stock/sellable/update``: set the sellable figure."""
        entries = parse_payload(call.get("payload"))
        self.sandbox.note_operation(request, "stock.write", items=len(entries))
        return self._apply(entries, lambda item, sku, e: self._sellable(sku, e, delta=False))

    @route("POST", "/product/stock/sellable/adjust")
    def sellable_adjust(self, request: Request, call: Call) -> Response:
        """``POST /product/stock/sellable/adjust``: add a signed delta to the sellable figure."""
        entries = parse_payload(call.get("payload"))
        self.sandbox.note_operation(request, "stock.write", items=len(entries))
        return self._apply(entries, lambda item, sku, e: self._sellable(sku, e, delta=True))

    def _apply(self, entries: list[dict[str, Any]], write: Any) -> Response:
        """Apply each SKU's write; those that fail are listed in a ``501``'s ``detail``."""
        failed: list[dict[str, Any]] = []
        now = self.sandbox.clock.time()
        for entry in entries:
            seller_sku = str(entry.get("SellerSku") or "")
            try:
                item, sku = self._locate(entry)
                write(item, sku, entry)
                item.updated = max(item.updated, now)
            except _SkuFailed as failure:
                failed.append(
                    {"field": "SellerSku", "seller_sku": seller_sku, "message": failure.message}
                )
        if failed:
            raise business_error("501", "E501: Update product failed", detail=failed)
        return lazada_response(self.sandbox.request_id(), {})

    def _locate(self, entry: dict[str, Any]) -> tuple[Item, Sku]:
        catalog = self.sandbox.catalog
        if entry.get("ItemId") and entry.get("SkuId"):
            try:
                found = catalog.by_ids(int(entry["ItemId"]), int(entry["SkuId"]))
            except ValueError:
                raise _SkuFailed("ItemId and SkuId must be numbers") from None
            if found is None:
                raise _SkuFailed(f"SKU {entry['ItemId']}/{entry['SkuId']} not found")
            if entry.get("SellerSku") and entry["SellerSku"] != found[1].seller_sku:
                raise _SkuFailed("SellerSku does not match ItemId/SkuId")
            return found
        if entry.get("SellerSku"):
            found = catalog.find(str(entry["SellerSku"]))
            if found is None:
                raise _SkuFailed(f"SellerSku {entry['SellerSku']!r} not found")
            return found
        raise _SkuFailed("identify the SKU by ItemId and SkuId, or by SellerSku")

    def _price_quantity(self, item: Item, sku: Sku, entry: dict[str, Any]) -> None:
        price = _price(entry.get("Price"), item.currency, "Price")
        special = _price(entry.get("SalePrice"), item.currency, "SalePrice")
        if special is not None and special >= (price or sku.price):
            raise _SkuFailed(
                "4119: BIZ_CHECK_SPECIAL_PRICE_RATE_OUT_OF_RANGE: SalePrice must be lower "
                "than Price"
            )
        quantity: int | None = None
        if entry.get("MultiWarehouseInventories") is not None:
            rows = entry["MultiWarehouseInventories"]
            if not isinstance(rows, list) or not rows:
                raise _SkuFailed("MultiWarehouseInventories is empty")
            if any(str(row.get("WarehouseCode")) != "dropshipping" for row in rows):
                raise _SkuFailed("unknown WarehouseCode")
            quantity = sum(_count(row.get("Quantity"), "Quantity") for row in rows)
        elif entry.get("Quantity") not in (None, ""):
            quantity = _count(entry.get("Quantity"), "Quantity")
        if quantity is not None and quantity < sku.withhold + sku.occupy:
            raise _SkuFailed("negative sellable on channel inventory")
        window = _sale_window(entry, self.sandbox.zone)
        if window is not None and special is None and sku.special_price is None:
            raise _SkuFailed("SaleStartDate and SaleEndDate need a SalePrice")
        if price is not None:
            sku.price = price
        if special is not None:
            sku.special_price = special
        if window is not None:
            sku.special_from, sku.special_to = window
        if quantity is not None:
            sku.total = quantity

    def _sellable(self, sku: Sku, entry: dict[str, Any], *, delta: bool) -> None:
        raw = entry.get("SellableQuantity")
        rows = entry.get("MultiWarehouseInventories")
        if isinstance(rows, list) and rows:
            if any(str(row.get("WarehouseCode")) != "dropshipping" for row in rows):
                raise _SkuFailed("unknown WarehouseCode")
            raw = str(
                sum(
                    _count(row.get("SellableQuantity"), "SellableQuantity", signed=delta)
                    for row in rows
                )
            )
        value = _count(raw, "SellableQuantity", signed=delta)
        target = sku.sellable + value if delta else value
        if target < 0:
            raise _SkuFailed("negative sellable on channel inventory")
        sku.total = target + sku.withhold + sku.occupy


def _count(raw: Any, name: str, *, signed: bool = False) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise _SkuFailed(f"{name} must be a whole number") from None
    if value < 0 and not signed:
        raise _SkuFailed(f"{name} must be >= 0")
    return value


_SALE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _sale_time(raw: Any, name: str, zone: ZoneInfo, *, end: bool) -> datetime:
    """A ``SaleStartDate``/``SaleEndDate`` in the seller's local time: ``YYYY-MM-DD HH:mm``
    (or a bare date: the start of that day, or for an end the day's last minute, as the
    Seller Center shows it)."""
    text = str(raw).strip()
    for layout in _SALE_FORMATS:
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        if layout == "%Y-%m-%d" and end:
            moment = moment.replace(hour=23, minute=59)
        return moment.replace(tzinfo=zone)
    raise _SkuFailed(f"{name} {text!r} is not YYYY-MM-DD HH:mm")


def _sale_window(entry: dict[str, Any], zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The special price's dates of an entry (both or neither), checked."""
    start, end = entry.get("SaleStartDate"), entry.get("SaleEndDate")
    if start in (None, "") and end in (None, ""):
        return None
    if start in (None, "") or end in (None, ""):
        raise _SkuFailed("SaleStartDate and SaleEndDate go together")
    window = (
        _sale_time(start, "SaleStartDate", zone, end=False),
        _sale_time(end, "SaleEndDate", zone, end=True),
    )
    if window[1] <= window[0]:
        raise _SkuFailed(
            "4117: BIZ_CHECK_SPECIAL_PRICE_FROM_DATE_AFTER_TO_DATE: SaleEndDate must be after "
            "SaleStartDate"
        )
    return window


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    """A special-price time as ``/products/get`` shows it (local, ``YYYY-MM-DD HH:mm``)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _price(raw: Any, currency: str, name: str) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise _SkuFailed(f"{name} must be a number") from None
    if not value.is_finite() or value < 0:
        raise _SkuFailed(f"{name} must be positive")
    if value == 0:
        raise _SkuFailed(f"4118: BIZ_CHECK_PRICE_IS_ZERO: {name} is 0")
    if value != value.quantize(Decimal(1).scaleb(-minor_units(currency))):
        code = (
            "4121: BIZ_CHECK_SPECIAL_PRICE_PRECISION_INVALID"
            if name == "SalePrice"
            else "4104: BIZ_CHECK_PRICE_PRECISION_INVALID"
        )
        raise _SkuFailed(f"{code}: {name} precision invalid for {currency}")
    return value


def _seller_skus(call: Call) -> set[str] | None:
    raw = call.get("sku_seller_list")
    if raw is None:
        return None
    try:
        values = json.loads(raw)
    except ValueError:
        values = None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise business_error("70", "E070: sku_seller_list must be a JSON array of strings")
    if len(values) > MAX_SELLER_SKUS:
        raise business_error("70", f"E070: at most {MAX_SELLER_SKUS} seller SKUs")
    return set(values)


def _matches(
    item: Item, wanted: str, bounds: dict[str, float | None], seller_skus: set[str] | None
) -> bool:
    status = item.status.lower()
    if wanted == "deleted":
        if status != "deleted":
            return False
    elif status == "deleted":
        return False
    if wanted == "live" and status != "active":
        return False
    if wanted == "inactive" and status != "inactive":
        return False
    if wanted == "sold-out" and any(sku.sellable > 0 for sku in item.skus):
        return False
    for name, stamp, after in (
        ("update_after", item.updated, True),
        ("update_before", item.updated, False),
        ("create_after", item.created, True),
        ("create_before", item.created, False),
    ):
        bound = bounds[name]
        if bound is not None and (int(stamp) < int(bound) if after else int(stamp) > int(bound)):
            return False
    return seller_skus is None or any(sku.seller_sku in seller_skus for sku in item.skus)


def product_entry(item: Item, sandbox: LazadaSandbox) -> dict[str, Any]:
    """An item as ``/products/get`` describes it (``options=1`` fields included)."""
    site = sandbox.site
    return {
        "item_id": item.item_id,
        "primary_category": 8707,
        "status": item.status,
        "subStatus": "",
        "trialProduct": False,
        "created_time": str(int(item.created * 1000)),
        "updated_time": str(int(item.updated * 1000)),
        "images": [f"https://vn-live.slatic.net/p/sandbox-{item.item_id}.jpg"],
        "marketImages": [],
        "attributes": {
            "name": item.name,
            "description": item.description,
            "short_description": "",
            "brand": item.brand,
        },
        "skus": [
            {
                "SkuId": sku.sku_id,
                "SellerSku": sku.seller_sku,
                "ShopSku": f"{item.item_id}_{site}-{sku.sku_id}",
                "Status": sku.status,
                "quantity": sku.total,
                "Available": sku.sellable,
                "price": sku.price,
                "special_price": sku.special_price if sku.special_price is not None else sku.price,
                "special_from_time": _local(sku.special_from, sandbox.zone),
                "special_to_time": _local(sku.special_to, sandbox.zone),
                "saleProp": dict(sku.sale_prop),
                "multiWarehouseInventories": [
                    {
                        "warehouseCode": "dropshipping",
                        "quantity": sku.total,
                        "totalQuantity": sku.total,
                        "sellableQuantity": sku.sellable,
                        "occupyQuantity": sku.occupy,
                        "withholdQuantity": sku.withhold,
                    }
                ],
                "fblWarehouseInventories": [],
                "channelInventories": [],
                "package_weight": "0.3",
                "package_length": "10.00",
                "package_width": "10.00",
                "package_height": "10.00",
                "Url": f"https://www.lazada.vn/-i{item.item_id}-s{sku.sku_id}.html",
                "Images": [],
            }
            for sku in item.skus
        ],
        "suspendedSkus": [],
    }
