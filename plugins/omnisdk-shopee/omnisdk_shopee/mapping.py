"""Shopee payloads mapped onto omnisdk's canonical types.

Products: a raw product is the ``get_item_base_info`` item with, for an item that has
variations, the ``get_model_list`` response under ``"model_info"``. Each model becomes a
:class:`~omnisdk.models.Variant` keyed by its ``model_sku``; an item without models is one
variant keyed by ``item_sku`` (Shopee's ``model_id`` 0). ``price`` is Shopee's
``original_price`` (what the seller sets and what :func:`update_price` writes); a running
promotion's ``current_price`` is kept in the variant's ``attributes``.

Orders: a raw order is one ``get_order_detail`` entry. Shopee statuses map onto
:class:`~omnisdk.models.OrderStatus` by :data:`ORDER_STATUS`; buyer data that Shopee masks
(``"P******n"``, ``"******64"``) stays masked, so it is never used to match customers.

Money: prices are bare JSON numbers in the shop's currency (``300000`` in a VND shop, ``11.11``
in an SGD shop), never minor units or strings. The channel reads response bodies with
``json.loads(..., parse_float=Decimal)`` (:func:`omnisdk_shopee.errors.parse_body`), so a
price's digits are kept exactly as Shopee wrote them and never pass through a binary float.
:func:`to_money` still accepts a ``float`` (for payloads decoded elsewhere) and reads it
through its shortest ``repr``, which is the text Shopee sent for any price of up to 15
significant digits.

Going the other way, :func:`to_json_number` turns a :class:`~decimal.Decimal` into the int or
float whose JSON text is exactly that decimal (checked, not assumed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

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
from omnisdk_shopee.returns import PAID_BACK

__all__ = [
    "FLOAT_NOISE",
    "ITEM_STATUS",
    "MODEL_STATUS",
    "ORDER_STATUS",
    "ListingRef",
    "current_prices",
    "listing_refs",
    "order_from_shopee",
    "order_status",
    "plain_json",
    "product_from_shopee",
    "refund_total",
    "stock_levels",
    "to_decimal",
    "to_json_number",
    "to_money",
    "unix_time",
]

# -- money ---------------------------------------------------------------------------------

FLOAT_NOISE = Decimal("0.000001")
"""Digits beyond the currency's precision smaller than this are float noise and rounded away
(``12.350000000000001`` SGD is 12.35); anything larger is an error, never silently rounded."""


def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from a Shopee number (int, Decimal, float or numeric string)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def to_money(value: Any, currency: str) -> Money:
    """``value`` (a Shopee price) as exact :class:`~omnisdk.models.Money` in ``currency``.

    Zero-decimal currencies such as VND come out as whole units (``48000.0`` is 48000). A
    value finer than the currency allows raises ``ValueError`` unless the excess is float
    noise (see :data:`FLOAT_NOISE`).
    """
    amount = to_decimal(value)
    code = currency.strip().upper()
    quantum = Decimal(1).scaleb(-minor_units(code))
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    if abs(rounded - amount) > FLOAT_NOISE:
        raise ValueError(f"{amount} {code} has more decimal places than {code} allows")
    return Money.of(rounded, code)


def to_json_number(amount: Decimal) -> int | float:
    """The JSON number to send for ``amount``: an int when whole, else a float whose
    shortest repr is exactly ``amount`` (``ValueError`` if no float is)."""
    if not amount.is_finite():
        raise ValueError(f"{amount} is not a finite number")
    if amount == amount.to_integral_value():
        return int(amount)
    as_float = float(amount)
    if Decimal(repr(as_float)) != amount:
        raise ValueError(f"{amount} cannot be sent as a JSON number without changing it")
    return as_float


def plain_json(value: Any) -> Any:
    """``value`` with every Decimal turned back into the JSON number it was read from.

    Canonical objects keep the platform payload (``raw``) as plain JSON data, so it survives
    a JSON round trip unchanged; the mapping reads the exact Decimals before that.
    """
    if isinstance(value, Decimal):
        return float(value)  # only JSON floats are read as Decimals; ints stay ints
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


# -- records ---------------------------------------------------------------------------------

ITEM_STATUS: dict[str, ProductStatus] = {
    "NORMAL": ProductStatus.ACTIVE,
    "UNLIST": ProductStatus.DRAFT,
    "REVIEWING": ProductStatus.DRAFT,
    "BANNED": ProductStatus.DRAFT,
    "SELLER_DELETE": ProductStatus.ARCHIVED,
    "SHOPEE_DELETE": ProductStatus.ARCHIVED,
}
"""Shopee item statuses and what they mean for sale."""

MODEL_STATUS: dict[str, ProductStatus] = {
    "MODEL_NORMAL": ProductStatus.ACTIVE,
    "MODEL_UNAVAILABLE": ProductStatus.DRAFT,
}
"""Shopee model (variant) statuses."""

ORDER_STATUS: dict[str, OrderStatus] = {
    "UNPAID": OrderStatus.PENDING,
    "PENDING": OrderStatus.PENDING,
    "INVOICE_PENDING": OrderStatus.PENDING,
    "READY_TO_SHIP": OrderStatus.CONFIRMED,
    "IN_CANCEL": OrderStatus.CONFIRMED,
    "PROCESSED": OrderStatus.READY_TO_SHIP,
    "RETRY_SHIP": OrderStatus.READY_TO_SHIP,
    "SHIPPED": OrderStatus.SHIPPED,
    "TO_CONFIRM_RECEIVE": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
    "TO_RETURN": OrderStatus.RETURNED,
}
"""Shopee order statuses onto canonical ones.

``READY_TO_SHIP`` means paid (or cash on delivery confirmed) and waiting for the seller to
arrange shipment: canonically *confirmed*. ``PROCESSED`` (shipment arranged, waiting for the
carrier) is canonical *ready to ship*. ``IN_CANCEL`` (the buyer asked to cancel, the seller has
not answered) still holds its stock, like *confirmed*.
"""


def unix_time(value: Any) -> datetime:
    """A Shopee timestamp (unix seconds) as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(f"expected a unix timestamp, got {value!r}")
    return datetime.fromtimestamp(int(value), UTC)


def order_status(status: str) -> OrderStatus:
    """The canonical status of a Shopee order status; ``ValueError`` for an unknown one."""
    try:
        return ORDER_STATUS[status]
    except KeyError:
        raise ValueError(f"unknown Shopee order status {status!r}") from None


def _ref(channel: str, account: str, external_id: object) -> ChannelRef:
    # str() would make an id of anything: a missing order_sn became the order "None".
    if isinstance(external_id, bool) or not isinstance(external_id, str | int):
        raise ValueError(f"the record's id must be a string or an integer, got {external_id!r}")
    if not str(external_id).strip():
        raise ValueError("the record's id is empty")
    return ChannelRef(channel=channel, account=account, external_id=str(external_id))


# -- products ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingRef:
    """Where one SKU lives on Shopee: its item and model ids, listed stock and price."""

    sku: str
    item_id: int
    model_id: int
    stock: dict[str, int]
    """Seller stock per ``location_id`` (``""`` for a single-warehouse shop)."""
    reserved: int = 0
    unreadable: str | None = None
    """Why Shopee's stock figures of this SKU could not be read (10**30, text, ...): its
    ids still serve writes, its levels are set aside (:func:`stock_levels` raises)."""

    @property
    def listed(self) -> int:
        """Listed seller stock over every location."""
        return sum(self.stock.values())


def _price(entry: dict[str, Any], currency: str) -> tuple[Money, Money | None]:
    infos = entry.get("price_info") or []
    if not infos:
        raise ValueError(f"no price_info on {entry.get('model_id', entry.get('item_id'))}")
    info = infos[0]
    code = str(info.get("currency") or currency)
    original = to_money(info["original_price"], code)
    current = info.get("current_price")
    current_money = to_money(current, code) if current is not None else None
    return original, current_money


def _seller_stock(entry: dict[str, Any]) -> tuple[dict[str, int], int]:
    info = entry.get("stock_info_v2") or {}
    per_location: dict[str, int] = {}
    for row in info.get("seller_stock") or []:
        location = str(row.get("location_id") or "")
        stock = row.get("stock")
        count = 0 if stock is None else listed_count(stock, "seller_stock.stock")
        per_location[location] = per_location.get(location, 0) + count
    summary = info.get("summary_info") or {}
    reserved = summary.get("total_reserved_stock")
    return per_location, (
        0 if reserved is None else max(listed_count(reserved, "total_reserved_stock"), 0)
    )


def _listing_ref(sku: str, item_id: int, model_id: int, entry: dict[str, Any]) -> ListingRef:
    try:
        stock, reserved = _seller_stock(entry)
    except (ValueError, TypeError, AttributeError) as exc:
        return ListingRef(sku, item_id, model_id, {}, 0, unreadable=f"{type(exc).__name__}: {exc}")
    return ListingRef(sku, item_id, model_id, stock, reserved)


def _models(raw: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    info = raw.get("model_info") or {}
    return list(info.get("model") or []), list(info.get("tier_variation") or [])


def _options(model: dict[str, Any], tiers: list[dict[str, Any]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for tier, index in zip(tiers, model.get("tier_index") or [], strict=False):
        choices = tier.get("option_list") or []
        if 0 <= int(index) < len(choices):
            options[str(tier.get("name") or f"Option {len(options) + 1}")] = str(
                choices[int(index)].get("option")
            )
    return options


def _weight_grams(value: Any) -> Decimal | None:
    if value in (None, "", 0):
        return None
    return to_decimal(value) * 1000


def product_from_shopee(
    raw: dict[str, Any], *, channel: str, account: str, currency: str
) -> Product:
    """A canonical Product from a Shopee item (and its models under ``"model_info"``)."""
    item_id = raw["item_id"]
    models, tiers = _models(raw)
    weight = _weight_grams(raw.get("weight"))
    images = [
        Image(url=str(url), position=index)
        for index, url in enumerate((raw.get("image") or {}).get("image_url_list") or [])
    ]
    variants: list[Variant] = []
    if raw.get("has_model") or models:
        if not models:
            raise ValueError(f"item {item_id} has models but none were fetched")
        for model in models:
            price, current = _price(model, currency)
            options = _options(model, tiers)
            variants.append(
                Variant(
                    sku=str(model.get("model_sku") or ""),
                    title=" / ".join(options.values()) or None,
                    options=options,
                    price=price,
                    weight_grams=_weight_grams(model.get("weight")) or weight,
                    status=MODEL_STATUS.get(str(model.get("model_status")), ProductStatus.ACTIVE),
                    attributes=_promotion(price, current),
                    channel_ref=_ref(channel, account, f"{item_id}:{model['model_id']}"),
                )
            )
    else:
        price, current = _price(raw, currency)
        variants.append(
            Variant(
                sku=str(raw.get("item_sku") or ""),
                price=price,
                weight_grams=weight,
                attributes=_promotion(price, current),
                channel_ref=_ref(channel, account, f"{item_id}:0"),
            )
        )
    return Product(
        title=str(raw.get("item_name") or ""),
        description=raw.get("description") or None,
        status=ITEM_STATUS.get(str(raw.get("item_status")), ProductStatus.DRAFT),
        option_names=[str(tier.get("name")) for tier in tiers],
        images=images,
        variants=variants,
        created_at=unix_time(raw["create_time"]) if raw.get("create_time") else None,
        updated_at=unix_time(raw["update_time"]) if raw.get("update_time") else None,
        channel_ref=_ref(channel, account, item_id),
        raw=plain_json(raw),
    )


def _promotion(price: Money, current: Money | None) -> dict[str, str]:
    if current is None or current == price:
        return {}
    return {"current_price": str(current.amount)}


def listing_refs(raw: dict[str, Any]) -> list[ListingRef]:
    """Every SKU of a raw product, canonical (:func:`~omnisdk.models.canonical_sku`), with
    its ids and listed stock (models without a SKU that can be one skipped;
    a SKU whose stock figures cannot be read keeps its ids, ``unreadable`` says why)."""
    item_id = int(raw["item_id"])
    models, _ = _models(raw)
    refs: list[ListingRef] = []
    if raw.get("has_model") or models:
        for model in models:
            sku = canonical_sku(str(model.get("model_sku") or ""))
            if sku:
                refs.append(_listing_ref(sku, item_id, int(model["model_id"]), model))
    elif sku := canonical_sku(str(raw.get("item_sku") or "")):
        refs.append(_listing_ref(sku, item_id, 0, raw))
    return refs


def current_prices(raw: dict[str, Any]) -> dict[str, Any]:
    """SKU -> ``price_info.current_price`` of every SKU of a raw product (what a buyer pays
    now, a running discount included), as the JSON number Shopee sent."""
    prices: dict[str, Any] = {}
    models, _ = _models(raw)
    if raw.get("has_model") or models:
        for model in models:
            info = (model.get("price_info") or [{}])[0]
            if model.get("model_sku") and info.get("current_price") is not None:
                prices[str(model["model_sku"])] = info["current_price"]
    elif raw.get("item_sku"):
        info = (raw.get("price_info") or [{}])[0]
        if info.get("current_price") is not None:
            prices[str(raw["item_sku"])] = info["current_price"]
    return prices


def stock_levels(ref: ListingRef, *, channel: str, account: str) -> list[StockLevel]:
    """The listed stock of one SKU, one level per Shopee location (``None``: the only one);
    ValueError when its figures could not be read."""
    if ref.unreadable is not None:
        raise ValueError(ref.unreadable)
    ref_id = _ref(channel, account, f"{ref.item_id}:{ref.model_id}")
    stock = ref.stock or {"": 0}
    return [
        StockLevel(sku=ref.sku, location=location or None, on_hand=quantity, channel_ref=ref_id)
        for location, quantity in stock.items()
    ]


# -- orders --------------------------------------------------------------------------------


def _line(entry: dict[str, Any], currency: str, *, channel: str, account: str) -> OrderLine:
    sku = str(entry.get("model_sku") or entry.get("item_sku") or "")
    quantity = int(entry["model_quantity_purchased"])
    original = to_money(entry["model_original_price"], currency)
    paid = entry.get("model_discounted_price")
    unit_paid = to_money(paid, currency) if paid is not None else original
    discount = (original - unit_paid) * quantity if unit_paid < original else None
    name = str(entry.get("item_name") or "") or None
    model_name = str(entry.get("model_name") or "")
    return OrderLine(
        sku=sku,
        title=f"{name} ({model_name})" if name and model_name else name,
        quantity=quantity,
        unit_price=original,
        discount=discount,
        channel_ref=_ref(channel, account, f"{entry['item_id']}:{entry.get('model_id', 0)}"),
    )


def _address(raw: dict[str, Any]) -> Address | None:
    data = raw.get("recipient_address")
    if not isinstance(data, dict) or not any(data.values()):
        return None
    phone = str(data.get("phone") or "").strip()
    region = str(data.get("region") or raw.get("region") or "VN").upper()[:2]
    return Address(
        name=data.get("name") or None,
        phone=Phone.parse(phone, region) if phone else None,
        line1=data.get("full_address") or None,
        ward=data.get("town") or None,
        district=data.get("district") or None,
        city=data.get("city") or None,
        province=data.get("state") or None,
        postal_code=data.get("zipcode") or None,
        country_code=region,
    )


def _customer(
    raw: dict[str, Any], address: Address | None, *, channel: str, account: str
) -> Customer | None:
    buyer_id = str(raw.get("buyer_user_id") or "").strip()
    known_buyer = bool(buyer_id) and buyer_id != "0" and "*" not in buyer_id
    if not known_buyer and address is None:
        return None
    ref = _ref(channel, account, buyer_id) if known_buyer else None
    return Customer(
        full_name=(address.name if address else None) or raw.get("buyer_username") or None,
        phones=[address.phone] if address and address.phone else [],
        addresses=[address] if address else [],
        identities=[ref] if ref else [],
        channel_ref=ref,
        raw=plain_json(
            {
                key: raw[key]
                for key in ("buyer_user_id", "buyer_username", "recipient_address")
                if key in raw
            }
        ),
    )


def _payment(
    raw: dict[str, Any], status: OrderStatus, refund: Money | None, goods: Money
) -> PaymentStatus:
    paid = bool(raw.get("pay_time")) or (
        bool(raw.get("cod")) and status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
    )
    if not paid:
        return PaymentStatus.UNPAID
    if status in (OrderStatus.CANCELLED, OrderStatus.RETURNED) and not raw.get("cod"):
        return PaymentStatus.REFUNDED
    if refund is not None and refund.amount > 0:
        return PaymentStatus.REFUNDED if refund >= goods else PaymentStatus.PARTIALLY_REFUNDED
    return PaymentStatus.PAID


def _paid_back(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        entry
        for entry in raw.get("returns") or []
        if isinstance(entry, dict) and str(entry.get("status") or "") in PAID_BACK
    ]


def refund_total(raw: dict[str, Any], total: Money) -> Money | None:
    """What the buyer was paid back: the ``refund_amount`` of the order's returns in
    ``REFUND_PAID`` (``raw["returns"]``, see :mod:`omnisdk_shopee.returns`), within
    0..``total``; None when none was, so an order stored before returns were read is not
    taken for a new version."""
    paid = _paid_back(raw)
    if not paid:
        return None
    code = total.currency
    amount = sum(
        (to_money(entry.get("refund_amount") or 0, code) for entry in paid), Money.zero(code)
    )
    if amount.amount <= 0:
        return None
    return min(amount, total)


def _last_change(raw: dict[str, Any]) -> int:
    """The order's ``update_time``, or a later refund's: a refund is a newer version."""
    stamps = [int(raw.get("update_time") or raw["create_time"])]
    stamps += [int(entry.get("update_time") or 0) for entry in _paid_back(raw)]
    return max(stamps)


def order_from_shopee(raw: dict[str, Any], *, channel: str, account: str, currency: str) -> Order:
    """A canonical Order from one ``get_order_detail`` entry."""
    code = str(raw.get("currency") or currency).upper()
    status = order_status(str(raw["order_status"]))
    lines = [
        _line(entry, code, channel=channel, account=account) for entry in raw.get("item_list") or []
    ]
    if not lines:
        raise ValueError("the order has no item_list (ask for it in response_optional_fields)")
    subtotal = sum((line.total for line in lines), Money.zero(code))
    discounts = [line.discount for line in lines if line.discount is not None]
    given = raw.get("total_amount")
    total = to_money(given, code) if given is not None else subtotal
    refund = refund_total(raw, total)
    address = _address(raw)
    note = str(raw.get("message_to_seller") or raw.get("note") or "") or None
    return Order(
        channel_ref=_ref(channel, account, raw["order_sn"]),
        number=str(raw["order_sn"]),
        status=status,
        channel_status=str(raw["order_status"]),
        payment_status=_payment(raw, status, refund, subtotal),
        currency=code,
        lines=lines,
        subtotal=subtotal,
        discount_total=sum(discounts, Money.zero(code)) if discounts else None,
        total=total,
        refund_total=refund,
        customer=_customer(raw, address, channel=channel, account=account),
        shipping_address=address,
        note=note,
        created_at=unix_time(raw["create_time"]),
        updated_at=unix_time(_last_change(raw)),
        raw=plain_json(raw),
    )
