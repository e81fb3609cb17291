"""Canonical numeric bounds: amounts and quantities out of range are refused, clearly, as
``ValueError`` (never ``decimal.InvalidOperation`` or ``OverflowError``), naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from omnisdk import ChannelRef, Money, Order, OrderLine, OrderStatus, StockLevel, Variant
from omnisdk.models import MAX_LEVEL, MAX_MINOR_UNITS, MAX_QUANTITY, listed_count

NOW = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("amount", ["1e30", "1E+999999999", "-1e16", 10**30, Decimal("1e28")])
def test_money_out_of_range_is_a_value_error_saying_the_bound(amount: object) -> None:
    with pytest.raises(ValidationError, match="out of range: at most 1,000,000,000,000,000 VND"):
        Money(amount=amount, currency="VND")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out of range"):
        Money.of(str(amount), "VND", rounding="ROUND_HALF_UP")


def test_the_largest_amounts_are_accepted_in_every_currency() -> None:
    assert Money.from_minor(MAX_MINOR_UNITS, "VND").to_minor() == MAX_MINOR_UNITS
    assert Money.from_minor(-MAX_MINOR_UNITS, "USD").amount == Decimal("-10000000000000.00")
    with pytest.raises(ValueError, match="out of range"):
        Money.from_minor(MAX_MINOR_UNITS + 1, "KWD")


def test_arithmetic_past_the_bound_is_refused_not_an_invalid_operation() -> None:
    price = Money.of("129000", "VND")
    with pytest.raises(ValueError, match="out of range"):
        price * 10**20
    with pytest.raises(ValueError, match="out of range"):
        Money.of(MAX_MINOR_UNITS, "VND") + price


def test_a_variant_priced_1e30_is_refused_naming_the_price() -> None:
    with pytest.raises(ValidationError) as caught:
        Variant.model_validate({"sku": "VÀNG-9999", "price": {"amount": "1e30", "currency": "VND"}})
    assert caught.value.errors()[0]["loc"] == ("price",)
    assert "1E+30 VND is out of range" in str(caught.value)


def test_an_order_line_quantity_is_at_most_max_quantity() -> None:
    price = Money.of(1000, "VND")
    assert OrderLine(sku="NÓN-LÁ", quantity=MAX_QUANTITY, unit_price=price).quantity == MAX_QUANTITY
    with pytest.raises(ValidationError) as caught:
        OrderLine(sku="NÓN-LÁ", quantity=10**20, unit_price=price)
    assert caught.value.errors()[0]["loc"] == ("quantity",)


def test_a_line_whose_total_overflows_is_refused_when_built_not_when_dumped() -> None:
    with pytest.raises(ValidationError, match=r"line total \(unit_price x 1000000000\)"):
        OrderLine(sku="NÓN-LÁ", quantity=MAX_QUANTITY, unit_price=Money.of(10**9, "VND"))


def test_an_orders_units_of_one_sku_are_bounded_over_its_lines() -> None:
    price = Money.of(1, "VND")
    line = OrderLine(sku="NÓN-LÁ", quantity=MAX_QUANTITY, unit_price=price)
    with pytest.raises(ValidationError, match="2000000000 units of 'NÓN-LÁ'"):
        Order(
            channel_ref=ChannelRef(channel="shopee", account="hcm", external_id="2411"),
            status=OrderStatus.CONFIRMED,
            currency="VND",
            lines=[line, line],
            subtotal=Money.of(2 * MAX_QUANTITY, "VND"),
            total=Money.of(2 * MAX_QUANTITY, "VND"),
            created_at=NOW,
            updated_at=NOW,
        )


def test_a_listed_figure_of_1e30_is_refused() -> None:
    assert StockLevel(sku="NÓN-LÁ", on_hand=MAX_LEVEL).on_hand == MAX_LEVEL
    with pytest.raises(ValidationError) as caught:
        StockLevel(sku="NÓN-LÁ", on_hand=10**30)
    assert caught.value.errors()[0]["loc"] == ("on_hand",)
    with pytest.raises(ValidationError):
        StockLevel(sku="NÓN-LÁ", on_hand=5, reserved=MAX_LEVEL + 1)


@pytest.mark.parametrize(
    ("value", "read"),
    [(5, 5), (0, 0), (-3, -3), (7.0, 7), ("12", 12), (" 12 ", 12), ("4.0", 4),
     (Decimal("9"), 9), (MAX_LEVEL, MAX_LEVEL), (-MAX_LEVEL, -MAX_LEVEL)],
)
def test_a_listed_count_reads_whole_numbers_within_bounds(value: object, read: int) -> None:
    assert listed_count(value) == read


@pytest.mark.parametrize(
    ("value", "says"),
    [(10**30, r"1\.000e\+30 is out of range"), (MAX_LEVEL + 1, "out of range"),
     ("-1e30", "out of range"), (2.5, "whole number, got '2.5'"), ("còn hàng", "whole number"),
     (True, "whole number, got True"), (None, "whole number"), (float("nan"), "whole number"),
     ("Infinity", "whole number"), ([3], "got list")],
)
def test_a_listed_count_refuses_anything_else_naming_the_field(value: object, says: str) -> None:
    with pytest.raises(ValueError, match=says) as raised:
        listed_count(value, "sellable")
    assert str(raised.value).startswith("sellable")
