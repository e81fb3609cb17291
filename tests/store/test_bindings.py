"""Bindings: canonical id <-> channel id, unique both ways per account and kind."""

from __future__ import annotations

import pytest
from _store_testkit import SKU_RED_L, SKU_RED_M

from omnisdk.store import BindingConflict, BindingKind, Store


def test_bind_and_look_up_both_ways(accounts: Store) -> None:
    assert accounts.bind("shopee-hanoi", "variant", SKU_RED_M, "model-8812") is True
    assert accounts.bind("shopee-hanoi", BindingKind.VARIANT, SKU_RED_M, "model-8812") is False
    assert accounts.external_id_for("shopee-hanoi", "variant", SKU_RED_M) == "model-8812"
    assert accounts.canonical_id_for("shopee-hanoi", "variant", "model-8812") == SKU_RED_M
    assert accounts.external_id_for("lazada-main", "variant", SKU_RED_M) is None
    assert accounts.external_id_for("shopee-hanoi", "product", SKU_RED_M) is None


def test_the_same_ids_may_be_bound_on_other_accounts_and_kinds(accounts: Store) -> None:
    accounts.bind("shopee-hanoi", "variant", SKU_RED_M, "8812")
    accounts.bind("lazada-main", "variant", SKU_RED_M, "8812")
    accounts.bind("shopee-hanoi", "product", "p-ao-thun", "8812")
    assert accounts.bindings_of("shopee-hanoi", "variant") == {SKU_RED_M: "8812"}
    assert accounts.bindings_of("shopee-hanoi", "product") == {"p-ao-thun": "8812"}


def test_conflicts_are_refused_in_both_directions(accounts: Store) -> None:
    accounts.bind("shopee-hanoi", "variant", SKU_RED_M, "model-8812")
    with pytest.raises(BindingConflict, match="already bound 'ÁO-THUN-ĐỎ-M' <-> 'model-8812'"):
        accounts.bind("shopee-hanoi", "variant", SKU_RED_M, "model-9999")
    with pytest.raises(BindingConflict):
        accounts.bind("shopee-hanoi", "variant", SKU_RED_L, "model-8812")
    assert accounts.bindings_of("shopee-hanoi", "variant") == {SKU_RED_M: "model-8812"}


def test_replace_rebinds_a_recreated_listing(accounts: Store) -> None:
    accounts.bind("shopee-hanoi", "variant", SKU_RED_M, "model-8812")
    accounts.bind("shopee-hanoi", "variant", SKU_RED_L, "model-8813")
    assert accounts.bind("shopee-hanoi", "variant", SKU_RED_M, "model-8813", replace=True)
    assert accounts.bindings_of("shopee-hanoi", "variant") == {SKU_RED_M: "model-8813"}
    assert accounts.unbind("shopee-hanoi", "variant", SKU_RED_M) is True
    assert accounts.unbind("shopee-hanoi", "variant", SKU_RED_M) is False


def test_unknown_kind_is_refused(accounts: Store) -> None:
    with pytest.raises(ValueError, match="'listing'"):
        accounts.bind("shopee-hanoi", "listing", SKU_RED_M, "1")
