"""Money: exact, currency-aware, refuses floats."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from omnisdk import Money
from omnisdk.models import CURRENCY_MINOR_UNITS, minor_units


def test_vnd_has_no_minor_unit() -> None:
    assert minor_units("VND") == 0
    assert Money.of("129000", "VND").amount == Decimal("129000")
    assert Money.of("129000.00", "vnd") == Money.of(129000, "VND")
    assert Money.of("129000.00", "VND").model_dump_json() == '{"amount":"129000","currency":"VND"}'


def test_minor_units_of_common_currencies() -> None:
    assert (minor_units("USD"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)
    assert {minor_units(c) for c in ("THB", "MYR", "SGD", "PHP", "IDR")} == {2}
    assert len(CURRENCY_MINOR_UNITS) > 150


def test_float_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount=19.99, currency="USD")  # type: ignore[arg-type]
    message = str(info.value)
    assert "amount" in message and "float 19.99" in message


def test_too_many_decimals_for_the_currency() -> None:
    with pytest.raises(ValidationError, match=r"VND allows \(0\)"):
        Money.of("1000.5", "VND")
    with pytest.raises(ValidationError, match=r"USD allows \(2\)"):
        Money.of("1.005", "USD")
    assert Money.of("1000.5", "VND", rounding=ROUND_HALF_UP) == Money.of(1001, "VND")


def test_unknown_currency_and_garbage() -> None:
    with pytest.raises(ValidationError, match="unknown ISO 4217 currency code 'XYZ'"):
        Money.of(1, "XYZ")
    with pytest.raises(ValidationError, match="'abc' is not a decimal number"):
        Money.of("abc", "VND")
    with pytest.raises(ValidationError, match="finite"):
        Money.of("NaN", "USD")


def test_arithmetic_only_within_one_currency() -> None:
    a, b = Money.of("10.50", "USD"), Money.of("0.25", "USD")
    assert a + b == Money.of("10.75", "USD")
    assert a - b == Money.of("10.25", "USD")
    assert a * 3 == Money.of("31.50", "USD")
    assert Money.of("333", "VND") * Decimal("1.1") == Money.of(366, "VND")
    assert a > b and b < a and a >= a
    with pytest.raises(ValueError, match="cannot add USD and VND"):
        _ = a + Money.of(1, "VND")
    with pytest.raises(TypeError):
        _ = a * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = a + 1  # type: ignore[operator]


def test_minor_unit_conversion() -> None:
    assert Money.of("12.34", "USD").to_minor() == 1234
    assert Money.from_minor(1234, "USD") == Money.of("12.34", "USD")
    assert Money.from_minor(50000, "VND") == Money.of(50000, "VND")


def test_repr_and_str() -> None:
    assert repr(Money.of(129000, "VND")) == "Money('129000 VND')"
    assert str(Money.of(1290000, "VND")) == "1,290,000 VND"


@given(
    units=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["VND", "USD", "KWD", "JPY", "THB"]),
)
def test_json_round_trip_is_lossless(units: int, currency: str) -> None:
    money = Money.from_minor(units, currency)
    again = Money.model_validate_json(money.model_dump_json())
    assert again == money and again.to_minor() == units
