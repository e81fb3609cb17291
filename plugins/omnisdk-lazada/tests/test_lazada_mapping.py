"""Mapping, record by record: dates in every Lazada form, money per currency, products, orders
(one item per unit), and error bodies onto the exception hierarchy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from omnisdk_lazada.errors import LazadaAuthError, LazadaBadRequest, error_for, error_mapper
from omnisdk_lazada.mapping import (
    format_time,
    listing_refs,
    order_from_lazada,
    order_status,
    parse_time,
    price_text,
    product_from_lazada,
    to_money,
)

from omnisdk import Money, OrderStatus, PaymentStatus, ProductStatus
from omnisdk.errors import NotFound, PlatformUnavailable, RateLimited, ReauthorisationRequired

ICT = timezone(timedelta(hours=7))
TEN = datetime(2024, 1, 1, 10, 0, tzinfo=ICT)


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01 10:00:00 +0700",
        "2024-01-01 10:00:00+07:00",
        "2024-01-01T10:00:00+07:00",
        "2024-01-01T10:00:00+0700",
        "2024-01-01T03:00:00Z",
        "2024-01-01T03:00:00.000Z",
        "2024-01-01 10:00:00",
        "1704078000000",
        1704078000000,
        1704078000,
        "1704078000",
    ],
)
def test_every_date_form_is_read(value: Any) -> None:
    assert parse_time(value) == TEN


def test_dates_without_offset_are_in_the_sites_time() -> None:
    assert parse_time("2024-01-01 00:00", site="SG") == datetime(
        2024, 1, 1, tzinfo=timezone(timedelta(hours=8))
    )
    assert parse_time("2024-01-31") == datetime(2024, 1, 31, tzinfo=ICT)
    for bad in ("", "hôm qua", None, True, "2024-13-01"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_time_filters_are_written_with_a_colon_offset() -> None:
    assert (
        format_time(datetime(2024, 1, 1, 3, 0, 0, 500, tzinfo=UTC)) == "2024-01-01T10:00:00+07:00"
    )
    with pytest.raises(ValueError):
        format_time(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("300000.00", "VND", "300000"),
        (150000.0, "VND", "150000"),
        (Decimal("129000"), "VND", "129000"),
        ("106.00", "MYR", "106.00"),
        (12.350000000000001, "SGD", "12.35"),
        ("1,299.50", "PHP", "1299.50"),
        ("89.75", "THB", "89.75"),
        (150000, "IDR", "150000.00"),
    ],
)
def test_money_in_each_currency(value: Any, currency: str, expected: str) -> None:
    money = to_money(value, currency)
    assert money == Money.of(expected, currency)


def test_money_finer_than_the_currency_is_refused_and_prices_are_written_plainly() -> None:
    with pytest.raises(ValueError, match="VND"):
        to_money("150000.5", "VND")
    with pytest.raises(ValueError):
        to_money("abc", "VND")
    assert price_text(Money.of("150000", "VND")) == "150000"
    assert price_text(Money.of("12.9", "SGD")) == "12.90"


PRODUCT: dict[str, Any] = {
    "item_id": 2807246166,
    "status": "Active",
    "created_time": "1645176573000",
    "updated_time": "1653463851000",
    "images": ["https://vn-live.slatic.net/p/ao.jpg"],
    "attributes": {
        "name": "Áo dài lụa tơ tằm",
        "description": "<p>Lụa Hà Đông</p>",
        "brand": "No Brand",
    },
    "skus": [
        {
            "SkuId": 13449296008,
            "SellerSku": "AO-DAI-DO",
            "Status": "active",
            "quantity": 20,
            "Available": 17,
            "price": Decimal("650000.0"),
            "special_price": Decimal("590000.0"),
            "saleProp": {"Màu": "Đỏ"},
            "package_weight": "0.3",
            "multiWarehouseInventories": [
                {"warehouseCode": "dropshipping", "quantity": 20, "sellableQuantity": 15}
            ],
        },
        {
            "SkuId": 13449296009,
            "SellerSku": "AO-DAI-XANH",
            "Status": "inactive",
            "quantity": 4,
            "Available": 4,
            "price": 690000,
            "special_price": 690000,
            "saleProp": {"Màu": "Xanh ngọc"},
        },
    ],
}


def test_a_product_and_its_skus() -> None:
    product = product_from_lazada(PRODUCT, channel="lazada", account="hn", currency="VND")
    assert product.title == "Áo dài lụa tơ tằm" and product.status is ProductStatus.ACTIVE
    assert product.option_names == ["Màu"]
    red, green = product.variants
    assert red.price == Money.of(650000, "VND") and red.attributes == {"special_price": "590000"}
    assert green.status is ProductStatus.DRAFT and green.attributes == {}
    assert red.weight_grams == Decimal("300.0")
    assert product.created_at == datetime(2022, 2, 18, 9, 29, 33, tzinfo=UTC)
    assert red.channel_ref is not None and red.channel_ref.external_id == "2807246166:13449296008"
    refs = {ref.sku: ref for ref in listing_refs(PRODUCT)}
    assert (refs["AO-DAI-DO"].sellable, refs["AO-DAI-DO"].total) == (15, 20)
    assert refs["AO-DAI-XANH"].sellable == 4  # no warehouse rows: Available


def _item(status: str, number: int, sku: str = "NON-LA", price: Any = 85000.0) -> dict[str, Any]:
    return {
        "order_id": 303147148,
        "order_item_id": 4560000 + number,
        "status": status,
        "name": "Nón lá Huế",
        "sku": sku,
        "sku_id": "1",
        "product_id": "2",
        "variation": "",
        "item_price": price,
        "paid_price": price,
        "currency": "VND",
    }


ORDER: dict[str, Any] = {
    "order_id": 303147148,
    "order_number": 303147148,
    "created_at": "2024-01-01 10:00:00 +0700",
    "updated_at": "2024-01-01 10:05:00 +0700",
    "price": "170000.00",
    "shipping_fee": 15000.0,
    "voucher": 0.0,
    "payment_method": "COD",
    "address_shipping": {
        "first_name": "N***n",
        "last_name": "",
        "phone": "84****67",
        "address1": "***",
        "address3": "Hồ Chí Minh",
        "address4": "Quận 1",
        "address5": "Phường Bến Nghé",
        "city": "Quận 1",
        "post_code": "",
        "country": "Vietnam",
    },
}


def test_an_order_of_units_with_statuses_of_their_own() -> None:
    raw = {**ORDER, "order_items": [_item("pending", 1), _item("pending", 2), _item("canceled", 3)]}
    got = order_from_lazada(raw, channel="lazada", account="hn", currency="VND")
    assert got.quantities() == {"NON-LA": 2}
    assert got.status is OrderStatus.CONFIRMED
    assert got.channel_status == "canceled:1,pending:2"
    assert got.total == Money.of(2 * 85000 + 15000, "VND")
    assert got.payment_status is PaymentStatus.UNPAID  # COD, not delivered yet
    assert got.shipping_address is not None and got.shipping_address.ward == "Phường Bến Nghé"
    assert got.updated_at == datetime(2024, 1, 1, 10, 5, tzinfo=ICT)
    assert json.loads(got.model_dump_json())["raw"]["order_id"] == 303147148


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["unpaid", "pending"], OrderStatus.PENDING),
        (["shipped", "delivered"], OrderStatus.SHIPPED),
        (["delivered", "returned"], OrderStatus.DELIVERED),
        (["canceled", "canceled"], OrderStatus.CANCELLED),
        (["returned", "canceled"], OrderStatus.RETURNED),
        (["lost_by_3pl"], OrderStatus.SHIPPED),
        (["shipped_back_success"], OrderStatus.RETURNED),
        (["confirmed"], OrderStatus.COMPLETED),
        (["packed", "ready_to_ship"], OrderStatus.READY_TO_SHIP),
    ],
)
def test_the_order_status_from_its_units(statuses: list[str], expected: OrderStatus) -> None:
    assert order_status([{"status": s} for s in statuses]) is expected


def test_a_fully_cancelled_order_still_names_its_units_and_unknown_statuses_fail() -> None:
    raw = {**ORDER, "order_items": [_item("canceled", 1), _item("canceled", 2)]}
    got = order_from_lazada(raw, channel="lazada", account="hn", currency="VND")
    assert got.status is OrderStatus.CANCELLED and got.quantities() == {"NON-LA": 2}
    with pytest.raises(ValueError, match="unknown Lazada item status"):
        order_status([{"status": "teleported"}])
    with pytest.raises(ValueError, match="no items"):
        order_from_lazada(
            {**ORDER, "order_items": []}, channel="lazada", account="hn", currency="VND"
        )


def test_prepaid_refunds_follow_the_units() -> None:
    paid = {**ORDER, "payment_method": "MIXEDCARD"}
    partly = {**paid, "order_items": [_item("delivered", 1), _item("returned", 2)]}
    got = order_from_lazada(partly, channel="lazada", account="hn", currency="VND")
    assert got.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    back = {**paid, "order_items": [_item("returned", 1)]}
    assert (
        order_from_lazada(back, channel="lazada", account="hn", currency="VND").payment_status
        is PaymentStatus.REFUNDED
    )


def test_units_of_one_sku_at_different_prices_keep_the_discount() -> None:
    raw = {
        **ORDER,
        "order_items": [
            {**_item("pending", 1), "paid_price": 80000.0},
            _item("pending", 2),
        ],
    }
    [line] = order_from_lazada(raw, channel="lazada", account="hn", currency="VND").lines
    assert (line.quantity, line.unit_price, line.discount) == (
        2,
        Money.of(85000, "VND"),
        Money.of(5000, "VND"),
    )


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"code": "IllegalAccessToken", "type": "ISV", "message": "expired"}, LazadaAuthError),
        ({"code": "IncompleteSignature", "type": "ISV", "message": "sig"}, LazadaAuthError),
        ({"code": "IllegalRefreshToken", "type": "ISV", "message": "x"}, ReauthorisationRequired),
        (
            {"code": "ApiCallLimit", "type": "ISV", "message": "this ban will last 3 seconds"},
            RateLimited,
        ),
        ({"code": "901", "message": "request is too frequent"}, RateLimited),
        ({"code": "ServiceTimeout", "type": "SYSTEM", "message": "t"}, PlatformUnavailable),
        ({"code": "6", "type": "ISP", "message": "internal"}, PlatformUnavailable),
        ({"code": "16", "type": "ISP", "message": "E016: Invalid Order ID"}, NotFound),
        ({"code": "17", "type": "ISP", "message": "E017: Invalid Date Format"}, LazadaBadRequest),
    ],
)
def test_error_bodies_map_onto_the_hierarchy(body: dict[str, Any], kind: type[Exception]) -> None:
    error = error_for({**body, "request_id": "212a6a5a17675956955215662"})
    assert isinstance(error, kind), error
    assert error is not None and error.request_id == "212a6a5a17675956955215662"


def test_error_details() -> None:
    token = error_for({"code": "IllegalAccessToken", "message": "m"})
    assert isinstance(token, LazadaAuthError) and token.token_refused
    ban = error_for({"code": "ApiCallLimit", "message": "this ban will last 3 seconds"})
    assert isinstance(ban, RateLimited) and ban.retry_after == 3.0
    failed = error_for(
        {
            "code": "501",
            "type": "ISP",
            "message": "E501",
            "detail": [{"seller_sku": "A", "message": "x"}],
        }
    )
    assert isinstance(failed, LazadaBadRequest) and failed.detail == [
        {"seller_sku": "A", "message": "x"}
    ]
    assert error_for({"code": "0", "data": {}}) is None
    refreshing = error_for({"code": "IllegalAccessToken", "message": "m"}, refreshing=True)
    assert isinstance(refreshing, ReauthorisationRequired)


def test_the_mapper_reads_bodies_whatever_the_status() -> None:
    request = httpx.Request("GET", "https://api.lazada.vn/rest/orders/get")
    ok = httpx.Response(200, json={"code": "0", "data": {}}, request=request)
    assert error_mapper(ok) is None
    refused = httpx.Response(
        200, json={"code": "IllegalAccessToken", "message": "m"}, request=request
    )
    assert isinstance(error_mapper(refused), LazadaAuthError)
    html = httpx.Response(200, content=b"<html>", request=request)
    assert isinstance(error_mapper(html), PlatformUnavailable)
    assert error_mapper(httpx.Response(502, content=b"<html>", request=request)) is None
    refresh = httpx.Request("POST", "https://auth.lazada.com/rest/auth/token/refresh")
    dead = httpx.Response(200, json={"code": "IllegalAccessToken", "message": "m"}, request=refresh)
    assert isinstance(error_mapper(dead), ReauthorisationRequired)


def test_the_buyer_is_known_by_buyer_id_never_by_masked_details() -> None:
    items = [{**_item("pending", 1), "buyer_id": "300123456"}]
    got = order_from_lazada(
        {**ORDER, "order_items": items}, channel="lazada", account="hn", currency="VND"
    )
    assert got.customer is not None and got.customer.channel_ref is not None
    assert got.customer.channel_ref.external_id == "300123456"
    assert all(phone.masked for phone in got.customer.phones)
    anonymous = order_from_lazada(
        {**ORDER, "order_items": [_item("pending", 1)]},
        channel="lazada",
        account="hn",
        currency="VND",
    )
    assert anonymous.customer is not None and anonymous.customer.identities == []


def test_a_returned_unit_stays_sold_on_its_line_and_its_price_is_the_refund() -> None:
    """Two hats and a cancelled one; one hat comes back: the line still sells two, the order
    holds one (the engine frees the other), and what was paid for it, less its voucher, is
    the refund."""
    back = {**_item("returned", 2), "voucher_amount": 5000.0}
    raw = {
        **ORDER,
        "payment_method": "MIXEDCARD",
        "order_items": [_item("delivered", 1), back, _item("canceled", 3)],
    }
    got = order_from_lazada(raw, channel="lazada", account="hn", currency="VND")
    [line] = got.lines
    assert (line.quantity, line.returned) == (2, 1)
    assert got.quantities() == {"NON-LA": 1}
    assert got.refund_total == Money.of(85000 - 5000, "VND")
    assert got.status is OrderStatus.DELIVERED
    assert got.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    untouched = {**ORDER, "order_items": [_item("delivered", 1), _item("delivered", 2)]}
    plain = order_from_lazada(untouched, channel="lazada", account="hn", currency="VND")
    assert plain.refund_total is None and plain.lines[0].returned is None
    whole = {**raw, "order_items": [_item("returned", 1), _item("returned", 2)]}
    gone = order_from_lazada(whole, channel="lazada", account="hn", currency="VND")
    assert gone.status is OrderStatus.RETURNED and gone.quantities() == {"NON-LA": 0}
    assert gone.refund_total == Money.of(2 * 85000, "VND")
