"""Money exactness (JSON floats to Decimal, VND without decimals), product and order mapping,
masked buyer data, status table, and one bad record never failing the rest."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from omnisdk_shopee.errors import parse_body
from omnisdk_shopee.mapping import (
    ORDER_STATUS,
    order_from_shopee,
    order_status,
    plain_json,
    to_json_number,
    to_money,
)
from shopee_testkit import channel, frozen_sandbox, order, plugins_with, seed

from omnisdk import Money, OrderStatus, PaymentStatus, PriceUpdate, Product, hookimpl


def test_json_floats_are_read_as_the_exact_decimals_shopee_wrote() -> None:
    body = parse_body(b'{"a": 0.1, "b": 0.2, "c": 0.3, "sgd": 11.11, "big": 32119, "vnd": 48000.0}')
    assert body["a"] + body["b"] == body["c"] == Decimal("0.3")
    assert 0.1 + 0.2 != 0.3  # what a float would have done
    assert body["sgd"] == Decimal("11.11") and isinstance(body["big"], int)
    assert to_money(body["vnd"], "VND") == Money.of(48000, "VND")


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (Decimal("11.11"), "SGD", "11.11"),
        (0.1 + 0.2, "SGD", "0.30"),  # float noise from a payload decoded elsewhere
        (12.350000000000001, "MYR", "12.35"),
        (48000, "VND", "48000"),
        (Decimal("48000.0"), "VND", "48000"),
        (299000.0, "VND", "299000"),
        ("1999.5", "PHP", "1999.50"),
    ],
)
def test_prices_become_exact_money_in_the_shop_currency(
    value: Any, currency: str, expected: str
) -> None:
    money = to_money(value, currency)
    assert money == Money.of(expected, currency)
    assert str(money.amount) == str(Money.of(expected, currency).amount)


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        (Decimal("48000.5"), "VND"),
        (Decimal("12.345"), "SGD"),
        (True, "VND"),
        ("abc", "VND"),
        (float("nan"), "SGD"),
    ],
)
def test_prices_finer_than_the_currency_or_not_numbers_are_refused(
    value: Any, currency: str
) -> None:
    with pytest.raises(ValueError):
        to_money(value, currency)


def test_decimals_go_back_out_as_the_same_json_number() -> None:
    assert to_json_number(Decimal("399000")) == 399000
    assert json.dumps(to_json_number(Decimal("11.11"))) == "11.11"
    assert json.dumps(to_json_number(Decimal("0.30"))) == "0.3"
    assert plain_json({"p": [Decimal("11.11")], "n": 5}) == {"p": [11.11], "n": 5}


async def test_products_map_with_variants_skus_and_exact_vnd_prices() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    products = {p.title: p async for p in shop.stream_products()}
    assert set(products) == {"Áo thun cổ tròn trắng", "Nón lá Huế", "Áo dài lụa tơ tằm"}
    dress = products["Áo dài lụa tơ tằm"]
    assert dress.option_names == ["Màu"]
    assert [(v.sku, v.options, v.price) for v in dress.variants] == [
        ("AO-DAI-DO", {"Màu": "Đỏ"}, Money.of(650000, "VND")),
        ("AO-DAI-XANH", {"Màu": "Xanh ngọc"}, Money.of(690000, "VND")),
    ]
    hat = products["Nón lá Huế"]
    assert hat.variants[0].sku == "NON-LA-HUE" and hat.variants[0].price.amount == 85000
    assert hat.variants[0].weight_grams == Decimal("300.0")
    assert hat.channel_ref is not None and hat.variants[0].channel_ref is not None
    assert hat.variants[0].channel_ref.external_id == f"{hat.channel_ref.external_id}:0"
    for product in products.values():
        assert Product.model_validate_json(product.model_dump_json()) == product
    await shop.aclose()


async def test_two_decimal_shop_prices_round_trip_exactly() -> None:
    sandbox = frozen_sandbox(currency="SGD", region="SG")
    seed(
        sandbox,
        [{"sku": "KAYA-JAM", "title": "Kaya jam", "price": "11.11", "currency": "SGD", "stock": 3}],
    )
    shop = channel(sandbox)
    [jam] = [p async for p in shop.stream_products()]
    assert jam.variants[0].price == Money.of("11.11", "SGD")
    [result] = await shop.write_prices(
        [PriceUpdate(sku="KAYA-JAM", price=Money.of("21.15", "SGD"))]
    )
    assert result.ok, result
    assert sandbox.listing("KAYA-JAM")["price"] == "21.15"
    [wrong] = await shop.write_prices([PriceUpdate(sku="KAYA-JAM", price=Money.of(21000, "VND"))])
    assert not wrong.ok and wrong.code == "currency_mismatch"
    await shop.aclose()


async def test_vnd_price_writes_are_whole_dong_and_reported_per_model() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    results = await shop.write_prices(
        [
            PriceUpdate(sku="AO-DAI-DO", price=Money.of(599000, "VND")),
            PriceUpdate(sku="KHONG-CO", price=Money.of(1000, "VND")),
            PriceUpdate(sku="AO-DAI-XANH", price=Money.of(629000, "VND")),
        ]
    )
    assert [r.ok for r in results] == [True, False, True]
    assert results[0].external_id != results[2].external_id
    prices = {row["sku"]: row["price"] for row in sandbox.listings()}
    assert (prices["AO-DAI-DO"], prices["AO-DAI-XANH"]) == ("599000", "629000")
    calls = sandbox.operations("price.write")
    assert [c.items for c in calls] == [2], "both models of one item in one call"
    await shop.aclose()


async def test_masked_buyer_data_stays_masked_and_never_matches() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    number = order(
        sandbox,
        {"AO-DAI-XANH": 1},
        customer={
            "name": "Nguyễn Thị Hoa",
            "phone": "0912 345 678",
            "address": {
                "line1": "12 Lê Lợi",
                "ward": "Phường Bến Nghé",
                "district": "Quận 1",
                "province": "TP. Hồ Chí Minh",
            },
        },
    )
    shop = channel(sandbox)
    placed = await shop.get_order(number)
    customer = placed.customer
    assert customer is not None and placed.shipping_address is not None
    assert customer.full_name == "N************a"
    assert [p.raw for p in customer.phones] == ["******78"]
    assert all(p.masked and p.match_key is None for p in customer.phones)
    assert not any(key.startswith("phone:") for key in customer.match_keys())
    assert placed.shipping_address.line1 == "12******"
    assert placed.shipping_address.district == "Quận 1"
    assert placed.lines[0].title == "Áo dài lụa tơ tằm (Xanh ngọc)"
    assert "Nguyễn Thị Hoa" not in placed.model_dump_json()
    await shop.aclose()


def _detail(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_sn": "250315ABCDEF12",
        "order_status": status,
        "currency": "VND",
        "create_time": 1741996800,
        "update_time": 1741996900,
        "cod": False,
        "item_list": [
            {
                "item_id": 1,
                "model_id": 0,
                "item_sku": "NON-LA-HUE",
                "item_name": "Nón lá",
                "model_quantity_purchased": 2,
                "model_original_price": 85000,
                "model_discounted_price": 80000,
            }
        ],
        "total_amount": 160000,
        **extra,
    }


@pytest.mark.parametrize("status", sorted(ORDER_STATUS))
def test_every_shopee_status_maps_onto_a_canonical_one(status: str) -> None:
    mapped = order_from_shopee(_detail(status), channel="shopee", account="hcm", currency="VND")
    assert mapped.status is ORDER_STATUS[status] is order_status(status)
    assert mapped.channel_status == status


def test_discounts_and_totals_are_exact() -> None:
    mapped = order_from_shopee(
        _detail("COMPLETED", pay_time=1741997000), channel="shopee", account="hcm", currency="VND"
    )
    line = mapped.lines[0]
    assert line.unit_price == Money.of(85000, "VND")
    assert line.discount == Money.of(10000, "VND")
    assert mapped.subtotal == mapped.total == Money.of(160000, "VND")
    assert mapped.payment_status is PaymentStatus.PAID
    assert mapped.status is OrderStatus.COMPLETED


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Shopee order status"):
        order_status("LOST_IN_SPACE")


class Quarantine:
    """Collects ``omnisdk_record_rejected`` calls."""

    def __init__(self) -> None:
        self.rejected: list[tuple[str, str | None, str]] = []

    @hookimpl
    def omnisdk_record_rejected(
        self, channel: object, kind: str, external_id: str | None, raw: dict[str, Any], reason: str
    ) -> None:
        """Keep the rejected payload's kind, id and reason."""
        self.rejected.append((kind, external_id, reason))


async def test_one_unmappable_item_is_quarantined_and_the_rest_stream() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    with sandbox.lock:
        dress = next(i for i in sandbox.catalog.items.values() if i.models)
        dress.models[1].sku = ""  # a seller left a model without SKU
    quarantine = Quarantine()
    shop = channel(sandbox, plugins=plugins_with(quarantine))
    titles = [p.title async for p in shop.stream_products()]
    assert sorted(titles) == ["Nón lá Huế", "Áo thun cổ tròn trắng"]
    assert len(quarantine.rejected) == 1
    kind, external_id, reason = quarantine.rejected[0]
    assert (kind, external_id) == ("product", str(dress.item_id))
    assert "SKU" in reason
    await shop.aclose()
