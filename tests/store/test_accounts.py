"""Channel accounts: registration, status, listing."""

from __future__ import annotations

import pytest

from omnisdk.errors import StoreError
from omnisdk.store import AccountStatus, Store, UnknownAccount


def test_ensure_account_registers_once(store: Store) -> None:
    first = store.ensure_account("shopee-hanoi", "shopee")
    again = store.ensure_account("shopee-hanoi", "shopee")
    assert first == again
    assert first.status is AccountStatus.ACTIVE
    assert first.channel == "shopee"


def test_an_account_name_belongs_to_one_channel(store: Store) -> None:
    store.ensure_account("cửa-hàng-quận-1", "pos")
    with pytest.raises(StoreError, match="belongs to channel 'pos', not 'shopify'"):
        store.ensure_account("cửa-hàng-quận-1", "shopify")


def test_status_changes_and_survives_ensure(store: Store) -> None:
    store.ensure_account("lazada-main", "lazada")
    store.set_account_status("lazada-main", "needs_reauth")
    assert store.get_account("lazada-main").status is AccountStatus.NEEDS_REAUTH  # type: ignore[union-attr]
    store.set_account_status("lazada-main", AccountStatus.ARCHIVED)
    assert store.ensure_account("lazada-main", "lazada").status is AccountStatus.ARCHIVED
    with pytest.raises(ValueError, match="'paused'"):
        store.set_account_status("lazada-main", "paused")


def test_unknown_accounts_are_named_in_the_error(store: Store) -> None:
    with pytest.raises(UnknownAccount, match="'tiki-main' is not registered"):
        store.set_account_status("tiki-main", "archived")
    with pytest.raises(UnknownAccount):
        store.get_cursor("tiki-main", "orders")
    assert store.get_account("tiki-main") is None


def test_list_accounts_filters(store: Store) -> None:
    store.ensure_account("shopee-hanoi", "shopee")
    store.ensure_account("shopee-saigon", "shopee")
    store.ensure_account("facebook-page", "facebook")
    store.set_account_status("shopee-saigon", "archived")
    assert [a.name for a in store.list_accounts()] == [
        "facebook-page",
        "shopee-hanoi",
        "shopee-saigon",
    ]
    assert [a.name for a in store.list_accounts(status="active", channel="shopee")] == [
        "shopee-hanoi"
    ]


def test_an_account_created_in_a_rolled_back_transaction_is_not_remembered(
    store: Store,
) -> None:
    class Abandon(Exception):
        pass

    def abandoned() -> None:
        with store.session() as session:
            store.ensure_account("tiktok-hcm", "tiktok", session=session)
            store.set_cursor("tiktok-hcm", "orders", "2026-11-11T00:00:00+00:00", session=session)
            raise Abandon

    with pytest.raises(Abandon):
        abandoned()
    assert store.get_account("tiktok-hcm") is None
    with pytest.raises(UnknownAccount):
        store.set_cursor("tiktok-hcm", "orders", "2026-11-11T00:00:00+00:00")
    # Registered for good, its id is remembered: a lookup costs no statement.
    store.ensure_account("tiktok-hcm", "tiktok")
    store.set_cursor("tiktok-hcm", "orders", "2026-11-11T00:00:00+00:00")
    assert store.get_cursor("tiktok-hcm", "orders") == "2026-11-11T00:00:00+00:00"
    with pytest.raises(StoreError, match="belongs to channel 'tiktok', not 'shopee'"):
        store.ensure_account("tiktok-hcm", "shopee")
