"""KiotViet records -> canonical omnisdk objects (pure functions, no I/O).

- **Branches** become :class:`~omnisdk.models.Location` (kind ``branch``, a pick-up point),
  named by the merchant's location code; ``locationName`` ("Hồ Chí Minh - Quận 1") is split
  into province and district, ``wardName`` is the ward.
- **Products**: KiotViet has no variant object; each variant and each selling unit is a
  product. A group is a master (no ``masterProductId``) with the products pointing at it,
  plus the unit products (``masterUnitId``) of any of them. One group is one canonical
  :class:`~omnisdk.models.Product`; every member is a :class:`~omnisdk.models.Variant`
  whose SKU is its ``code``. Attribute values become options; a group that sells in several
  units gets an ``Đơn vị`` (unit) option.
- **Stock** is kept on the base unit, per branch: ``inventories[]`` -> one
  :class:`~omnisdk.models.StockLevel` per branch (``onHand``, ``reserved``).
- **Sales**: an invoice (hóa đơn) has taken the stock; an order (đặt hàng) reserves it. Both
  map to :class:`~omnisdk.models.Order`, numbered so a sale is one canonical order: an
  invoice made from an order (``orderCode``) *is* that order, moved on to its invoice's
  status. A line sold in a unit (a carton of 24) is booked on the base SKU (24 units), so
  stock stays in one unit everywhere.
- **Customers**: phones in E.164 (``0901234567`` -> ``+84901234567``); masked marketplace
  buyers (``Đ******h``) keep their text and never match.

Money is VND (no minor unit): KiotViet's ``199000.0`` becomes ``Money("199000", "VND")``;
a fractional đồng is refused, never rounded silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

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
    canonical_sku,
    listed_count,
)
from omnisdk_pos.timefmt import parse_time

__all__ = [
    "CURRENCY",
    "INVOICE_STATUSES",
    "ORDER_STATUSES",
    "RETURN_DONE",
    "UNIT_OPTION",
    "SaleKind",
    "UnitOf",
    "branch_code",
    "customer_from_kiotviet",
    "group_products",
    "is_marketplace_sale",
    "location_from_branch",
    "money",
    "order_from_document",
    "plain_json",
    "product_from_group",
    "refund_total",
    "sale_id",
    "sku_of_code",
    "split_location_name",
    "stock_levels",
    "units_index",
]

CURRENCY = "VND"
UNIT_OPTION = "Đơn vị"
"""The option that tells selling units apart (``Chai``, ``Thùng``)."""

INVOICE_STATUSES: dict[int, OrderStatus] = {
    1: OrderStatus.COMPLETED,  # Hoàn thành: sold, stock gone
    2: OrderStatus.CANCELLED,  # Đã hủy: stock back
    3: OrderStatus.SHIPPED,  # Đang xử lý: with the courier, stock gone
    5: OrderStatus.RETURNED,  # Không giao được: could not be delivered, goods come back
}
"""Invoice status -> canonical status (never the localised ``statusValue``)."""

ORDER_STATUSES: dict[int, OrderStatus] = {
    1: OrderStatus.PENDING,  # Phiếu tạm: reserves
    5: OrderStatus.CONFIRMED,  # Đã xác nhận (unconfirmed in the doc): reserves
    2: OrderStatus.SHIPPED,  # Đang xử lý / giao hàng: invoiced for delivery
    3: OrderStatus.COMPLETED,  # Hoàn thành: invoiced
    4: OrderStatus.CANCELLED,  # Đã hủy
}
"""Sales-order status -> canonical status."""


class SaleKind:
    """The two KiotViet sale documents."""

    INVOICE = "invoice"
    ORDER = "order"


@dataclass(frozen=True)
class UnitOf:
    """A selling unit: ``conversion`` base units of ``base_sku``."""

    base_sku: str
    conversion: int


def plain_json(value: Any) -> Any:
    """``value`` with every Decimal turned back into the JSON number it was read from, so a
    canonical object's ``raw`` survives a JSON round trip (the mapping read the Decimals)."""
    if isinstance(value, Decimal):
        return float(value)  # only JSON floats are read as Decimals; ints stay ints
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


def money(value: Any, where: str = "amount") -> Money:
    """A VND amount from KiotViet's number (``199000.0``, ``"63936.0000"``)."""
    try:
        amount = Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{where}: {value!r} is not a number")
    if amount != amount.to_integral_value():
        raise ValueError(f"{where}: {value!r} has a fraction of a đồng (VND has no minor unit)")
    return Money.of(amount.quantize(Decimal(1)), CURRENCY)


def _quantity(value: Any, where: str) -> int:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not a quantity") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{where}: {value!r} is not a whole quantity (sold by weight?)")
    return int(number)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _ref(channel: str, account: str, external_id: Any) -> ChannelRef:
    return ChannelRef(channel=channel, account=account, external_id=str(external_id))


# -- branches -----------------------------------------------------------------------------


def split_location_name(text: str | None) -> tuple[str | None, str | None]:
    """``"Hồ Chí Minh - Quận 1"`` -> ``("Hồ Chí Minh", "Quận 1")`` (province, district)."""
    if not text:
        return None, None
    province, _, district = (part.strip() for part in str(text).partition(" - "))
    return province or None, district or None


def branch_code(raw: Mapping[str, Any], overrides: Mapping[int, str]) -> str:
    """The location code of a branch: the configured one, else ``branchCode`` lower-cased,
    else ``kv-<id>``."""
    branch_id = int(raw["id"])
    if branch_id in overrides:
        return overrides[branch_id]
    code = _text(raw.get("branchCode"))
    return code.lower() if code else f"kv-{branch_id}"


def _address(raw: Mapping[str, Any], *, name: str | None = None) -> Address | None:
    province, district = split_location_name(raw.get("locationName"))
    line1 = _text(raw.get("address"))
    ward = _text(raw.get("wardName"))
    if not any((line1, ward, province, district)):
        return None
    phone = _text(raw.get("contactNumber"))
    return Address(
        name=name,
        phone=Phone.parse(phone) if phone else None,
        line1=line1,
        ward=ward,
        district=district,
        province=province,
    )


def location_from_branch(
    raw: Mapping[str, Any], *, code: str, channel: str, account: str
) -> Location:
    """A canonical Location (a branch: stock location and pick-up point)."""
    name = _text(raw.get("branchName")) or f"Chi nhánh {raw['id']}"
    return Location(
        code=code,
        name=name,
        kind=LocationKind.BRANCH,
        address=_address(raw, name=name),
        pickup=True,
        active=raw.get("isActive", True) is not False,
        channel_ref=_ref(channel, account, raw["id"]),
    )


# -- products -----------------------------------------------------------------------------


def group_products(raws: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """KiotViet products grouped into canonical products, master first, in id order.

    A variant joins its ``masterProductId``'s group; a unit joins the group of its
    ``masterUnitId`` (its base unit). A member whose master is missing (deleted, or on no
    page) heads a group of its own.
    """
    by_id = {int(raw["id"]): raw for raw in raws}

    def head(raw: dict[str, Any]) -> int:
        seen: set[int] = set()
        current = raw
        while True:
            current_id = int(current["id"])
            if current_id in seen:
                return current_id  # a cycle in bad data: stop where it closes
            seen.add(current_id)
            parent = current.get("masterUnitId") or current.get("masterProductId")
            if parent is None or int(parent) not in by_id:
                return current_id
            current = by_id[int(parent)]

    groups: dict[int, list[dict[str, Any]]] = {}
    for product_id in sorted(by_id):
        raw = by_id[product_id]
        groups.setdefault(head(raw), []).append(raw)
    return [
        sorted(group, key=lambda r: (int(r["id"]) != key, int(r["id"])))
        for key, group in sorted(groups.items())
    ]


def sku_of_code(value: Any) -> str:
    """A product code as the canonical SKU the engine asks for (as it is when none)."""
    return canonical_sku(str(value)) or str(value)


def units_index(raws: Iterable[Mapping[str, Any]]) -> dict[str, UnitOf]:
    """Unit products by code: which base SKU and how many base units each one is."""
    by_id = {int(raw["id"]): raw for raw in raws}
    found: dict[str, UnitOf] = {}
    for raw in by_id.values():
        base_id = raw.get("masterUnitId")
        if base_id is None or int(base_id) not in by_id:
            continue
        conversion = _quantity(raw.get("conversionValue", 1), f"{raw.get('code')}.conversionValue")
        if conversion < 1:
            raise ValueError(f"{raw.get('code')}: conversionValue must be at least 1")
        base = sku_of_code(by_id[int(base_id)]["code"])
        found[sku_of_code(raw["code"])] = UnitOf(base, conversion)
    return found


def _options(raw: Mapping[str, Any], with_unit: bool) -> dict[str, str]:
    options: dict[str, str] = {}
    for attribute in raw.get("attributes") or []:
        name = _text(attribute.get("attributeName"))
        value = _text(attribute.get("attributeValue"))
        if name and value:
            options[name] = value
    if with_unit and _text(raw.get("unit")):
        options[UNIT_OPTION] = str(raw["unit"]).strip()
    return options


def product_from_group(group: list[dict[str, Any]], *, channel: str, account: str) -> Product:
    """A canonical Product from one group of KiotViet products (see :func:`group_products`)."""
    if not group:
        raise ValueError("an empty product group")
    master = group[0]
    units = {_text(raw.get("unit")) for raw in group if _text(raw.get("unit"))}
    with_unit = any(raw.get("masterUnitId") is not None for raw in group) and len(units) > 1
    variants = []
    option_names: list[str] = []
    for raw in group:
        code = _text(raw.get("code"))
        if code is None:
            raise ValueError(f"product {raw.get('id')} has no code (its SKU)")
        options = _options(raw, with_unit)
        for name in options:
            if name not in option_names:
                option_names.append(name)
        attributes = {"kiotviet_id": str(raw["id"])}
        if raw.get("masterUnitId") is not None:
            attributes["conversion_value"] = str(
                _quantity(raw.get("conversionValue", 1), f"{code}.conversionValue")
            )
        weight = raw.get("weight")
        variants.append(
            Variant(
                sku=code,
                title=_text(raw.get("fullName")) or _text(raw.get("name")),
                options=options,
                price=money(raw.get("basePrice"), f"{code}.basePrice"),
                barcode=_text(raw.get("barCode")),
                weight_grams=Decimal(str(weight)) if weight not in (None, "", 0) else None,
                attributes=attributes,
                status=ProductStatus.ACTIVE
                if raw.get("isActive", True) is not False
                else ProductStatus.ARCHIVED,
                channel_ref=_ref(channel, account, raw["id"]),
            )
        )
    title = _text(master.get("name")) or _text(master.get("fullName")) or variants[0].sku
    active = any(raw.get("isActive", True) is not False for raw in group)
    return Product(
        title=title,
        product_type=_text(master.get("categoryName")),
        status=ProductStatus.ACTIVE if active else ProductStatus.ARCHIVED,
        option_names=option_names,
        variants=variants,
        created_at=parse_time(master["createdDate"]) if master.get("createdDate") else None,
        updated_at=max(
            (parse_time(r["modifiedDate"]) for r in group if r.get("modifiedDate")), default=None
        ),
        channel_ref=_ref(channel, account, master["id"]),
        raw=plain_json({"products": group}),
    )


def stock_levels(
    raw: Mapping[str, Any], *, code_of: Callable[[int], str], channel: str, account: str
) -> list[StockLevel]:
    """One StockLevel per branch of a product's ``inventories`` (``onhand`` read too); a
    figure that is no whole number within bounds raises ValueError (the product is set
    aside by the channel)."""
    sku = str(raw.get("code") or raw.get("productCode"))
    levels = []
    for entry in raw.get("inventories") or []:
        on_hand = entry.get("onHand", entry.get("onhand"))
        reserved = entry.get("reserved")
        levels.append(
            StockLevel(
                sku=sku,
                location=code_of(int(entry["branchId"])),
                on_hand=0 if on_hand is None else listed_count(on_hand, "onHand"),
                reserved=0 if reserved is None else max(listed_count(reserved, "reserved"), 0),
                channel_ref=_ref(channel, account, raw.get("id") or entry.get("productId")),
            )
        )
    return levels


# -- sales --------------------------------------------------------------------------------


def sale_kind(raw: Mapping[str, Any]) -> str:
    """Whether a document is an invoice or an order (by its detail list, else its code)."""
    if "invoiceDetails" in raw:
        return SaleKind.INVOICE
    if "orderDetails" in raw:
        return SaleKind.ORDER
    code = str(raw.get("code") or "")
    return SaleKind.ORDER if code.upper().startswith("DH") else SaleKind.INVOICE


def sale_id(raw: Mapping[str, Any]) -> str:
    """The canonical id of a sale: an invoice made from an order is that order (its
    ``orderCode``), so the reservation and the sale are one order; else the document code."""
    if sale_kind(raw) == SaleKind.INVOICE and _text(raw.get("orderCode")):
        return str(raw["orderCode"]).strip()
    code = _text(raw.get("code"))
    if code is None:
        raise ValueError(f"document {raw.get('id')} has no code")
    return code


def is_marketplace_sale(
    raw: Mapping[str, Any], *, markers: Iterable[str], channel_ids: Iterable[int]
) -> bool:
    """True for a sale KiotViet synced from a marketplace: a code like ``HDSPE_000123`` /
    ``DHLZD_...`` (infix in ``markers``), or a ``saleChannelId`` of a marketplace."""
    codes = [str(raw.get("code") or ""), str(raw.get("orderCode") or "")]
    for code in codes:
        upper = code.upper()
        for marker in markers:
            if upper[2:].startswith(marker.upper()) and upper[:2] in ("HD", "DH"):
                return True
    channel_id = raw.get("saleChannelId")
    return channel_id is not None and int(channel_id) in set(channel_ids)


def _line(
    detail: Mapping[str, Any], index: int, units: Mapping[str, UnitOf], where: str
) -> OrderLine:
    code = _text(detail.get("productCode"))
    if code is None:
        raise ValueError(f"{where}[{index}] has no productCode")
    quantity = _quantity(detail.get("quantity"), f"{where}[{index}].quantity")
    if quantity <= 0:
        raise ValueError(f"{where}[{index}].quantity must be above 0")
    price = money(detail.get("price"), f"{where}[{index}].price")
    discount = money(detail.get("discount") or 0, f"{where}[{index}].discount")
    total = price.amount * quantity - discount.amount
    unit = units.get(code)
    sku, units_sold = code, quantity
    if unit is not None:  # booked on the base unit: a carton of 24 is 24 bottles
        sku, units_sold = unit.base_sku, quantity * unit.conversion
        per = (total / units_sold).to_integral_value(rounding=ROUND_CEILING) if units_sold else 0
        unit_price = Money.of(per, CURRENCY)
        discount = Money.of(per * units_sold - total, CURRENCY)
    else:
        unit_price = price
    return OrderLine(
        sku=sku,
        title=_text(detail.get("productName")),
        quantity=units_sold,
        unit_price=unit_price,
        discount=discount if discount.amount else None,
    )


def _status(raw: Mapping[str, Any], kind: str) -> OrderStatus:
    table = INVOICE_STATUSES if kind == SaleKind.INVOICE else ORDER_STATUSES
    value = raw.get("status")
    try:
        return table[int(value)]  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"unknown {kind} status {value!r}") from None


def _delivery_address(delivery: Mapping[str, Any]) -> Address | None:
    address = _address(delivery, name=_text(delivery.get("receiver")))
    return address


RETURN_DONE = 1
"""A return's ``status`` once the goods are back (2 is a cancelled return)."""


def _returns_done(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        entry
        for entry in raw.get("returns") or []
        if isinstance(entry, Mapping) and entry.get("status") == RETURN_DONE
    ]


def refund_total(raw: Mapping[str, Any], goods: Money) -> Money | None:
    """What the customer was paid back for goods returned against this invoice
    (``raw["returns"]``, read by the channel from ``GET /returns``): each done return's
    ``returnTotal`` less its ``returnDiscount`` and ``returnFee``, within 0..``goods``;
    None when nothing was returned."""
    done = _returns_done(raw)
    if not done:
        return None
    paid = Money.zero(CURRENCY)
    for index, entry in enumerate(done):
        owed = (
            money(entry.get("returnTotal") or 0, f"returns[{index}].returnTotal")
            - money(entry.get("returnDiscount") or 0, f"returns[{index}].returnDiscount")
            - money(entry.get("returnFee") or 0, f"returns[{index}].returnFee")
        )
        if owed.amount > 0:
            paid += owed
    if paid.amount <= 0:
        return None
    return min(paid, goods)


def _returned_at(raw: Mapping[str, Any]) -> list[datetime]:
    return [
        parse_time(str(entry["modifiedDate"]))
        for entry in _returns_done(raw)
        if entry.get("modifiedDate")
    ]


def order_from_document(
    raw: Mapping[str, Any],
    *,
    channel: str,
    account: str,
    branch_code_of: Callable[[int], str],
    units: Mapping[str, UnitOf] | None = None,
) -> Order:
    """A canonical Order from a KiotViet invoice or order (see the module docstring).

    A document without delivery is collected at its branch (``pickup`` there: a counter sale
    or a pick-up order), so its stock moves at that branch's location.
    """
    kind = sale_kind(raw)
    where = "invoiceDetails" if kind == SaleKind.INVOICE else "orderDetails"
    details = raw.get(where) or []
    if not details:
        raise ValueError(f"{kind} {raw.get('code')} has no {where}")
    lines = [_line(detail, index, units or {}, where) for index, detail in enumerate(details)]
    status = _status(raw, kind)
    subtotal = sum((line.total for line in lines), Money.zero(CURRENCY))
    discount = money(raw.get("discount") or 0, "discount")
    delivery = raw.get("invoiceDelivery") or raw.get("orderDelivery")
    shipping = money(delivery.get("price") or 0, "delivery.price") if delivery else None
    total = subtotal - discount + (shipping or Money.zero(CURRENCY))
    paid = money(raw.get("totalPayment") or 0, "totalPayment")
    payment = PaymentStatus.PAID if paid >= total and total.amount > 0 else PaymentStatus.UNPAID
    if status is OrderStatus.COMPLETED and kind == SaleKind.INVOICE:
        payment = PaymentStatus.PAID if paid.amount > 0 or total.amount == 0 else payment
    goods = subtotal - discount
    refund = refund_total(raw, goods) if kind == SaleKind.INVOICE else None
    if refund is not None and payment is PaymentStatus.PAID:
        payment = PaymentStatus.REFUNDED if refund >= goods else PaymentStatus.PARTIALLY_REFUNDED
    customer = None
    if raw.get("customerId") is not None or _text(raw.get("customerName")):
        customer = Customer(
            full_name=_text(raw.get("customerName")),
            channel_ref=_ref(channel, account, raw.get("customerId") or raw.get("customerCode")),
        )
    branch = branch_code_of(int(raw["branchId"]))
    created = parse_time(raw.get("createdDate") or raw["purchaseDate"])
    updated = parse_time(raw["modifiedDate"]) if raw.get("modifiedDate") else created
    numbers = [str(raw.get("code"))]
    if kind == SaleKind.INVOICE and _text(raw.get("orderCode")):
        numbers.insert(0, str(raw["orderCode"]))
    return Order(
        channel_ref=_ref(channel, account, sale_id(raw)),
        number=" / ".join(numbers),
        status=status,
        channel_status=f"{kind}:{raw.get('status')} {raw.get('statusValue') or ''}".strip(),
        payment_status=payment,
        currency=CURRENCY,
        lines=lines,
        subtotal=subtotal,
        discount_total=discount if discount.amount else None,
        discounts=[Discount(description="Giảm giá hóa đơn", amount=discount)]
        if discount.amount
        else [],
        shipping_total=shipping,
        total=total,
        refund_total=refund,
        customer=customer,
        shipping_address=_delivery_address(delivery) if delivery else None,
        fulfilment=FulfilmentMode.SHIP if delivery else FulfilmentMode.PICKUP,
        pickup_location=None if delivery else branch,
        note=_text(raw.get("description")),
        created_at=created,
        updated_at=max([updated, created, *_returned_at(raw)]),
        raw=plain_json(dict(raw)),
    )


# -- customers ----------------------------------------------------------------------------


def customer_from_kiotviet(raw: Mapping[str, Any], *, channel: str, account: str) -> Customer:
    """A canonical Customer; ``contactNumber`` and ``subNumber`` as E.164 phones."""
    phones = [
        Phone.parse(str(raw[key])) for key in ("contactNumber", "subNumber") if _text(raw.get(key))
    ]
    email = _text(raw.get("email"))
    name = _text(raw.get("name"))
    address = _address(raw, name=name)
    return Customer(
        full_name=name,
        phones=phones,
        emails=[Email.parse(email)] if email else [],
        addresses=[address] if address else [],
        created_at=parse_time(raw["createdDate"]) if raw.get("createdDate") else None,
        updated_at=parse_time(raw["modifiedDate"]) if raw.get("modifiedDate") else None,
        channel_ref=_ref(channel, account, raw["id"]),
        raw=plain_json(dict(raw)),
    )
