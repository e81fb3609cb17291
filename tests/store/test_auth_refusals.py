"""Authorisation refusals in a row, counted in the store over every process (#10, 0008)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omnisdk.store import AccountStatus, Store, UnknownAccount
from omnisdk.store.refusal_count import StoreRefusalCount

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_refusals_one_after_another_add_up_and_a_reset_ends_them(store: Store) -> None:
    store.ensure_account("shopify-hanoi", "shopify")
    assert store.auth_refusals("shopify-hanoi") == 0
    assert store.add_auth_refusal("shopify-hanoi", started=T0, now=T0 + SECOND) == 1
    later = T0 + 2 * SECOND
    assert store.add_auth_refusal("shopify-hanoi", started=later, now=later + SECOND) == 2
    assert store.auth_refusals("shopify-hanoi") == 2
    assert store.reset_auth_refusals("shopify-hanoi") is True
    assert store.reset_auth_refusals("shopify-hanoi") is False, "nothing to reset: no write"
    assert store.add_auth_refusal("shopify-hanoi", started=T0, now=T0 + 4 * SECOND) == 1


def test_a_request_sent_before_the_last_counted_refusal_is_no_new_evidence(store: Store) -> None:
    """An expired token refuses every process's calls at once: they count once."""
    store.ensure_account("shopee-saigon", "shopee")
    assert store.add_auth_refusal("shopee-saigon", started=T0, now=T0 + 2 * SECOND) == 1
    # Sent at T0 + 1 s, before the refusal above was seen: the same expiry.
    assert store.add_auth_refusal("shopee-saigon", started=T0 + SECOND, now=T0 + 3 * SECOND) is None
    assert store.auth_refusals("shopee-saigon") == 1
    # Sent after it: a second refusal in a row.
    after = T0 + 3 * SECOND
    assert store.add_auth_refusal("shopee-saigon", started=after, now=after + SECOND) == 2


def test_authorised_again_the_count_starts_over(store: Store) -> None:
    store.ensure_account("lazada-main", "lazada")
    store.add_auth_refusal("lazada-main", started=T0, now=T0)
    store.set_account_status("lazada-main", AccountStatus.NEEDS_REAUTH)
    assert store.auth_refusals("lazada-main") == 1, "needs_reauth keeps the count"
    store.set_account_status("lazada-main", AccountStatus.ACTIVE)
    assert store.auth_refusals("lazada-main") == 0


def test_a_new_token_for_a_stopped_account_starts_the_count_over(store: Store) -> None:
    from omnisdk.auth import Token

    store.ensure_account("shopify-hanoi", "shopify")
    store.add_auth_refusal("shopify-hanoi", started=T0, now=T0)
    store.mark_needs_reauth("shopify-hanoi", "shopify")
    store.write_token("shopify", "shopify-hanoi", Token.lasting("shpat_moi_0001", seconds=None))
    account = store.get_account("shopify-hanoi")
    assert account is not None and account.status is AccountStatus.ACTIVE
    assert store.auth_refusals("shopify-hanoi") == 0


def test_an_unknown_account_is_named(store: Store) -> None:
    with pytest.raises(UnknownAccount, match="tiki-main"):
        store.add_auth_refusal("tiki-main", started=T0, now=T0)
    assert store.auth_refusals("tiki-main") == 0


def test_the_refusal_count_of_an_account_reads_and_writes_the_store(store: Store) -> None:
    store.ensure_account("shopee-saigon", "shopee")
    count = StoreRefusalCount(store, "shopee-saigon")
    assert count.add(T0, T0 + SECOND) == 1
    assert StoreRefusalCount(store, "shopee-saigon").load() == 1, "another process sees it"
    count.reset()
    assert count.load() == 0
