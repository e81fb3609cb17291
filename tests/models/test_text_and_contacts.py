"""NFC text, Vietnamese phones, masked contact points."""

import unicodedata

import pytest

from omnisdk import Address, ChannelRef, Customer, Email, Phone
from omnisdk.models import is_masked, nfc

DECOMPOSED = unicodedata.normalize("NFD", "Áo thun cổ tròn Đỏ")


def test_every_string_is_nfc() -> None:
    assert DECOMPOSED != "Áo thun cổ tròn Đỏ"
    address = Address(line1=DECOMPOSED, ward="Phường Bến Nghé", district="Quận 1",
                      province=unicodedata.normalize("NFD", "Thành phố Hồ Chí Minh"))
    assert address.line1 == "Áo thun cổ tròn Đỏ"
    assert address.province == nfc("Thành phố Hồ Chí Minh")
    assert address.country_code == "VN"
    assert "Quận 1" in address.one_line()


@pytest.mark.parametrize("written", ["0912345678", "0912 345 678", "84912345678",
                                     "+84 912 345 678", "(+84) 91-234-5678", "849 1234 5678"])
def test_vietnamese_mobile_forms_normalise_to_e164(written: str) -> None:
    phone = Phone.parse(written)
    assert phone.e164 == "+84912345678"
    assert phone.match_key == "+84912345678"
    assert phone.raw == written.strip()


def test_masked_and_unreadable_phones_never_match() -> None:
    masked = Phone.parse("84****5678")
    assert masked.masked and masked.e164 is None and masked.match_key is None
    junk = Phone.parse("call me")
    assert not junk.masked and junk.e164 is None and junk.match_key is None
    assert str(junk) == "call me"


def test_emails_lower_cased_and_masked_detected() -> None:
    assert Email.parse("  An.Nguyen@Example.VN ").address == "an.nguyen@example.vn"
    assert Email.parse("a***@gmail.com").masked
    assert Email.parse("not-an-email").match_key is None
    assert is_masked("******78") and not is_masked("0912345678")


def test_customer_match_keys_skip_masked_values() -> None:
    ref = ChannelRef(channel="shopee", account="sg", external_id="u1")
    customer = Customer(full_name="Nguyễn Văn An", phones=["0912 345 678", "******78"],
                        emails=["AN@example.vn", "a***@x.com"], channel_ref=ref)
    assert customer.match_keys() == {"phone:+84912345678", "email:an@example.vn",
                                     "ref:shopee:sg:u1"}
    assert customer.display_name == "Nguyễn Văn An"
    again = Customer.model_validate_json(customer.model_dump_json())
    assert again == customer
