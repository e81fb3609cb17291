"""The emulated catalog: items by retailer id, and how a feed-named request changes them.

Items are kept in creation order (that is the paging order). Reads show Graph names
(:meth:`CatalogItem.graph`), writes take feed names (:meth:`Catalog.apply`), as Meta does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from omnisdk.models import minor_units

__all__ = ["AVAILABILITIES", "Catalog", "CatalogItem", "display_price", "parse_feed_price"]

AVAILABILITIES = frozenset(
    {"in stock", "out of stock", "preorder", "available for order", "discontinued"}
)
"""The feed ``availability`` values Meta takes."""
REQUIRED_ON_CREATE = ("title", "description", "price", "availability", "condition", "link",
                      "image_link")
"""Feed fields a new item must have (Meta refuses the item otherwise)."""
_FEED_PRICE = re.compile(r"^(\d+(?:\.\d+)?) ([A-Z]{3})$")
_CONDITIONS = frozenset({"new", "refurbished", "used", "used_like_new", "used_good", "used_fair"})
_VISIBILITY = frozenset({"published", "staging", "hidden"})


def parse_feed_price(value: Any) -> tuple[Decimal, str]:
    """``"150000 VND"`` -> ``(Decimal(150000), "VND")``; ValueError says what is wrong."""
    if not isinstance(value, str):
        raise ValueError("price must be a string like \"150000 VND\"")
    found = _FEED_PRICE.match(value.strip())
    if not found:
        raise ValueError(f"price {value!r} is not '<amount> <ISO 4217 code>'")
    amount, currency = Decimal(found.group(1)), found.group(2)
    try:
        places = minor_units(currency)
    except ValueError:
        raise ValueError(f"price {value!r}: unknown currency {currency}") from None
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"price {value!r}: {currency} has {places} decimal places")
    return amount, currency


def display_price(amount: Decimal, currency: str) -> str:
    """A price as Meta's Graph shows it on read: ``"150.000 ₫"``, ``"$12.99"``, ``"9.50 EUR"``."""
    places = minor_units(currency)
    if currency == "VND":
        return f"{int(amount):,}".replace(",", ".") + " ₫"
    text = f"{amount.quantize(Decimal(1).scaleb(-places)):,f}"
    return f"${text}" if currency == "USD" else f"{text} {currency}"


@dataclass
class CatalogItem:
    """One product item, with the fields the sandbox keeps."""

    id: str
    retailer_id: str
    name: str
    price: Decimal
    currency: str
    updated_at: datetime
    description: str = ""
    availability: str = "in stock"
    condition: str = "new"
    quantity: int = 0
    group: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    sale_price: Decimal | None = None
    sale_starts: datetime | None = None
    sale_ends: datetime | None = None
    image_url: str | None = None
    url: str | None = None
    brand: str | None = None
    visibility: str = "published"

    def graph(self, fields: list[str]) -> dict[str, Any]:
        """The item as ``GET /products`` shows it, with only ``fields`` (``id`` always)."""
        full: dict[str, Any] = {
            "id": self.id,
            "retailer_id": self.retailer_id,
            "name": self.name,
            "description": self.description,
            "brand": self.brand,
            "price": display_price(self.price, self.currency),
            "sale_price": (
                display_price(self.sale_price, self.currency)
                if self.sale_price is not None
                else None
            ),
            "sale_price_start_date": _graph_time(self.sale_starts),
            "sale_price_end_date": _graph_time(self.sale_ends),
            "currency": self.currency,
            "availability": self.availability,
            "condition": self.condition,
            "inventory": self.quantity,
            "quantity_to_sell_on_facebook": self.quantity,
            "retailer_product_group_id": self.group,
            "additional_variant_attributes": dict(self.attributes) or None,
            "image_url": self.image_url,
            "url": self.url,
            "visibility": self.visibility,
            "review_status": "approved",
        }
        shown = {"id": self.id}
        for name in fields:
            if full.get(name) is not None:
                shown[name] = full[name]
        return shown


class Catalog:
    """One catalog's items by retailer id, in creation order."""

    def __init__(self, catalog_id: str, name: str, *, first_item_id: int) -> None:
        self.id = catalog_id
        self.name = name
        self.items: dict[str, CatalogItem] = {}
        self._next_id = first_item_id

    def new_item_id(self) -> str:
        """A fresh Graph id for an item."""
        self._next_id += 1
        return str(self._next_id)

    def by_graph_id(self, item_id: str) -> CatalogItem | None:
        """The item with Graph id ``item_id``."""
        return next((i for i in self.items.values() if i.id == item_id), None)

    def validate(self, method: Any, data: Any) -> str | None:
        """Why a request cannot be taken at all (answered in ``validation_status``), or None."""
        if method not in ("CREATE", "UPDATE", "DELETE"):
            return f"method must be CREATE, UPDATE or DELETE, got {method!r}"
        if not isinstance(data, dict):
            return "data must be an object"
        retailer_id = data.get("id")
        if not isinstance(retailer_id, str) or not retailer_id.strip() or len(retailer_id) > 100:
            return "data.id (the retailer id) must be a string of 1 to 100 characters"
        if method == "DELETE":
            return None
        for name in ("price", "sale_price"):
            if name in data and not (name == "sale_price" and data[name] in ("", None)):
                try:
                    parse_feed_price(data[name])
                except ValueError as exc:
                    return f"{name}: {exc}"
        window = data.get("sale_price_effective_date")
        if window not in (None, ""):
            try:
                effective_dates(window)
            except ValueError as exc:
                return f"sale_price_effective_date: {exc}"
        if "availability" in data and data["availability"] not in AVAILABILITIES:
            return f"availability {data['availability']!r} is not one Meta takes"
        if "condition" in data and data["condition"] not in _CONDITIONS:
            return f"condition {data['condition']!r} is not one Meta takes"
        if "visibility" in data and data["visibility"] not in _VISIBILITY:
            return f"visibility {data['visibility']!r} is not one Meta takes"
        for name in ("quantity_to_sell_on_facebook", "inventory"):
            value = data.get(name)
            if name in data and (isinstance(value, bool) or not isinstance(value, int)
                                 or not 0 <= value <= 10**9):
                return f"{name} must be an integer between 0 and 1000000000"
        return None

    def apply(self, method: str, data: dict[str, Any], *, allow_upsert: bool,
              now: datetime) -> str | None:
        """Carry out one validated request; the per-item error message, or None."""
        retailer_id = data["id"]
        item = self.items.get(retailer_id)
        if method == "DELETE":
            if item is None:
                return f"no item with retailer id {retailer_id}"
            del self.items[retailer_id]
            return None
        if item is None and method == "UPDATE" and not allow_upsert:
            return f"no item with retailer id {retailer_id} (allow_upsert is false)"
        if item is not None and method == "CREATE":
            return f"an item with retailer id {retailer_id} already exists"
        if item is None:
            missing = [name for name in REQUIRED_ON_CREATE if not data.get(name)]
            if missing:
                return f"a new item needs {', '.join(missing)}"
            amount, currency = parse_feed_price(data["price"])
            item = CatalogItem(
                id=self.new_item_id(), retailer_id=retailer_id, name=str(data["title"]),
                price=amount, currency=currency, updated_at=now,
            )
            self.items[retailer_id] = item
        _update(item, data)
        item.updated_at = now
        return None


def _update(item: CatalogItem, data: dict[str, Any]) -> None:
    if "title" in data:
        item.name = str(data["title"])
    if "description" in data:
        item.description = str(data["description"])
    if "price" in data:
        item.price, item.currency = parse_feed_price(data["price"])
    if "sale_price" in data:
        sale = data["sale_price"]
        item.sale_price = parse_feed_price(sale)[0] if sale not in ("", None) else None
    if "sale_price_effective_date" in data:
        window = data["sale_price_effective_date"]
        item.sale_starts, item.sale_ends = (
            effective_dates(window) if window not in ("", None) else (None, None)
        )
    for name in ("quantity_to_sell_on_facebook", "inventory"):
        if name in data:
            item.quantity = int(data[name])
    simple = {"availability": "availability", "condition": "condition", "link": "url",
              "image_link": "image_url", "brand": "brand", "visibility": "visibility"}
    for feed, attribute in simple.items():
        if feed in data:
            setattr(item, attribute, data[feed])
    if "item_group_id" in data:
        item.group = str(data["item_group_id"]) or None
    if "additional_variant_attribute" in data:
        item.attributes = _attributes(str(data["additional_variant_attribute"] or ""))


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in text.split(","):
        name, _, value = part.partition(":")
        if name.strip() and value.strip():
            found[name.strip()] = value.strip()
    return found


def price_of(value: str) -> Decimal:
    """A plain decimal from a seed's price text (for tests)."""
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def effective_dates(window: Any) -> tuple[datetime, datetime]:
    """``sale_price_effective_date``: two ISO 8601 times with their offsets, ``start/end``
    (e.g. ``2026-12-12T00:00+07:00/2026-12-13T00:00+07:00``); start before end."""
    if not isinstance(window, str) or window.count("/") != 1:
        raise ValueError("write it as two ISO 8601 times with offsets, START/END")
    start_text, end_text = window.split("/")
    try:
        start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"{window!r} is not two ISO 8601 times START/END") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("both times need their UTC offset, e.g. +07:00")
    if end <= start:
        raise ValueError("the end is not after the start")
    return start, end


def _graph_time(moment: datetime | None) -> str | None:
    """A time as Graph writes it, e.g. ``2026-12-12T00:00:00+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000") if moment else None
