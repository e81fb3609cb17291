"""The SKU rule: invisible formatting removed, other spaces made plain, NFC, controls refused.

Two SKUs that look the same must be the same SKU: a zero-width space pasted from a platform's
admin, or a Vietnamese SKU typed decomposed on a Mac, must never make a second master SKU.
"""

from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError

from omnisdk import Money, OrderLine, Product, StockLevel, Variant
from omnisdk.models import validate_sku
from omnisdk.models.product import MAX_SKU_LENGTH

VISIBLE = "ÁO-DÀI-ĐỎ-M"


@pytest.mark.parametrize(
    "typed",
    [
        "ÁO-DÀI\u200b-ĐỎ-M",  # zero-width space
        "\ufeffÁO-DÀI-ĐỎ-M",  # byte-order mark from a CSV export
        "ÁO-DÀI-Đ\u200dỎ-M",  # zero-width joiner
        "ÁO-DÀI-ĐỎ\u2060-M",  # word joiner
        "ÁO-\u00adDÀI-ĐỎ-M",  # soft hyphen
        "\u200eÁO-DÀI-ĐỎ-M\u200f",  # left-to-right / right-to-left marks
        unicodedata.normalize("NFD", "ÁO-DÀI-ĐỎ-M"),  # decomposed (macOS input)
        "A\u200b\u0301O-DÀI-ĐỎ-M",  # a zero-width space between a letter and its accent
        "\u00a0ÁO-DÀI-ĐỎ-M\u3000",  # no-break and ideographic spaces around it
    ],
)
def test_a_sku_that_looks_the_same_is_the_same(typed: str) -> None:
    assert typed != VISIBLE
    assert validate_sku(typed) == VISIBLE
    variant = Variant(sku=typed, price=Money.of(850000, "VND"))
    assert variant.sku == VISIBLE
    assert StockLevel(sku=typed, on_hand=3).sku == VISIBLE


def test_other_spaces_inside_become_a_plain_space() -> None:
    assert validate_sku("NÓN LÁ\u00a0HUẾ") == "NÓN LÁ HUẾ"


def test_two_variants_differing_only_by_an_invisible_character_are_one_sku_twice() -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        Product(
            title="Áo dài lụa",
            variants=[
                Variant(sku=VISIBLE, price=Money.of(850000, "VND")),
                Variant(sku="ÁO-DÀI\u200b-ĐỎ-M", price=Money.of(850000, "VND")),
            ],
        )


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ÁO\x00DÀI", r"control character \(U\+0000\) at position 2"),
        ("ÁO\tDÀI", r"control character \(U\+0009\)"),
        ("ÁO\x85DÀI", r"control character \(U\+0085\)"),
        ("ÁO\u2028DÀI", r"line separator \(U\+2028\)"),
        ("ÁO\ue000DÀI", r"private-use character \(U\+E000\)"),
        ("ÁO\U000e0000", r"unassigned code point"),
        ("\u200b\u200b", "made only of invisible characters"),
        ("", "SKU is empty"),
        ("Á" * (MAX_SKU_LENGTH + 1), "256 characters long"),
    ],
)
def test_a_sku_that_cannot_be_shown_is_refused_with_where(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_sku(typed)
    with pytest.raises(ValidationError, match=reason):
        OrderLine(sku=typed, quantity=1, unit_price=Money.of(850000, "VND"))
