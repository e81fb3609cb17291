"""Catalog items <-> canonical types: prices in every form Meta shows, variant groups, NFC
names, feed-named writes; broken items are quarantined, never crash the stream."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from omnisdk_facebook import FacebookChannel
from omnisdk_facebook.mapping import (
    group_items,
    item_data,
    parse_price,
    price_text,
    product_from_items,
    variant_attribute,
)

from omnisdk import Money, Product, Variant
from omnisdk.testing.fuzz import FUZZ_SETTINGS, check_mapping, mutations

ITEM: dict[str, Any] = {
    "id": "6543210000001",
    "retailer_id": "AO-DAI-DO-M",
    "name": unicodedata.normalize("NFD", "Áo dài lụa tơ tằm"),
    "description": "Lụa Hà Đông",
    "price": "450.000 ₫",
    "currency": "VND",
    "availability": "in stock",
    "quantity_to_sell_on_facebook": 7,
    "retailer_product_group_id": "AO-DAI-DO-M",
    "additional_variant_attributes": {"Màu": "Đỏ", "Cỡ": "M"},
    "image_url": "https://shop.example.vn/i/ao-dai.jpg",
}


@pytest.mark.parametrize(
    ("shown", "currency", "expected"),
    [
        ("150000 VND", None, Money.of(150000, "VND")),
        ("150.000 ₫", "VND", Money.of(150000, "VND")),
        ("₫1,250,000", None, Money.of(1250000, "VND")),
        ("$12.99", None, Money.of("12.99", "USD")),
        ("12,99 €", "EUR", Money.of("12.99", "EUR")),
        ("1.234,50 EUR", None, Money.of("1234.50", "EUR")),
        ("1,234.50", "USD", Money.of("1234.50", "USD")),
        (199000, "VND", Money.of(199000, "VND")),
    ],
)
def test_prices_read_in_every_form_meta_shows(shown: Any, currency: str | None,
                                              expected: Money) -> None:
    assert parse_price(shown, currency) == expected


@pytest.mark.parametrize("bad", ["", "miễn phí", "VND", None, True])
def test_a_price_without_an_amount_or_currency_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_price(bad, None)


def test_feed_prices_carry_the_iso_code_and_no_minor_unit_for_vnd() -> None:
    assert price_text(Money.of(150000, "VND")) == "150000 VND"
    assert price_text(Money.of("12.9", "USD")) == "12.90 USD"
    assert variant_attribute({"Màu": "Đỏ, tươi", "Cỡ:": "M"}) == "Màu:Đỏ  tươi,Cỡ:M"


def test_items_of_one_group_are_the_variants_of_one_product() -> None:
    other = {**ITEM, "id": "6543210000002", "retailer_id": "AO-DAI-XANH-M",
             "additional_variant_attributes": {"Màu": "Xanh", "Cỡ": "M"}, "price": "470.000 ₫"}
    alone = {"id": "6543210000003", "retailer_id": "NON-LA", "name": "Nón lá Huế",
             "price": "85000 VND", "currency": "VND"}
    records = group_items([ITEM, alone, other])
    assert [len(r["items"]) for r in records] == [2, 1]
    product = product_from_items(records[0], channel="facebook", account="fb")
    assert product.title == "Áo dài lụa tơ tằm"  # NFC
    assert unicodedata.is_normalized("NFC", product.title)
    assert product.skus == ["AO-DAI-DO-M", "AO-DAI-XANH-M"]
    assert product.option_names == ["Màu", "Cỡ"]
    assert product.variants[1].price == Money.of(470000, "VND")
    assert product.variants[0].channel_ref is not None
    assert product.variants[0].channel_ref.external_id == "6543210000001"


def test_a_sale_price_becomes_the_price_under_a_compare_at() -> None:
    record = group_items([{**ITEM, "price": "500.000 ₫", "sale_price": "450.000 ₫"}])[0]
    variant = product_from_items(record, channel="facebook", account="fb").variants[0]
    assert (variant.price, variant.compare_at_price) == (
        Money.of(450000, "VND"), Money.of(500000, "VND"))


def test_a_product_is_written_with_feed_names() -> None:
    product = Product(
        title="Áo dài lụa tơ tằm", description="Lụa Hà Đông",
        variants=[
            Variant(sku="AO-DAI-DO-M", price=Money.of(450000, "VND"),
                    compare_at_price=Money.of(500000, "VND"), options={"Màu": "Đỏ"}),
            Variant(sku="AO-DAI-XANH-M", price=Money.of(470000, "VND"), options={"Màu": "Xanh"}),
        ],
    )
    data = item_data(product, product.variants[0], link_template="https://shop.vn/p/{sku}")
    assert data["id"] == "AO-DAI-DO-M"
    assert (data["price"], data["sale_price"]) == ("500000 VND", "450000 VND")
    assert data["item_group_id"] == "AO-DAI-DO-M"
    assert data["additional_variant_attribute"] == "Màu:Đỏ"
    assert data["link"] == "https://shop.vn/p/AO-DAI-DO-M"
    second = item_data(product, product.variants[1], link_template=None)
    assert second["item_group_id"] == "AO-DAI-DO-M" and "sale_price" not in second
    assert Decimal(second["price"].split()[0]) == 470000


@settings(FUZZ_SETTINGS, max_examples=60)
@given(raw=mutations({"id": ITEM["id"], "retailer_product_group_id": "G", "items": [ITEM]}))
def test_any_broken_item_maps_or_is_quarantined(raw: Any) -> None:
    channel = FacebookChannel({"app_id": "1", "app_secret": "s", "access_token": "t",
                               "catalog_id": "2"}, account="fuzz")
    check_mapping(channel, "product", raw)
