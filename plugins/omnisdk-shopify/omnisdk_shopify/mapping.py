"""Pure functions from Shopify payloads to omnisdk's canonical types.

Two shapes arrive: GraphQL nodes (what the channel reads: camelCase, global ids, money as
``MoneyBag``) and REST objects (what webhooks carry: snake_case, numeric ids, money as
decimal strings). Both map onto the same canonical objects, keyed by the GraphQL global id
(REST payloads carry it as ``admin_graphql_api_id``), so an order read by polling and the
same order from a webhook are one order.

Money is Decimal in the shop currency (VND included: ``"199000.00"`` is 199000 VND). What
cannot be mapped raises :class:`~omnisdk.errors.MappingError` naming the object and the
reason, so the engine quarantines it and goes on.

Locations appear as the merchant's location codes (:mod:`omnisdk_shopify.locations`). An
order the buyer collects in a store (buy online, pick up in store) maps to
``FulfilmentMode.PICKUP`` with ``pickup_location`` = that store's code: from GraphQL when its
fulfillment orders' delivery method is ``PICK_UP``; from REST (webhooks), which has no
pick-up flag, when its shipping line is Shopify's own (``source: "shopify"``) and named
after a known location, which is how Shopify writes a pick-up.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from omnisdk.errors import MappingError
from omnisdk.models import (
    Address,
    ChannelRef,
    Customer,
    Discount,
    Email,
    FulfilmentMode,
    Location,
    LocationKind,
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
    listed_count,
)
from omnisdk_shopify.locations import LocationCodes, legacy_id

__all__ = [
    "FINANCIAL_STATUSES",
    "FULFILMENT_STATUSES",
    "Origin",
    "address_from_shopify",
    "customer_from_graphql",
    "customer_from_rest",
    "gid",
    "legacy_id",
    "location_from_rest",
    "order_from_graphql",
    "order_from_rest",
    "order_status",
    "payment_status",
    "pickup_from_graphql",
    "pickup_from_rest",
    "product_from_graphql",
    "product_from_rest",
    "stock_levels_from_graphql",
]

FINANCIAL_STATUSES = frozenset(
    {
        "pending",
        "authorized",
        "partially_paid",
        "paid",
        "partially_refunded",
        "refunded",
        "voided",
        "expired",
    }
)
"""Shopify's financial statuses (REST spelling; GraphQL's are the same, upper-cased)."""

FULFILMENT_STATUSES = frozenset(
    {
        "unfulfilled",
        "partial",
        "partially_fulfilled",
        "fulfilled",
        "restocked",
        "in_progress",
        "on_hold",
        "open",
        "pending_fulfillment",
        "request_declined",
        "scheduled",
    }
)
"""Shopify's fulfilment statuses (REST ``null`` means ``unfulfilled``)."""

_DEFAULT_OPTION = {"Title"}
_DEFAULT_VALUE = {"Default Title"}


@dataclass(frozen=True)
class Origin:
    """Where payloads come from: the channel name, the account, the shop's currency, and
    how its locations are named (the merchant's location codes)."""

    channel: str
    account: str
    currency: str
    locations: LocationCodes = dataclasses.field(default_factory=LocationCodes, compare=False)

    def ref(self, external_id: str | int) -> ChannelRef:
        """A :class:`ChannelRef` to an object of this account."""
        return ChannelRef(channel=self.channel, account=self.account, external_id=str(external_id))

    def money(self, amount: Any, currency: str | None = None, *, where: str) -> Money:
        """``amount`` (a decimal string or number, never float) in ``currency`` or the shop's."""
        if amount is None or isinstance(amount, float | bool):
            raise ValueError(f"{where}: {amount!r} is not a decimal amount")
        return _money(str(amount), currency or self.currency)


MONEY_CACHE_SIZE = 8192
"""Distinct (amount, currency) pairs whose Money is kept: a shop's prices, discounts and
taxes repeat across orders, and ``Money`` is frozen, so one value is safely shared."""


@functools.lru_cache(maxsize=MONEY_CACHE_SIZE)
def _money(amount: str, currency: str) -> Money:
    return Money.of(Decimal(amount), currency)


def gid(kind: str, value: str | int) -> str:
    """``gid://shopify/{kind}/{value}`` (a value that already is a gid is returned as is)."""
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{where} is missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(tag).strip() for tag in value if str(tag).strip()]
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    return []


# -- statuses ------------------------------------------------------------------------------


def _normal(status: Any, known: frozenset[str], what: str, *, default: str) -> str:
    if status is None:
        return default
    text = str(status).strip().lower()
    if text not in known:
        raise ValueError(f"unknown {what} status {status!r}")
    return text


def order_status(
    financial: str | None, fulfilment: str | None, *, cancelled: bool, closed: bool
) -> OrderStatus:
    """The canonical status of an order from Shopify's three status axes.

    Cancelled (or voided) is ``CANCELLED``; refunded or restocked is ``RETURNED``; fulfilled
    is ``SHIPPED``, or ``COMPLETED`` once the order is closed (archived); partly fulfilled is
    ``READY_TO_SHIP``; unpaid (pending, expired) is ``PENDING``; anything else accepted is
    ``CONFIRMED``. An unknown status raises ValueError (the order is quarantined).
    """
    money = _normal(financial, FINANCIAL_STATUSES, "financial", default="pending")
    goods = _normal(fulfilment, FULFILMENT_STATUSES, "fulfilment", default="unfulfilled")
    if cancelled:
        return OrderStatus.CANCELLED
    if goods == "restocked" or money == "refunded":
        return OrderStatus.RETURNED
    if money == "voided":
        return OrderStatus.CANCELLED
    if goods == "fulfilled":
        return OrderStatus.COMPLETED if closed else OrderStatus.SHIPPED
    if goods in ("partial", "partially_fulfilled", "in_progress"):
        return OrderStatus.READY_TO_SHIP
    if money in ("pending", "expired"):
        return OrderStatus.PENDING
    return OrderStatus.CONFIRMED


def payment_status(financial: str | None) -> PaymentStatus:
    """Where the money stands, from Shopify's financial status."""
    money = _normal(financial, FINANCIAL_STATUSES, "financial", default="pending")
    return {
        "paid": PaymentStatus.PAID,
        "partially_refunded": PaymentStatus.PARTIALLY_REFUNDED,
        "refunded": PaymentStatus.REFUNDED,
    }.get(money, PaymentStatus.UNPAID)


# -- contact points ------------------------------------------------------------------------

PHONE_CACHE_SIZE = 8192
"""Distinct phone numbers whose parse is kept. Buyers order again and again, and parsing a
number (phonenumbers) cost more than the rest of an order's mapping together; ``Phone`` is
frozen, so one parsed value is safely shared by every record that carries the number."""


@functools.lru_cache(maxsize=PHONE_CACHE_SIZE)
def _phone(text: str) -> Phone:
    return Phone.parse(text)


@functools.lru_cache(maxsize=PHONE_CACHE_SIZE)
def _email(text: str) -> Email:
    # The same buyers' addresses repeat like their phones; Email is frozen too.
    return Email.parse(text)


def address_from_shopify(raw: Mapping[str, Any] | None) -> Address | None:
    """A Shopify mailing address (GraphQL or REST keys) as a canonical Address."""
    if not raw:
        return None
    first = raw.get("firstName", raw.get("first_name"))
    last = raw.get("lastName", raw.get("last_name"))
    name = raw.get("name") or " ".join(p for p in (last, first) if p) or None
    country = raw.get("countryCodeV2") or raw.get("country_code") or "VN"
    phone = raw.get("phone")
    return Address(
        name=name,
        phone=_phone(str(phone)) if phone else None,
        company=raw.get("company") or None,
        line1=raw.get("address1") or None,
        line2=raw.get("address2") or None,
        city=raw.get("city") or None,
        province=raw.get("province") or None,
        postal_code=raw.get("zip") or None,
        country_code=str(country).upper(),
    )


def _customer(
    raw: Mapping[str, Any], external_id: str, origin: Origin, addresses: list[Any]
) -> Customer:
    phone, email = raw.get("phone"), raw.get("email")
    mapped = [a for a in (address_from_shopify(x) for x in addresses) if a is not None]
    first = raw.get("firstName", raw.get("first_name"))
    last = raw.get("lastName", raw.get("last_name"))
    created = raw.get("createdAt", raw.get("created_at"))
    updated = raw.get("updatedAt", raw.get("updated_at"))
    return Customer(
        first_name=first or None,
        last_name=last or None,
        full_name=" ".join(p for p in (last, first) if p) or None,
        phones=[_phone(str(phone))] if phone else [],
        emails=[_email(str(email))] if email else [],
        addresses=mapped,
        created_at=_instant(created, "createdAt") if created else None,
        updated_at=_instant(updated, "updatedAt") if updated else None,
        channel_ref=origin.ref(external_id),
        raw=dict(raw),
    )


def customer_from_graphql(node: Mapping[str, Any], origin: Origin) -> Customer:
    """A GraphQL ``Customer`` node as a canonical Customer."""
    addresses = node.get("addresses") or (
        [node["defaultAddress"]] if node.get("defaultAddress") else []
    )
    return _customer(node, str(node["id"]), origin, list(addresses))


def customer_from_rest(payload: Mapping[str, Any], origin: Origin) -> Customer:
    """A REST customer (as in order webhooks) as a canonical Customer."""
    external = payload.get("admin_graphql_api_id") or gid("Customer", payload["id"])
    return _customer(payload, str(external), origin, list(payload.get("addresses") or []))


# -- catalog -----------------------------------------------------------------------------


def _variant(raw: Mapping[str, Any], product_id: str, origin: Origin, *, rest: bool) -> Variant:
    external = raw.get("admin_graphql_api_id") or gid("ProductVariant", raw["id"])
    sku = (raw.get("sku") or "").strip()
    if not sku:
        raise MappingError(
            f"variant {external} has no SKU; every variant needs one (the SKU "
            "joins a product across channels)",
            channel=origin.channel,
            kind="product",
            external_id=product_id,
        )
    if rest:
        options = {f"option{i}": raw.get(f"option{i}") for i in (1, 2, 3)}
    else:
        options = {o["name"]: o["value"] for o in raw.get("selectedOptions") or []}
    options = {
        k: str(v)
        for k, v in options.items()
        if v is not None and k not in _DEFAULT_OPTION and v not in _DEFAULT_VALUE
    }
    compare_at = raw.get("compareAtPrice", raw.get("compare_at_price"))
    return Variant(
        sku=sku,
        title=raw.get("title") or None,
        options=options,
        price=origin.money(raw.get("price"), where=f"variant {external} price"),
        compare_at_price=(
            origin.money(compare_at, where=f"variant {external} compare_at_price")
            if compare_at not in (None, "")
            else None
        ),
        barcode=raw.get("barcode") or None,
        channel_ref=origin.ref(external),
    )


def _status(value: Any) -> ProductStatus:
    try:
        return ProductStatus(str(value or "active").lower())
    except ValueError:
        raise ValueError(f"unknown product status {value!r}") from None


def product_from_graphql(
    node: Mapping[str, Any], origin: Origin, variants: list[Mapping[str, Any]] | None = None
) -> Product:
    """A GraphQL ``Product`` node (with its variants) as a canonical Product.

    ``variants`` replaces ``node["variants"]["nodes"]`` when the variants were fetched
    separately (more than one page, or bulk export lines).
    """
    product_id = str(node["id"])
    raw_variants = (
        variants if variants is not None else list((node.get("variants") or {}).get("nodes") or [])
    )
    options = [o["name"] for o in node.get("options") or [] if o["name"] not in _DEFAULT_OPTION]
    return Product(
        title=node.get("title") or "",
        description=node.get("descriptionHtml") or None,
        vendor=node.get("vendor") or None,
        product_type=node.get("productType") or None,
        tags=_tags(node.get("tags")),
        status=_status(node.get("status")),
        option_names=options,
        variants=[_variant(v, product_id, origin, rest=False) for v in raw_variants],
        created_at=_instant(node.get("createdAt"), "createdAt"),
        updated_at=_instant(node.get("updatedAt"), "updatedAt"),
        channel_ref=origin.ref(product_id),
        raw=dict(node),
    )


def product_from_rest(payload: Mapping[str, Any], origin: Origin) -> Product:
    """A REST product (``products/*`` webhooks) as a canonical Product."""
    product_id = str(payload.get("admin_graphql_api_id") or gid("Product", payload["id"]))
    options = [
        o["name"] for o in payload.get("options") or [] if o.get("name") not in _DEFAULT_OPTION
    ]
    variants = []
    for raw in payload.get("variants") or []:
        variant = _variant(raw, product_id, origin, rest=True)
        named = {
            options[int(k[-1]) - 1]: v
            for k, v in variant.options.items()
            if k.startswith("option") and int(k[-1]) <= len(options)
        }
        variants.append(variant.model_copy(update={"options": named}))
    return Product(
        title=payload.get("title") or "",
        description=payload.get("body_html") or None,
        vendor=payload.get("vendor") or None,
        product_type=payload.get("product_type") or None,
        tags=_tags(payload.get("tags")),
        status=_status(payload.get("status")),
        option_names=options,
        variants=variants,
        created_at=_instant(payload.get("created_at"), "created_at"),
        updated_at=_instant(payload.get("updated_at"), "updated_at"),
        channel_ref=origin.ref(product_id),
        raw=dict(payload),
    )


def stock_levels_from_graphql(variant: Mapping[str, Any], origin: Origin) -> list[StockLevel]:
    """A variant node's inventory levels as canonical StockLevels (``on_hand`` = available,
    ``location`` = the location's code)."""
    sku = (variant.get("sku") or "").strip()
    if not sku:
        raise MappingError(
            f"variant {variant.get('id')} has no SKU",
            channel=origin.channel,
            kind="stock",
            external_id=str(variant.get("id")),
        )
    item = variant.get("inventoryItem") or {}
    levels = []
    for level in (item.get("inventoryLevels") or {}).get("nodes") or []:
        quantities = {
            q["name"]: listed_count(q["quantity"], f"{q['name']} quantity")
            for q in level.get("quantities") or []
        }
        place = level["location"]
        levels.append(
            StockLevel(
                sku=sku,
                location=origin.locations.code_of(place["id"], place.get("name")),
                on_hand=quantities.get("available", 0),
                channel_ref=origin.ref(str(variant["id"])),
            )
        )
    return levels


def location_from_rest(payload: Mapping[str, Any], origin: Origin) -> Location:
    """A REST location as a canonical Location (``code``: the merchant's code for it, by
    default Shopify's numeric id)."""
    address = address_from_shopify(
        {
            "address1": payload.get("address1"),
            "address2": payload.get("address2"),
            "city": payload.get("city"),
            "province": payload.get("province"),
            "zip": payload.get("zip"),
            "country_code": payload.get("country_code") or "VN",
            "phone": payload.get("phone"),
        }
    )
    return Location(
        code=origin.locations.code_of(payload["id"], payload.get("name")),
        name=payload.get("name") or str(payload["id"]),
        kind=LocationKind.WAREHOUSE,
        address=address,
        active=bool(payload.get("active", True)),
        channel_ref=origin.ref(
            payload.get("admin_graphql_api_id") or gid("Location", payload["id"])
        ),
    )


# -- orders --------------------------------------------------------------------------------


def _shop_money(bag: Any, origin: Origin, where: str) -> Money | None:
    if not bag:
        return None
    money = bag.get("shopMoney") or {}
    return origin.money(money.get("amount"), money.get("currencyCode"), where=where)


def _goods_refund(refunded: Money | None, shipping: Money | None, total: Money) -> Money | None:
    """What was given back for the goods: refunded money less refunded shipping, within
    0..total; None when nothing was (or the payload says nothing of refunds), as before
    refunds were read, so an order stored then is not taken for a new version."""
    if refunded is None:
        return None
    if not refunded and (
        shipping is None or (shipping.currency == refunded.currency and shipping.amount >= 0)
    ):
        return None  # nothing refunded (most orders): what is below would end in None too
    goods = refunded - shipping if shipping is not None else refunded
    zero = Money.zero(total.currency)
    return min(max(goods, zero), total) if goods > zero else None


def _graphql_refund(node: Mapping[str, Any], origin: Origin, total: Money) -> Money | None:
    """``totalRefundedSet`` less ``totalRefundedShippingSet`` (every refund added up)."""
    return _goods_refund(
        _shop_money(node.get("totalRefundedSet"), origin, "totalRefundedSet"),
        _shop_money(node.get("totalRefundedShippingSet"), origin, "totalRefundedShippingSet"),
        total,
    )


def _rest_refund(payload: Mapping[str, Any], origin: Origin, total: Money) -> Money | None:
    """The REST ``refunds``: their successful ``refund`` transactions, less the shipping
    refunded (``shipping_refund`` order adjustments, negative amounts)."""
    if "refunds" not in payload:
        return None
    zero = Money.zero(origin.currency)
    money, shipping = zero, zero
    for index, refund in enumerate(payload.get("refunds") or []):
        for transaction in refund.get("transactions") or []:
            if transaction.get("kind") == "refund" and transaction.get("status") == "success":
                money += origin.money(transaction.get("amount"), transaction.get("currency"),
                                      where=f"refunds[{index}].transactions amount")
        for adjustment in refund.get("order_adjustments") or []:
            if adjustment.get("kind") == "shipping_refund":
                amount = origin.money(adjustment.get("amount"),
                                      where=f"refunds[{index}].order_adjustments amount")
                shipping += amount if amount >= zero else zero - amount
    return _goods_refund(money, shipping, total)


def _line(raw: Mapping[str, Any], origin: Origin, *, rest: bool) -> OrderLine:
    external = str(raw.get("admin_graphql_api_id") or gid("LineItem", raw["id"]))
    sku = (raw.get("sku") or "").strip()
    if not sku:
        raise ValueError(f"line {external} ({raw.get('title')!r}) has no SKU")
    if rest:
        price = origin.money(raw.get("price"), where=f"line {external} price")
        discount = origin.money(
            raw.get("total_discount") or "0", where=f"line {external} total_discount"
        )
    else:
        unit = _shop_money(raw.get("originalUnitPriceSet"), origin, f"line {external} price")
        if unit is None:
            raise ValueError(f"line {external} has no price")
        price = unit
        discount = _shop_money(
            raw.get("totalDiscountSet"), origin, f"line {external} discount"
        ) or Money.zero(price.currency)
    title = raw.get("title")
    variant_title = raw.get("variantTitle", raw.get("variant_title"))
    if title and variant_title and variant_title not in _DEFAULT_VALUE:
        title = f"{title} - {variant_title}"
    return OrderLine(
        sku=sku,
        title=title,
        quantity=int(raw["quantity"]),
        unit_price=price,
        discount=discount if discount else None,
        channel_ref=origin.ref(external),
    )


_NOT_DELIVERED = frozenset({"NONE", "RETAIL"})
"""Delivery methods of fulfillment orders with nothing to hand over (digital goods, POS)."""


def pickup_from_graphql(node: Mapping[str, Any], origin: Origin) -> str | None:
    """The code of the store a GraphQL order is collected from, or None when it ships.

    An order is a pick-up when every fulfillment order that hands goods over has delivery
    method ``PICK_UP`` at one location. An order mixing pick-up and shipping (Shopify's split
    carts) is shipped in the canonical model, which has one fulfilment mode per order.
    """
    nodes = (node.get("fulfillmentOrders") or {}).get("nodes") or []
    delivered = [
        fo
        for fo in nodes
        if ((fo.get("deliveryMethod") or {}).get("methodType")) not in _NOT_DELIVERED
    ]
    if not delivered or any(
        (fo.get("deliveryMethod") or {}).get("methodType") != "PICK_UP" for fo in delivered
    ):
        return None
    places = {
        str(((fo.get("assignedLocation") or {}).get("location") or {}).get("id") or ""): fo
        for fo in delivered
    }
    if len(places) != 1 or "" in places:
        return None
    [(location_id, fo)] = places.items()
    location = (fo.get("assignedLocation") or {}).get("location") or {}
    return origin.locations.code_of(location_id, location.get("name"))


def pickup_from_rest(payload: Mapping[str, Any], origin: Origin) -> str | None:
    """The code of the store a REST order (webhook) is collected from, or None.

    REST marks no pick-up: Shopify writes one shipping line with ``source: "shopify"`` whose
    ``code`` and ``title`` are the store's name. Such a line naming a location the channel
    knows (mapped by name, or read from the shop) is a pick-up; a local delivery rate has
    the same shape but is named after the rate, not a location.
    """
    lines = [line for line in payload.get("shipping_lines") or [] if not line.get("is_removed")]
    if len(lines) != 1 or lines[0].get("source") != "shopify":
        return None
    line = lines[0]
    return origin.locations.code_of_name(line.get("code")) or origin.locations.code_of_name(
        line.get("title")
    )


def _fulfilment(pickup: str | None) -> dict[str, Any]:
    if pickup is None:
        return {"fulfilment": FulfilmentMode.SHIP}
    return {"fulfilment": FulfilmentMode.PICKUP, "pickup_location": pickup}


def order_from_graphql(
    node: Mapping[str, Any], origin: Origin, lines: list[Mapping[str, Any]] | None = None
) -> Order:
    """A GraphQL ``Order`` node as a canonical Order.

    ``lines`` replaces ``node["lineItems"]["nodes"]`` when the lines were fetched separately.
    """
    external = str(node["id"])
    currency = str(node.get("currencyCode") or origin.currency)
    if currency != origin.currency:
        origin = dataclasses.replace(origin, currency=currency)
    raw_lines = (
        lines if lines is not None else list((node.get("lineItems") or {}).get("nodes") or [])
    )
    subtotal = _shop_money(node.get("subtotalPriceSet"), origin, "subtotalPriceSet")
    total = _shop_money(node.get("totalPriceSet"), origin, "totalPriceSet")
    if total is None:
        raise ValueError("totalPriceSet is missing")
    customer = node.get("customer")
    financial = node.get("displayFinancialStatus")
    fulfilment = node.get("displayFulfillmentStatus")
    return Order(
        channel_ref=origin.ref(external),
        number=node.get("name"),
        status=order_status(
            financial,
            fulfilment,
            cancelled=bool(node.get("cancelledAt")),
            closed=bool(node.get("closed")),
        ),
        channel_status=f"{financial or 'PENDING'}/{fulfilment or 'UNFULFILLED'}".lower(),
        payment_status=payment_status(financial),
        currency=currency,
        lines=[_line(line, origin, rest=False) for line in raw_lines],
        subtotal=subtotal or total,
        discount_total=_shop_money(node.get("totalDiscountsSet"), origin, "totalDiscountsSet"),
        shipping_total=_shop_money(
            node.get("totalShippingPriceSet"), origin, "totalShippingPriceSet"
        ),
        tax_total=_shop_money(node.get("totalTaxSet"), origin, "totalTaxSet"),
        total=total,
        refund_total=_graphql_refund(node, origin, total),
        customer=customer_from_graphql(customer, origin) if customer else None,
        shipping_address=address_from_shopify(node.get("shippingAddress")),
        **_fulfilment(pickup_from_graphql(node, origin)),
        tracking_number=_graphql_tracking(node),
        note=node.get("note") or None,
        created_at=_instant(node.get("createdAt"), "createdAt"),
        updated_at=_instant(node.get("updatedAt"), "updatedAt"),
        raw=dict(node),
    )


def order_from_rest(payload: Mapping[str, Any], origin: Origin) -> Order:
    """A REST order (``orders/*`` webhooks) as a canonical Order."""
    external = str(payload.get("admin_graphql_api_id") or gid("Order", payload["id"]))
    currency = str(payload.get("currency") or origin.currency)
    origin = dataclasses.replace(origin, currency=currency)
    financial, fulfilment = payload.get("financial_status"), payload.get("fulfillment_status")
    shipping = (payload.get("total_shipping_price_set") or {}).get("shop_money") or {}
    customer = payload.get("customer")
    discount = origin.money(payload.get("total_discounts") or "0", where="total_discounts")
    discounts = [
        Discount(code=d.get("code"), amount=origin.money(d.get("amount"), where="discount_codes"))
        for d in payload.get("discount_codes") or []
    ]
    total = origin.money(payload.get("total_price"), where="total_price")
    return Order(
        channel_ref=origin.ref(external),
        number=payload.get("name"),
        status=order_status(
            financial,
            fulfilment,
            cancelled=bool(payload.get("cancelled_at")),
            closed=bool(payload.get("closed_at")),
        ),
        channel_status=f"{financial or 'pending'}/{fulfilment or 'unfulfilled'}",
        payment_status=payment_status(financial),
        currency=currency,
        lines=[_line(line, origin, rest=True) for line in payload.get("line_items") or []],
        subtotal=origin.money(payload.get("subtotal_price"), where="subtotal_price"),
        discount_total=discount,
        discounts=discounts,
        shipping_total=(
            origin.money(
                shipping["amount"], shipping.get("currency_code"), where="total_shipping_price_set"
            )
            if shipping.get("amount") is not None
            else None
        ),
        tax_total=origin.money(payload.get("total_tax") or "0", where="total_tax"),
        total=total,
        refund_total=_rest_refund(payload, origin, total),
        customer=customer_from_rest(customer, origin) if customer else None,
        shipping_address=address_from_shopify(payload.get("shipping_address")),
        **_fulfilment(pickup_from_rest(payload, origin)),
        tracking_number=_rest_tracking(payload),
        note=payload.get("note") or None,
        created_at=_instant(payload.get("created_at"), "created_at"),
        updated_at=_instant(payload.get("updated_at"), "updated_at"),
        raw=dict(payload),
    )


def _graphql_tracking(node: Mapping[str, Any]) -> str | None:
    """The latest tracking number of a GraphQL order's fulfillments, if any."""
    numbers = [
        str(info["number"])
        for fulfillment in node.get("fulfillments") or []
        if str(fulfillment.get("status") or "SUCCESS").upper() == "SUCCESS"
        for info in fulfillment.get("trackingInfo") or []
        if info.get("number")
    ]
    return numbers[-1] if numbers else None


def _rest_tracking(payload: Mapping[str, Any]) -> str | None:
    """The latest tracking number of a REST order's fulfillments, if any."""
    numbers = [
        str(number)
        for fulfillment in payload.get("fulfillments") or []
        if str(fulfillment.get("status") or "success").lower() == "success"
        for number in fulfillment.get("tracking_numbers")
        or ([fulfillment["tracking_number"]] if fulfillment.get("tracking_number") else [])
    ]
    return numbers[-1] if numbers else None
