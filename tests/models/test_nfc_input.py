"""The models' one NFC pass over their input: what it changes, what it leaves alone."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from omnisdk.models import ChannelRef, Customer, Money, OrderLine, Phone

DECOMPOSED = unicodedata.normalize("NFD", "Nguyễn Thị Hương")
COMPOSED = unicodedata.normalize("NFC", DECOMPOSED)


class _Text(str):
    """A str subclass (as enums and some libraries' strings are)."""


def test_text_anywhere_in_the_input_is_composed_and_the_input_left_as_it_was() -> None:
    data = {
        "full_name": DECOMPOSED,
        "last_name": _Text(DECOMPOSED),
        "first_name": "Huong",
        "phones": [Phone.parse("0912345678")],
        "addresses": [{"name": DECOMPOSED, "province": DECOMPOSED}],
        "raw": {"name": DECOMPOSED},
    }
    before = {**data, "addresses": [dict(data["addresses"][0])]}
    customer = Customer.model_validate(data)
    assert customer.full_name == COMPOSED and customer.last_name == COMPOSED
    assert customer.addresses[0].name == COMPOSED
    assert customer.addresses[0].province == COMPOSED
    assert customer.raw == {"name": DECOMPOSED}  # the platform's payload as it came
    assert customer.phones[0].e164 == "+84912345678"
    assert data == before


def test_a_dumped_line_reads_back_with_its_computed_total_dropped() -> None:
    line = OrderLine(
        sku="SP-1",
        title=DECOMPOSED,
        quantity=2,
        unit_price=Money.of(Decimal("125000"), "VND"),
        channel_ref=ChannelRef(channel="shopify", account="a", external_id="1"),
    )
    dumped = line.model_dump()
    assert "total" in dumped
    again = OrderLine.model_validate(dumped)
    assert again == line and again.title == COMPOSED
