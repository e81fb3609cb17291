"""Customers: identities by match key, reversible merges."""

from __future__ import annotations

import pytest
from _store_testkit import CUSTOMER_PHONE, make_customer

from omnisdk.errors import StoreError
from omnisdk.models import ChannelRef, Email, Phone
from omnisdk.store import Store

PHONE_KEY = f"phone:{CUSTOMER_PHONE}"


def test_customer_round_trip_with_identities(accounts: Store) -> None:
    ref = ChannelRef(channel="shopee", account="shopee-hanoi", external_id="buyer-77")
    customer_id = accounts.save_customer(
        make_customer(channel_ref=ref), source_account="shopee-hanoi"
    )
    stored = accounts.get_customer(customer_id)
    assert stored is not None
    assert stored.customer.full_name == "Nguyễn Văn An"
    assert stored.customer.id == customer_id
    assert stored.match_keys == (PHONE_KEY, "ref:shopee:shopee-hanoi:buyer-77")
    assert accounts.find_customers([PHONE_KEY, "email:none@example.vn"]) == {PHONE_KEY: customer_id}


def test_masked_contacts_are_never_identities(accounts: Store) -> None:
    customer_id = accounts.save_customer(
        make_customer(phones=[Phone.parse("84****5678")], emails=[Email.parse("a***@gmail.com")])
    )
    stored = accounts.get_customer(customer_id)
    assert stored is not None and stored.match_keys == ()


def test_a_key_owned_by_someone_else_is_not_taken(accounts: Store) -> None:
    an = accounts.save_customer(make_customer(), customer_id="an")
    other = accounts.save_customer(
        make_customer(full_name="Trần Thị Bình", emails=[Email.parse("binh@example.vn")])
    )
    assert accounts.find_customers([PHONE_KEY]) == {PHONE_KEY: an}
    stored = accounts.get_customer(other)
    assert stored is not None and stored.match_keys == ("email:binh@example.vn",)


def test_merge_and_undo(accounts: Store) -> None:
    survivor = accounts.save_customer(make_customer(), customer_id="an-shopee")
    duplicate = accounts.save_customer(
        make_customer(phones=[], emails=[Email.parse("an.nguyen@example.vn")]),
        customer_id="an-lazada",
    )
    merge_id = accounts.merge_customers(duplicate, survivor, "same person: Zalo confirmation")
    assert accounts.find_customers(["email:an.nguyen@example.vn"]) == {
        "email:an.nguyen@example.vn": survivor
    }
    assert accounts.resolve_customer_id(duplicate) == survivor
    merged = accounts.get_customer(duplicate)
    assert merged is not None and merged.id == survivor
    raw = accounts.get_customer(duplicate, follow_merges=False)
    assert raw is not None and raw.merged_into == survivor
    assert [c.id for c in accounts.iter_customers()] == [survivor]
    assert {c.id for c in accounts.iter_customers(include_merged=True)} == {survivor, duplicate}

    accounts.undo_merge(merge_id)
    assert accounts.resolve_customer_id(duplicate) == duplicate
    back = accounts.get_customer(duplicate)
    assert back is not None and back.match_keys == ("email:an.nguyen@example.vn",)
    with pytest.raises(StoreError, match="already undone"):
        accounts.undo_merge(merge_id)


def test_merge_rules(accounts: Store) -> None:
    a = accounts.save_customer(make_customer(phones=[]), customer_id="a")
    b = accounts.save_customer(make_customer(phones=[]), customer_id="b")
    c = accounts.save_customer(make_customer(phones=[]), customer_id="c")
    with pytest.raises(StoreError, match="into itself"):
        accounts.merge_customers(a, a, "x")
    with pytest.raises(StoreError, match="'ghost' does not exist"):
        accounts.merge_customers("ghost", a, "x")
    first = accounts.merge_customers(a, b, "x")
    with pytest.raises(StoreError, match="already merged into 'b'"):
        accounts.merge_customers(a, c, "x")
    accounts.merge_customers(b, c, "x")
    assert accounts.resolve_customer_id(a) == c
    with pytest.raises(StoreError, match="undo that merge first"):
        accounts.undo_merge(first)


def test_streaming_customers_with_keys(accounts: Store) -> None:
    for number in range(5):
        accounts.save_customer(
            make_customer(
                full_name=f"Khách {number}", phones=[Phone.parse(f"+8491234567{number}")]
            ),
            customer_id=f"c{number}",
        )
    streamed = list(accounts.iter_customers(batch_size=2))
    assert [c.id for c in streamed] == [f"c{n}" for n in range(5)]
    assert streamed[4].match_keys == ("phone:+84912345674",)
