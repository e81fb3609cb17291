"""Pure mapping from Shopify payloads to canonical objects, bad input included."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from omnisdk.errors import MappingError
from omnisdk.models import Money, OrderStatus, PaymentStatus, ProductStatus
from omnisdk_shopify.mapping import (
    Origin,
    location_from_rest,
    order_from_graphql,
    order_from_rest,
    order_status,
    payment_status,
    product_from_graphql,
    product_from_rest,
)

ORIGIN = Origin("shopify", "hcm", "VND")


def _bag(amount: str, currency: str = "VND") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


PRODUCT = {
    "id": "gid://shopify/Product/1",
    "title": "Áo thun cổ tròn",
    "handle": "ao-thun",
    "status": "ACTIVE",
    "vendor": "Cô Ba",
    "productType": "Áo",
    "tags": ["hè", "cotton"],
    "descriptionHtml": "<p>Vải cotton</p>",
    "createdAt": "2026-05-01T03:00:00Z",
    "updatedAt": "2026-05-02T03:00:00Z",
    "options": [{"name": "Màu", "position": 1}, {"name": "Size", "position": 2}],
    "variants": {
        "nodes": [
            {
                "id": "gid://shopify/ProductVariant/11",
                "sku": "AT-DO-M",
                "title": "Đỏ / M",
                "price": "199000.00",
                "compareAtPrice": "249000.00",
                "barcode": "893000000001",
                "selectedOptions": [{"name": "Màu", "value": "Đỏ"}, {"name": "Size", "value": "M"}],
                "inventoryItem": {"id": "gid://shopify/InventoryItem/21", "tracked": True},
            },
            {
                "id": "gid://shopify/ProductVariant/12",
                "sku": "AT-DO-L",
                "title": "Đỏ / L",
                "price": "209000.00",
                "compareAtPrice": None,
                "barcode": None,
                "selectedOptions": [{"name": "Màu", "value": "Đỏ"}, {"name": "Size", "value": "L"}],
                "inventoryItem": {"id": "gid://shopify/InventoryItem/22", "tracked": True},
            },
        ]
    },
}

ORDER = {
    "id": "gid://shopify/Order/450789469",
    "name": "#1001",
    "createdAt": "2026-11-20T03:00:00Z",
    "updatedAt": "2026-11-20T04:00:00Z",
    "cancelledAt": None,
    "closed": False,
    "displayFinancialStatus": "PAID",
    "displayFulfillmentStatus": "UNFULFILLED",
    "currencyCode": "VND",
    "email": "hoa@example.vn",
    "note": "Giao giờ hành chính",
    "subtotalPriceSet": _bag("398000.0"),
    "totalPriceSet": _bag("428000.0"),
    "totalTaxSet": _bag("0.0"),
    "totalDiscountsSet": _bag("0.0"),
    "totalShippingPriceSet": _bag("30000.0"),
    "customer": {
        "id": "gid://shopify/Customer/7",
        "firstName": "Hoa",
        "lastName": "Nguyễn",
        "email": "Hoa@Example.vn",
        "phone": "+84912345678",
    },
    "shippingAddress": {
        "name": "Nguyễn Thị Hoa",
        "address1": "12 Lê Lợi",
        "city": "Quận 1",
        "province": "Hồ Chí Minh",
        "countryCodeV2": "VN",
        "phone": "0912 345 678",
    },
    "lineItems": {
        "nodes": [
            {
                "id": "gid://shopify/LineItem/9",
                "sku": "AT-DO-M",
                "title": "Áo thun",
                "variantTitle": "Đỏ / M",
                "quantity": 2,
                "originalUnitPriceSet": _bag("199000.0"),
                "totalDiscountSet": _bag("0.0"),
                "variant": {"id": "gid://shopify/ProductVariant/11"},
            },
        ]
    },
}


def test_graphql_product_maps_variants_options_and_vnd_prices() -> None:
    """Options by name, prices as exact VND, SKUs and refs kept, raw kept."""
    product = product_from_graphql(PRODUCT, ORIGIN)
    assert product.title == "Áo thun cổ tròn" and product.status is ProductStatus.ACTIVE
    assert product.option_names == ["Màu", "Size"] and product.tags == ["hè", "cotton"]
    first, second = product.variants
    assert first.options == {"Màu": "Đỏ", "Size": "M"}
    assert first.price == Money.of(199000, "VND") and first.price.amount == Decimal(199000)
    assert first.compare_at_price == Money.of(249000, "VND")
    assert second.compare_at_price is None
    assert first.channel_ref is not None
    assert first.channel_ref.external_id == "gid://shopify/ProductVariant/11"
    assert product.raw == PRODUCT


def test_variant_without_sku_is_a_clear_mapping_error() -> None:
    """No SKU: MappingError naming the variant and the product (the product is quarantined)."""
    broken = copy.deepcopy(PRODUCT)
    broken["variants"]["nodes"][1]["sku"] = "  "
    with pytest.raises(MappingError, match="ProductVariant/12 has no SKU") as error:
        product_from_graphql(broken, ORIGIN)
    assert error.value.external_id == "gid://shopify/Product/1"


def test_rest_product_from_a_webhook() -> None:
    """``option1..3`` become named options; ``Default Title`` is no option at all."""
    payload = {
        "id": 1,
        "admin_graphql_api_id": "gid://shopify/Product/1",
        "title": "Nón lá",
        "status": "draft",
        "tags": "quà, huế",
        "created_at": "2026-05-01T10:00:00+07:00",
        "updated_at": "2026-05-01T10:00:00+07:00",
        "options": [{"name": "Title", "values": ["Default Title"]}],
        "variants": [
            {
                "id": 5,
                "sku": "NL-1",
                "price": "50000.00",
                "option1": "Default Title",
                "admin_graphql_api_id": "gid://shopify/ProductVariant/5",
            }
        ],
    }
    product = product_from_rest(payload, ORIGIN)
    assert product.status is ProductStatus.DRAFT and product.tags == ["quà", "huế"]
    assert product.option_names == [] and product.variants[0].options == {}
    assert product.variants[0].price == Money.of(50000, "VND")


def test_graphql_order_maps_totals_lines_customer_and_address() -> None:
    """Totals in VND, the buyer's contact points normalised, the address kept."""
    order = order_from_graphql(ORDER, ORIGIN)
    assert order.status is OrderStatus.CONFIRMED and order.payment_status is PaymentStatus.PAID
    assert order.total == Money.of(428000, "VND")
    assert order.shipping_total == Money.of(30000, "VND")
    assert order.quantities() == {"AT-DO-M": 2}
    assert order.lines[0].title == "Áo thun - Đỏ / M"
    assert order.customer is not None
    assert [e.address for e in order.customer.emails] == ["hoa@example.vn"]
    assert [p.e164 for p in order.customer.phones] == ["+84912345678"]
    assert order.shipping_address is not None and order.shipping_address.line1 == "12 Lê Lợi"
    assert order.channel_status == "paid/unfulfilled"


def test_a_line_priced_in_another_currency_is_refused() -> None:
    """An order whose line is in USD while the order is in VND cannot be mapped."""
    mixed = copy.deepcopy(ORDER)
    mixed["lineItems"]["nodes"][0]["originalUnitPriceSet"] = _bag("8.00", "USD")
    with pytest.raises(ValueError, match="USD"):
        order_from_graphql(mixed, ORIGIN)


def test_vnd_amount_with_fractional_dong_is_refused() -> None:
    """VND has no minor unit: a fractional amount is an error, not silently rounded."""
    odd = copy.deepcopy(ORDER)
    odd["totalPriceSet"] = _bag("428000.50")
    with pytest.raises(ValueError, match="decimal places"):
        order_from_graphql(odd, ORIGIN)


def test_rest_order_from_a_webhook() -> None:
    """REST money strings, the discount total and a cancelled status."""
    payload = {
        "id": 450789469,
        "admin_graphql_api_id": "gid://shopify/Order/450789469",
        "name": "#1001",
        "currency": "VND",
        "financial_status": "voided",
        "fulfillment_status": None,
        "cancelled_at": "2026-11-20T12:00:00+07:00",
        "total_price": "368000.00",
        "subtotal_price": "398000.00",
        "total_discounts": "30000.00",
        "total_tax": "0.00",
        "discount_codes": [{"code": "TET2026", "amount": "30000.00"}],
        "created_at": "2026-11-20T10:00:00+07:00",
        "updated_at": "2026-11-20T12:00:00+07:00",
        "line_items": [
            {
                "id": 9,
                "sku": "AT-DO-M",
                "title": "Áo thun",
                "quantity": 2,
                "price": "199000.00",
                "total_discount": "30000.00",
            }
        ],
    }
    order = order_from_rest(payload, ORIGIN)
    assert order.status is OrderStatus.CANCELLED
    assert order.discount_total == Money.of(30000, "VND")
    assert order.discounts[0].code == "TET2026"
    assert order.lines[0].total == Money.of(368000, "VND")


@pytest.mark.parametrize(
    ("financial", "fulfilment", "cancelled", "closed", "expected"),
    [
        ("PENDING", "UNFULFILLED", False, False, OrderStatus.PENDING),
        ("paid", None, False, False, OrderStatus.CONFIRMED),
        ("AUTHORIZED", "ON_HOLD", False, False, OrderStatus.CONFIRMED),
        ("PAID", "PARTIALLY_FULFILLED", False, False, OrderStatus.READY_TO_SHIP),
        ("paid", "partial", False, False, OrderStatus.READY_TO_SHIP),
        ("PAID", "FULFILLED", False, False, OrderStatus.SHIPPED),
        ("PAID", "FULFILLED", False, True, OrderStatus.COMPLETED),
        ("REFUNDED", "FULFILLED", False, True, OrderStatus.RETURNED),
        ("PAID", "RESTOCKED", False, False, OrderStatus.RETURNED),
        ("VOIDED", "UNFULFILLED", False, False, OrderStatus.CANCELLED),
        ("REFUNDED", "UNFULFILLED", True, True, OrderStatus.CANCELLED),
        ("EXPIRED", "UNFULFILLED", False, False, OrderStatus.PENDING),
    ],
)
def test_status_mapping(
    financial: str, fulfilment: str | None, cancelled: bool, closed: bool, expected: OrderStatus
) -> None:
    """Shopify's financial x fulfilment x cancelled/closed onto the canonical status."""
    assert order_status(financial, fulfilment, cancelled=cancelled, closed=closed) is expected


def test_unknown_statuses_are_refused_by_name() -> None:
    """A status Shopify may add later is an error naming it (the order is quarantined)."""
    with pytest.raises(ValueError, match="financial status 'LAYAWAY'"):
        order_status("LAYAWAY", None, cancelled=False, closed=False)
    with pytest.raises(ValueError, match="fulfilment status 'teleported'"):
        order_status("paid", "teleported", cancelled=False, closed=False)
    assert payment_status("PARTIALLY_REFUNDED") is PaymentStatus.PARTIALLY_REFUNDED


def test_location_from_rest() -> None:
    """The numeric id is the code; the address keeps Vietnamese text."""
    location = location_from_rest(
        {
            "id": 655441491,
            "name": "Kho Hà Nội",
            "active": True,
            "address1": "5 Hàng Bạc",
            "city": "Hà Nội",
            "country_code": "VN",
            "admin_graphql_api_id": "gid://shopify/Location/655441491",
        },
        ORIGIN,
    )
    assert location.code == "655441491" and location.name == "Kho Hà Nội"
    assert location.address is not None and location.address.city == "Hà Nội"


def _goods_refund_in_full(
    refunded: Money | None, shipping: Money | None, total: Money
) -> Money | None:
    """What ``_goods_refund`` computed before its short cut for nothing refunded."""
    if refunded is None:
        return None
    goods = refunded - shipping if shipping is not None else refunded
    zero = Money.zero(total.currency)
    return min(max(goods, zero), total) if goods > zero else None


@pytest.mark.parametrize(
    ("refunded", "shipping"),
    [
        (None, None),
        ("0", None),
        ("0", "0"),
        ("0", "30000"),
        ("0", "-30000"),  # a negative refunded shipping: the goods "refund" is positive
        ("50000", "30000"),
        ("500000", "0"),
        ("10000", "30000"),
    ],
)
def test_goods_refund_short_cut_changes_nothing(refunded: str | None, shipping: str | None) -> None:
    from omnisdk_shopify.mapping import _goods_refund

    total = Money.of("375000", "VND")
    money = [None if a is None else Money.of(a, "VND") for a in (refunded, shipping)]
    assert _goods_refund(money[0], money[1], total) == _goods_refund_in_full(
        money[0], money[1], total
    )


def test_goods_refund_of_nothing_in_two_currencies_still_refused() -> None:
    from omnisdk_shopify.mapping import _goods_refund

    with pytest.raises(ValueError, match="subtract VND and USD"):
        _goods_refund(Money.of("0", "VND"), Money.of("1", "USD"), Money.of("1", "VND"))
