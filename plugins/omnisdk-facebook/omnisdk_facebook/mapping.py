"""Meta catalog items <-> omnisdk's canonical types.

Meta has two vocabularies for one item. Reads (``GET /{catalog_id}/products``) use Graph
names: ``retailer_id`` (our SKU), ``name``, ``price`` (a display string), ``currency``,
``inventory``/``quantity_to_sell_on_facebook``, ``retailer_product_group_id`` (the product a
variant belongs to), ``additional_variant_attributes``. Writes (``items_batch``) use feed
names: ``id`` (= the retailer id), ``title``, ``price`` as ``"150000 VND"``,
``quantity_to_sell_on_facebook``, ``item_group_id``, ``additional_variant_attribute``
(``"Màu:Đỏ,Cỡ:M"``). This module holds both directions; nothing here does I/O.

A canonical product is the items sharing a ``retailer_product_group_id`` (one item without
one is a product of its own); the raw record :func:`product_from_items` maps is
``{"id", "retailer_product_group_id", "items": [...]}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from omnisdk.models import (
    ChannelRef,
    Image,
    Money,
    Product,
    ProductStatus,
    StockLevel,
    Variant,
    listed_count,
    minor_units,
)

__all__ = [
    "ITEM_FIELDS",
    "PROMOTION_FIELDS",
    "STOCK_FIELDS",
    "availability_for",
    "item_data",
    "parse_price",
    "price_text",
    "product_from_items",
    "selling_price",
    "stock_level",
    "variant_attribute",
]

ITEM_FIELDS = (
    "id,retailer_id,name,description,brand,price,sale_price,currency,availability,"
    "inventory,quantity_to_sell_on_facebook,retailer_product_group_id,"
    "additional_variant_attributes,color,size,image_url,url,visibility,review_status"
)
"""The Graph fields the channel reads of every item (Graph returns few by default)."""
STOCK_FIELDS = "id,retailer_id,inventory,quantity_to_sell_on_facebook"
"""The fields a stock read needs."""
PROMOTION_FIELDS = (
    "id,retailer_id,price,currency,sale_price,sale_price_start_date,sale_price_end_date"
)
"""What a read of the price a buyer pays asks ``/products`` for."""

_SYMBOLS = {"₫": "VND", "$": "USD", "€": "EUR", "฿": "THB", "₱": "PHP", "RM": "MYR", "Rp": "IDR"}
_NUMBER = re.compile(r"\d[\d.,\s\u00a0\u202f]*")
_OPTION_FIELDS = (("color", "Màu"), ("size", "Cỡ"))
_HIDDEN = frozenset({"staging", "hidden"})


def price_text(money: Money) -> str:
    """The ``items_batch`` price string: ``"150000 VND"``, ``"12.99 USD"``."""
    digits = money.minor_units
    amount = money.amount.quantize(Decimal(1).scaleb(-digits))
    return f"{amount:f} {money.currency}"


def parse_price(value: Any, currency: str | None) -> Money:
    """Money from a price as Meta shows it: ``"150000 VND"``, ``"150.000 ₫"``, ``"$12.99"``,
    ``"12,99 €"`` or a bare number; ``currency`` (the item's) wins over a symbol.

    For a currency without minor unit (VND) every ``.`` and ``,`` is a thousands separator;
    otherwise the last one followed by exactly the currency's number of digits is the
    decimal point.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"no price: {value!r}")
    text = str(value).strip()
    code = (currency or "").strip().upper() or None
    found = re.search(r"\b([A-Z]{3})\b", text)
    if code is None and found:
        code = found.group(1)
    if code is None:
        code = next((c for symbol, c in _SYMBOLS.items() if symbol in text), None)
    if code is None:
        raise ValueError(f"price {text!r} names no currency")
    number = _NUMBER.search(text)
    if number is None:
        raise ValueError(f"price {text!r} holds no amount")
    digits = re.sub(r"[\s\u00a0\u202f]", "", number.group(0)).rstrip(".,")
    places = minor_units(code)
    if places == 0:
        plain = digits.replace(".", "").replace(",", "")
    else:
        last = max(digits.rfind("."), digits.rfind(","))
        if last >= 0 and len(digits) - last - 1 == places:
            plain = digits[:last].replace(".", "").replace(",", "") + "." + digits[last + 1 :]
        else:
            plain = digits.replace(".", "").replace(",", "")
    try:
        amount = Decimal(plain)
    except InvalidOperation:
        raise ValueError(f"price {text!r} is not a number") from None
    return Money.of(amount, code)


def selling_price(item: Mapping[str, Any], now: datetime) -> Money:
    """What a buyer pays for ``item`` at ``now``: its ``sale_price`` while ``now`` is within
    ``sale_price_start_date`` (included) and ``sale_price_end_date`` (excluded), or always
    when it has no dates; otherwise its ``price``."""
    currency = item.get("currency")
    price = parse_price(item.get("price"), currency)
    sale = item.get("sale_price")
    if sale in (None, ""):
        return price
    starts, ends = item.get("sale_price_start_date"), item.get("sale_price_end_date")
    if starts and datetime.fromisoformat(str(starts)) > now:
        return price
    if ends and datetime.fromisoformat(str(ends)) <= now:
        return price
    return parse_price(sale, currency)


def availability_for(quantity: int) -> str:
    """The feed ``availability`` a stock figure means."""
    return "in stock" if quantity > 0 else "out of stock"


def variant_attribute(options: Mapping[str, str]) -> str | None:
    """``additional_variant_attribute``: ``"Màu:Đỏ,Cỡ:M"`` (``:`` and ``,`` dropped from
    names and values, which have no escape in that syntax)."""
    parts = []
    for name, value in options.items():
        clean_name = re.sub(r"[:,]", " ", name).strip()
        clean_value = re.sub(r"[:,]", " ", value).strip()
        if clean_name and clean_value:
            parts.append(f"{clean_name}:{clean_value}")
    return ",".join(parts) or None


def _quantity(item: Mapping[str, Any]) -> int | None:
    for key in ("quantity_to_sell_on_facebook", "inventory"):
        value = item.get(key)
        if value is not None:
            return listed_count(value, key)
    return None


def stock_level(item: Mapping[str, Any], *, channel: str, account: str) -> StockLevel | None:
    """The listed stock of an item (``quantity_to_sell_on_facebook``, else ``inventory``);
    None when the item carries neither. A figure that is no whole number within
    :data:`~omnisdk.models.MAX_LEVEL` raises ValueError (the channel sets that item aside)."""
    sku = item.get("retailer_id")
    if not isinstance(sku, str) or not sku:
        return None
    quantity = _quantity(item)
    if quantity is None:
        return None
    ref = ChannelRef(channel=channel, account=account, external_id=str(item.get("id") or sku))
    return StockLevel(sku=sku, on_hand=quantity, channel_ref=ref)


def _options(item: Mapping[str, Any]) -> dict[str, str]:
    options: dict[str, str] = {}
    extra = item.get("additional_variant_attributes")
    if isinstance(extra, dict):
        options.update({str(k): str(v) for k, v in extra.items() if v not in (None, "")})
    elif isinstance(extra, list):  # [{"key": "Màu", "value": "Đỏ"}]
        for entry in extra:
            if isinstance(entry, dict) and entry.get("key") and entry.get("value"):
                options[str(entry["key"])] = str(entry["value"])
    for field, name in _OPTION_FIELDS:
        value = item.get(field)
        if isinstance(value, str) and value and name not in options:
            options[name] = value
    return options


def _variant(item: Mapping[str, Any], *, channel: str, account: str) -> Variant:
    sku = item.get("retailer_id")
    if not isinstance(sku, str) or not sku.strip():
        raise ValueError("item has no retailer_id")
    currency = item.get("currency") if isinstance(item.get("currency"), str) else None
    price = parse_price(item.get("price"), currency)
    sale = item.get("sale_price")
    compare_at = None
    if sale not in (None, ""):
        sale_price = parse_price(sale, currency)
        if sale_price < price:
            price, compare_at = sale_price, price
    image = item.get("image_url")
    status = ProductStatus.ACTIVE
    if item.get("visibility") in _HIDDEN or item.get("availability") == "discontinued":
        status = ProductStatus.ARCHIVED
    return Variant(
        sku=sku,
        title=str(item.get("name") or "") or None,
        options=_options(item),
        price=price,
        compare_at_price=compare_at,
        images=[Image(url=image)] if isinstance(image, str) and image else [],
        status=status,
        channel_ref=ChannelRef(channel=channel, account=account, external_id=str(item["id"])),
    )


def product_from_items(raw: Mapping[str, Any], *, channel: str, account: str) -> Product:
    """One canonical product from ``{"id", "retailer_product_group_id", "items"}``."""
    items = raw.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ValueError("product record has no items")
    variants = [_variant(item, channel=channel, account=account) for item in items]
    first = items[0]
    title = str(first.get("name") or "").strip() or variants[0].sku
    names: list[str] = []
    for variant in variants:
        names += [name for name in variant.options if name not in names]
    statuses = {v.status for v in variants}
    return Product(
        title=title,
        description=str(first.get("description") or "") or None,
        vendor=str(first.get("brand") or "") or None,
        status=ProductStatus.ACTIVE if ProductStatus.ACTIVE in statuses else ProductStatus.ARCHIVED,
        option_names=names if len(variants) > 1 else [],
        images=variants[0].images,
        variants=variants,
        channel_ref=ChannelRef(channel=channel, account=account, external_id=str(raw["id"])),
        raw=dict(raw),
    )


def item_data(
    product: Product, variant: Variant, *, link_template: str | None
) -> dict[str, Any]:
    """The feed-named ``data`` of an ``items_batch`` request creating or updating ``variant``."""
    on_sale = variant.compare_at_price is not None and variant.compare_at_price > variant.price
    regular = variant.compare_at_price if on_sale and variant.compare_at_price else variant.price
    data: dict[str, Any] = {
        "id": variant.sku,
        "title": product.title,
        "description": product.description or product.title,
        "price": price_text(regular),
        "condition": "new",
        "availability": "in stock",
    }
    if on_sale:
        data["sale_price"] = price_text(variant.price)
    if len(product.variants) > 1:
        # The first SKU names the group: stable, and ours (the product's channel_ref may be
        # another channel's id).
        data["item_group_id"] = product.variants[0].sku
    attribute = variant_attribute(variant.options)
    if attribute:
        data["additional_variant_attribute"] = attribute
    images = [*variant.images, *product.images]
    if images:
        data["image_link"] = images[0].url
        if len(images) > 1:
            data["additional_image_link"] = ",".join(i.url for i in images[1:10])
    if link_template:
        data["link"] = link_template.replace("{sku}", quote(variant.sku, safe=""))
    if product.vendor:
        data["brand"] = product.vendor
    if product.status is not ProductStatus.ACTIVE or variant.status is not ProductStatus.ACTIVE:
        data["visibility"] = "staging"
    return data


def group_items(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Items as product records, grouped by ``retailer_product_group_id`` in first-seen order."""
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        key = item.get("retailer_product_group_id")
        group_key = f"g:{key}" if isinstance(key, str) and key else f"i:{item.get('id')}"
        record = groups.get(group_key)
        if record is None:
            record = groups[group_key] = {
                "id": str(key if isinstance(key, str) and key else item.get("id")),
                "retailer_product_group_id": key if isinstance(key, str) and key else None,
                "items": [],
            }
        record["items"].append(dict(item))
    return list(groups.values())


def chunk_text(values: Sequence[str]) -> str:
    """``values`` for a log line: the first few, and how many more."""
    shown = ", ".join(values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")
