"""Lazada payloads mapped onto omnisdk's canonical types (pure functions).

Products: a raw product is one ``/products/get`` entry. Each of its ``skus`` becomes a
:class:`~omnisdk.models.Variant` keyed by its ``SellerSku``; ``price`` is the list price (what
``/product/price_quantity/update`` writes as ``Price``), a running ``special_price`` is kept
in the variant's ``attributes``. Options come from the SKU's ``saleProp``.

Stock: Lazada's ``quantity`` is the SKU's *total* stock; what buyers can still buy is the
*sellable* stock = total - withhold (unpaid orders) - occupy (paid, until ready-to-ship) -
campaign locks. omnisdk's listed figure is what the channel can still sell, so
:func:`listing_refs` reads the sellable figure (``multiWarehouseInventories[].sellableQuantity``,
else ``Available``), never ``quantity``.

Orders: a raw order is one ``/orders/get`` entry with its items (``/orders/items/get``) under
``"order_items"``. Lazada has one item per *unit*, each with its own status; the order itself
has none. :func:`order_lines` counts the units per SKU: a cancelled unit drops out (it was
never sold), a returned one stays on its line as ``returned`` (sold, then came back: the
engine releases exactly it, and what was paid for it is the order's ``refund_total``,
:func:`refund_total`); :func:`order_status` is the least advanced status among the live
units (all gone: cancelled, or returned when any came back).

Money: amounts arrive as strings (``"300000.00"``) or numbers (``150000.0``); both are read
exactly (JSON floats are decoded as Decimals) and checked against the currency's minor unit
(VND none; MYR, PHP, THB, SGD, IDR two). Dates: every form Lazada writes, see
:func:`parse_time`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from omnisdk.models import (
    Address,
    ChannelRef,
    Customer,
    Image,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Phone,
    Product,
    ProductStatus,
    StockLevel,
    Variant,
    canonical_sku,
    listed_count,
    minor_units,
)

__all__ = [
    "FLOAT_NOISE",
    "GONE_BACK",
    "ITEM_STATUS",
    "PRODUCT_STATUS",
    "SITE_TIMEZONES",
    "ListingRef",
    "format_time",
    "listing_refs",
    "order_from_lazada",
    "order_lines",
    "order_status",
    "parse_time",
    "plain_json",
    "price_text",
    "product_from_lazada",
    "refund_total",
    "selling_price",
    "stock_levels",
    "to_decimal",
    "to_money",
]

SITE_TIMEZONES: dict[str, str] = {
    "VN": "Asia/Ho_Chi_Minh",
    "TH": "Asia/Bangkok",
    "ID": "Asia/Jakarta",
    "MY": "Asia/Kuala_Lumpur",
    "SG": "Asia/Singapore",
    "PH": "Asia/Manila",
}
"""The local time of each site (dates written without an offset are in it)."""

# -- money ---------------------------------------------------------------------------------

FLOAT_NOISE = Decimal("0.000001")
"""Digits past the currency's precision smaller than this are float noise and dropped;
anything larger is an error, never silently rounded."""


def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from a Lazada amount (string, int, Decimal or float)."""
    if isinstance(value, bool):
        raise ValueError(f"expected an amount, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not an amount") from None
    else:
        raise ValueError(f"expected an amount, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    return result


def to_money(value: Any, currency: str) -> Money:
    """``value`` as exact :class:`~omnisdk.models.Money` in ``currency``.

    ``"150000.00"`` VND is 150000; ``12.350000000000001`` SGD is 12.35; ``150000.5`` VND is an
    error (VND has no minor unit).
    """
    amount = to_decimal(value)
    code = currency.strip().upper()
    quantum = Decimal(1).scaleb(-minor_units(code))
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    if abs(rounded - amount) > FLOAT_NOISE:
        raise ValueError(f"{amount} {code} has more decimal places than {code} allows")
    return Money.of(rounded, code)


def selling_price(sku: Mapping[str, Any], currency: str, zone: tzinfo, now: datetime) -> Money:
    """What a buyer pays for one SKU of ``/products/get`` at ``now``: its ``special_price``
    within ``special_from_time`` (included) and ``special_to_time`` (excluded; both local
    ``YYYY-MM-DD HH:mm``, either may be empty), else its ``price``."""
    price = to_money(sku.get("price"), currency)
    special = sku.get("special_price")
    if special in (None, "", 0):
        return price
    for name, before in (("special_from_time", True), ("special_to_time", False)):
        text = str(sku.get(name) or "").strip()
        if not text:
            continue
        moment = datetime.strptime(text[:16], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        if (before and now < moment) or (not before and now >= moment):
            return price
    return to_money(special, currency)


def price_text(money: Money) -> str:
    """A price as Lazada takes it in a payload: ``150000`` VND, ``12.90`` SGD."""
    digits = minor_units(money.currency)
    return f"{money.amount.quantize(Decimal(1).scaleb(-digits)):f}"


def plain_json(value: Any) -> Any:
    """``value`` with every Decimal turned back into the JSON number it was read from."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


# -- dates ---------------------------------------------------------------------------------

_OFFSET_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")


def _zone(site: str | None) -> tzinfo:
    name = SITE_TIMEZONES.get((site or "VN").upper())
    return ZoneInfo(name) if name else timezone(timedelta(hours=7))


def parse_time(value: Any, *, site: str | None = "VN") -> datetime:
    """An aware datetime from any date Lazada writes.

    Epoch milliseconds (``1645176573000``, as int or string) or seconds (``1700000000``);
    ``"2024-01-01 10:00:00 +0700"``; ISO 8601 (``"2024-01-03T23:59:59+07:00"``,
    ``"2017-11-11T12:00:00Z"``, ``"2024-01-01T10:00:00.123+0700"``); ``"2024-01-01 00:00"``
    and ``"2024-01-01"`` without an offset (the site's local time). ``ValueError`` otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a date, got {value!r}")
    if isinstance(value, int | float | Decimal):
        number = int(value)
        return datetime.fromtimestamp(number / 1000 if number >= 10**11 else number, UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a date, got {value!r}")
    text = value.strip()
    if text.isdigit():
        return parse_time(int(text), site=site)
    text = text.replace(" +", "+").replace(" -", "-")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _OFFSET_NO_COLON.sub(r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a date Lazada writes") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(site))
    return parsed


def format_time(when: datetime, *, site: str | None = "VN") -> str:
    """A time filter as Lazada asks for it: ``YYYY-MM-DDTHH:mm:ss+HH:MM`` in site time."""
    if when.tzinfo is None:
        raise ValueError("format_time needs an aware datetime")
    return when.astimezone(_zone(site)).replace(microsecond=0).isoformat()


def _date_or_none(value: Any, site: str | None) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=_zone(site))
    return parse_time(value, site=site)


# -- products ------------------------------------------------------------------------------

PRODUCT_STATUS: dict[str, ProductStatus] = {
    "active": ProductStatus.ACTIVE,
    "inactive": ProductStatus.DRAFT,
    "pending qc": ProductStatus.DRAFT,
    "suspended": ProductStatus.DRAFT,
    "rejected": ProductStatus.DRAFT,
    "deleted": ProductStatus.ARCHIVED,
}
"""Product and SKU statuses (``Active``, ``InActive``, ``Pending QC``..., case-insensitive)."""


def _status(value: Any) -> ProductStatus:
    return PRODUCT_STATUS.get(str(value or "").strip().lower(), ProductStatus.DRAFT)


def _ref(channel: str, account: str, external_id: object) -> ChannelRef:
    return ChannelRef(channel=channel, account=account, external_id=str(external_id))


@dataclass(frozen=True)
class ListingRef:
    """Where one SKU lives on Lazada: its item and SKU ids and its stock figures."""

    sku: str
    """The canonical SKU (:func:`~omnisdk.models.canonical_sku` of the ``SellerSku``)."""
    item_id: int
    sku_id: int
    sellable: int
    """What buyers can still buy: total - withhold - occupy - locks."""
    total: int
    """Lazada's ``quantity``."""
    warehouse: str = ""
    unreadable: str | None = None
    """Why Lazada's stock figures of this SKU could not be read (10**30, text, ...): its ids
    still serve writes, its level is set aside (:func:`stock_levels` raises)."""
    seller_sku: str = ""
    """The ``SellerSku`` as Lazada stores it, when it differs from :attr:`sku` (a zero-width
    space typed in Seller Center): what calls must name."""


def _int(value: Any, default: int = 0) -> int:
    if value in (None, "") or isinstance(value, bool):
        return default
    return int(to_decimal(value))


def _count(value: Any, what: str) -> int:
    return 0 if value in (None, "") else listed_count(value, what)


def _sellable(sku: dict[str, Any]) -> tuple[int, int, str]:
    """(sellable, total, warehouse) of a raw SKU; ValueError for a figure that is no whole
    number within bounds."""
    total = _count(sku.get("quantity"), "quantity")
    rows = [row for row in sku.get("multiWarehouseInventories") or [] if isinstance(row, dict)]
    if rows:
        sellable = sum(_count(row.get("sellableQuantity"), "sellableQuantity") for row in rows)
        return sellable, total, str(rows[0].get("warehouseCode") or "")
    available = sku.get("Available", sku.get("available"))
    return (_count(available, "Available") if available is not None else total), total, ""


def listing_refs(raw: dict[str, Any]) -> list[ListingRef]:
    """Every SKU of a raw product with its ids and stock (SKUs without a SellerSku skipped;
    a SKU whose stock figures cannot be read keeps its ids, ``unreadable`` says why)."""
    item_id = _int(raw.get("item_id"))
    refs: list[ListingRef] = []
    for sku in raw.get("skus") or []:
        seller_sku = str(sku.get("SellerSku") or "")
        canonical = canonical_sku(seller_sku)
        if not canonical:
            continue
        raw_sku = seller_sku if seller_sku != canonical else ""
        sku_id = _int(sku.get("SkuId"))
        try:
            sellable, total, warehouse = _sellable(sku)
        except (ValueError, TypeError) as exc:
            refs.append(ListingRef(canonical, item_id, sku_id, 0, 0, seller_sku=raw_sku,
                                   unreadable=f"{type(exc).__name__}: {exc}"))
            continue
        refs.append(
            ListingRef(canonical, item_id, sku_id, sellable, total, warehouse, seller_sku=raw_sku)
        )
    return refs


def stock_levels(ref: ListingRef, *, channel: str, account: str) -> list[StockLevel]:
    """The sellable stock of one SKU as a level (``location``: its warehouse, if named);
    ValueError when its figures could not be read."""
    if ref.unreadable is not None:
        raise ValueError(ref.unreadable)
    return [
        StockLevel(
            sku=ref.sku,
            location=ref.warehouse or None,
            on_hand=max(ref.sellable, 0),
            channel_ref=_ref(channel, account, f"{ref.item_id}:{ref.sku_id}"),
        )
    ]


def product_from_lazada(
    raw: dict[str, Any], *, channel: str, account: str, currency: str, site: str = "VN"
) -> Product:
    """A canonical Product from one ``/products/get`` entry."""
    item_id = raw["item_id"]
    attributes = raw.get("attributes") or {}
    variants: list[Variant] = []
    option_names: list[str] = []
    for sku in raw.get("skus") or []:
        options = {str(k): str(v) for k, v in (sku.get("saleProp") or {}).items()}
        for name in options:
            if name not in option_names:
                option_names.append(name)
        price = to_money(sku["price"], currency)
        extra: dict[str, str] = {}
        special = sku.get("special_price")
        if special not in (None, "", 0) and to_decimal(special) != price.amount:
            extra["special_price"] = str(to_money(special, currency).amount)
        weight = sku.get("package_weight")
        variants.append(
            Variant(
                sku=str(sku.get("SellerSku") or ""),
                title=" / ".join(options.values()) or None,
                options=options,
                price=price,
                weight_grams=to_decimal(weight) * 1000 if weight not in (None, "", "0") else None,
                status=_status(sku.get("Status")),
                attributes=extra,
                channel_ref=_ref(channel, account, f"{item_id}:{sku.get('SkuId')}"),
            )
        )
    if not variants:
        raise ValueError(f"item {item_id} has no skus")
    images = [Image(url=str(url), position=i) for i, url in enumerate(raw.get("images") or [])]
    return Product(
        title=str(attributes.get("name") or ""),
        description=attributes.get("description") or attributes.get("short_description") or None,
        vendor=attributes.get("brand") or None,
        status=_status(raw.get("status")),
        option_names=option_names,
        images=images,
        variants=variants,
        created_at=_date_or_none(raw.get("created_time"), site),
        updated_at=_date_or_none(raw.get("updated_time"), site),
        channel_ref=_ref(channel, account, item_id),
        raw=plain_json(raw),
    )


# -- orders --------------------------------------------------------------------------------

ITEM_STATUS: dict[str, OrderStatus] = {
    "unpaid": OrderStatus.PENDING,
    "pending": OrderStatus.CONFIRMED,
    "topack": OrderStatus.CONFIRMED,
    "packed": OrderStatus.READY_TO_SHIP,
    "repacked": OrderStatus.READY_TO_SHIP,
    "toship": OrderStatus.READY_TO_SHIP,
    "ready_to_ship": OrderStatus.READY_TO_SHIP,
    "ready_to_ship_pending": OrderStatus.READY_TO_SHIP,
    "shipping": OrderStatus.SHIPPED,
    "shipped": OrderStatus.SHIPPED,
    "failed_delivery": OrderStatus.SHIPPED,
    "shipped_back": OrderStatus.SHIPPED,
    "shipped_back_failed": OrderStatus.SHIPPED,
    "lost": OrderStatus.SHIPPED,
    "lost_by_3pl": OrderStatus.SHIPPED,
    "damaged_by_3pl": OrderStatus.SHIPPED,
    "package_scrapped": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
    "confirmed": OrderStatus.COMPLETED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "returned": OrderStatus.RETURNED,
    "shipped_back_success": OrderStatus.RETURNED,
    "failed": OrderStatus.RETURNED,
}
"""Lazada item statuses onto canonical ones.

A unit that left and did not come back (``lost_by_3pl``, ``damaged_by_3pl``,
``package_scrapped``, a ``shipped_back`` still on its way) stays *shipped*: its stock is gone.
Only ``returned``, ``shipped_back_success`` and ``failed`` (delivery failed, parcel back with
the seller) bring a unit back; ``canceled`` releases one that never left.
"""

GONE_BACK = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})
"""Canonical item statuses whose unit no longer belongs to the order."""

_FLOW = (
    OrderStatus.PENDING,
    OrderStatus.CONFIRMED,
    OrderStatus.READY_TO_SHIP,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)


def item_status(status: Any) -> OrderStatus:
    """The canonical status of one Lazada item status; ``ValueError`` for an unknown one."""
    try:
        return ITEM_STATUS[str(status).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown Lazada item status {status!r}") from None


def order_status(items: list[dict[str, Any]]) -> OrderStatus:
    """The order's status from its items': the least advanced live unit; with none live,
    RETURNED when any unit came back after shipping, else CANCELLED."""
    if not items:
        raise ValueError("the order has no items (order_items was not fetched)")
    statuses = [item_status(item.get("status")) for item in items]
    live = [status for status in statuses if status not in GONE_BACK]
    if live:
        return min(live, key=_FLOW.index)
    return OrderStatus.RETURNED if OrderStatus.RETURNED in statuses else OrderStatus.CANCELLED


def order_lines(
    items: list[dict[str, Any]], currency: str, *, channel: str, account: str
) -> list[OrderLine]:
    """Canonical lines (SKU, quantity) from one-item-per-unit records.

    Cancelled units drop out; when every unit was cancelled they all count, so the order
    still names what it held. Returned units stay on their line, counted in ``returned``.
    Units of one SKU at different prices stay one line at the list price, the difference as
    the line's discount.
    """
    if not items:
        raise ValueError("the order has no items (order_items was not fetched)")
    live = [i for i in items if item_status(i.get("status")) is not OrderStatus.CANCELLED]
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for item in live or items:
        sku = str(item.get("sku") or "")
        if not sku:
            raise ValueError(f"order item {item.get('order_item_id')} has no sku")
        by_sku.setdefault(sku, []).append(item)
    lines: list[OrderLine] = []
    for sku, units in by_sku.items():
        unit_price = max(to_money(u.get("item_price", 0), currency) for u in units)
        paid = sum(
            (to_money(u.get("paid_price", u.get("item_price", 0)), currency) for u in units),
            Money.zero(currency),
        )
        gross = unit_price * len(units)
        first = units[0]
        back = sum(1 for u in units if _came_back(u)) if live else 0
        variation = str(first.get("variation") or "")
        name = str(first.get("name") or "") or None
        lines.append(
            OrderLine(
                sku=sku,
                title=f"{name} ({variation})" if name and variation else name,
                quantity=len(units),
                unit_price=unit_price,
                discount=gross - paid if paid < gross else None,
                returned=back or None,
                channel_ref=_ref(
                    channel, account, f"{first.get('product_id', '')}:{first.get('sku_id', '')}"
                ),
            )
        )
    return lines


def _came_back(item: dict[str, Any]) -> bool:
    return item_status(item.get("status")) is OrderStatus.RETURNED


def refund_total(items: list[dict[str, Any]], total: Money) -> Money | None:
    """What was paid back for the units that came back: each returned unit's ``paid_price``
    less the vouchers on it (``voucher_amount``), within 0..``total``; None when no unit came
    back (so an order stored before refunds were read is not taken for a new version)."""
    back = [item for item in items if _came_back(item)]
    if not back:
        return None
    code = total.currency
    zero = Money.zero(code)
    paid = zero
    for item in back:
        price = to_money(item.get("paid_price", item.get("item_price", 0)), code)
        voucher = to_money(item.get("voucher_amount") or 0, code)
        paid += price - voucher if voucher < price else zero
    return min(max(paid, zero), total)


def _address(data: Any, country_code: str) -> Address | None:
    if not isinstance(data, dict) or not any(str(v or "").strip() for v in data.values()):
        return None
    name = " ".join(
        part
        for part in (str(data.get("first_name") or ""), str(data.get("last_name") or ""))
        if part
    )
    phone = str(data.get("phone") or "").strip()
    return Address(
        name=name or None,
        phone=Phone.parse(phone, country_code) if phone else None,
        line1=data.get("address1") or None,
        line2=data.get("address2") or None,
        ward=data.get("address5") or None,
        district=data.get("address4") or None,
        province=data.get("address3") or None,
        city=data.get("city") or None,
        postal_code=data.get("post_code") or None,
        country_code=country_code,
    )


def _customer(
    raw: dict[str, Any],
    items: list[dict[str, Any]],
    address: Address | None,
    *,
    channel: str,
    account: str,
) -> Customer | None:
    """The buyer: known by the items' ``buyer_id`` (names and phones are masked, so they are
    never match keys), with the masked shipping address."""
    buyer = next((str(i["buyer_id"]) for i in items if i.get("buyer_id") not in (None, "", 0)), "")
    if not buyer and address is None:
        return None
    ref = _ref(channel, account, buyer) if buyer else None
    return Customer(
        full_name=(address.name if address else None) or raw.get("customer_first_name") or None,
        phones=[address.phone] if address and address.phone else [],
        addresses=[address] if address else [],
        identities=[ref] if ref else [],
        channel_ref=ref,
        raw=plain_json({"buyer_id": buyer, "address_shipping": raw.get("address_shipping")}),
    )


def _payment(
    raw: dict[str, Any], status: OrderStatus, items: list[dict[str, Any]]
) -> PaymentStatus:
    """Paid once a prepaid unit is past ``unpaid`` (a COD one once delivered); refunded when
    a prepaid order's units all went back, partly when some did."""
    cod = "cod" in str(raw.get("payment_method") or "").lower()
    statuses = [item_status(item.get("status")) for item in items]
    if cod:
        paid = any(s in (OrderStatus.DELIVERED, OrderStatus.COMPLETED) for s in statuses)
    else:
        paid = any(s not in (OrderStatus.PENDING, OrderStatus.CANCELLED) for s in statuses)
    if not paid:
        return PaymentStatus.UNPAID
    if cod:
        return PaymentStatus.PAID
    if status in GONE_BACK:
        return PaymentStatus.REFUNDED
    if any(s in GONE_BACK for s in statuses):
        return PaymentStatus.PARTIALLY_REFUNDED
    return PaymentStatus.PAID


def order_from_lazada(
    raw: dict[str, Any], *, channel: str, account: str, currency: str, site: str = "VN"
) -> Order:
    """A canonical Order from an ``/orders/get`` entry with its ``order_items``."""
    items = list(raw.get("order_items") or [])
    code = str(next((i.get("currency") for i in items if i.get("currency")), currency)).upper()
    status = order_status(items)
    lines = order_lines(items, code, channel=channel, account=account)
    subtotal = sum((line.total for line in lines), Money.zero(code))
    discounts = [line.discount for line in lines if line.discount is not None]
    shipping = to_money(raw.get("shipping_fee") or 0, code)
    voucher = to_money(raw.get("voucher") or 0, code)
    country = site.upper()
    address = _address(raw.get("address_shipping"), country)
    customer = _customer(raw, items, address, channel=channel, account=account)
    counts = Counter(str(item.get("status")) for item in items)
    total = (
        subtotal + shipping - voucher
        if voucher.amount <= (subtotal + shipping).amount
        else subtotal
    )
    return Order(
        channel_ref=_ref(channel, account, raw["order_id"]),
        number=str(raw.get("order_number") or raw["order_id"]),
        status=status,
        channel_status=",".join(f"{s}:{n}" for s, n in sorted(counts.items())),
        payment_status=_payment(raw, status, items),
        currency=code,
        lines=lines,
        subtotal=subtotal,
        discount_total=sum(discounts, Money.zero(code)) if discounts else None,
        shipping_total=shipping if shipping.amount else None,
        total=total,
        refund_total=refund_total(items, total),
        customer=customer,
        shipping_address=address,
        note=str(raw.get("remarks") or "") or None,
        created_at=parse_time(raw["created_at"], site=site),
        updated_at=parse_time(raw.get("updated_at") or raw["created_at"], site=site),
        raw=plain_json(raw),
    )
