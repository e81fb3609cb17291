"""Price rules derive channel prices exactly."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from omnisdk import Money
from omnisdk.pricing import PricingRule, Rounding


def test_identity_rule_keeps_the_price() -> None:
    assert PricingRule().apply(Money.of(129000, "VND")) == Money.of(129000, "VND")


def test_marketplace_markup_rounded_to_1000_vnd() -> None:
    rule = PricingRule(multiplier=Decimal("1.1"), round_to=Decimal(1000), rounding=Rounding.UP)
    assert rule.apply(Money.of(123456, "VND")) == Money.of(136000, "VND")
    half = rule.model_copy(update={"rounding": Rounding.HALF_UP})
    assert half.apply(Money.of(123456, "VND")) == Money.of(136000, "VND")
    down = rule.model_copy(update={"rounding": Rounding.DOWN})
    assert down.apply(Money.of(123456, "VND")) == Money.of(135000, "VND")


def test_usd_rule_rounds_to_cents() -> None:
    rule = PricingRule(multiplier=Decimal("1.075"), add=Decimal("0.5"))
    assert rule.apply(Money.of("19.99", "USD")) == Money.of("21.99", "USD")


def test_floats_and_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="as a string"):
        PricingRule(multiplier=1.1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown field"):
        PricingRule(owns=frozenset({"price", "colour"}))
