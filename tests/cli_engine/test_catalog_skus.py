"""``omnisdk catalog skus``: stored SKUs spelled otherwise than their canonical form (#10).

New reads canonicalise every SKU (``omnisdk.models.canonical_sku``); rows stored before the
rule keep a zero-width space, and look like the canonical SKU while being another key. The
old rows are made here by renaming a stored SKU to such a spelling in every table
(``rename_sku`` with an explicit target), as they were stored then.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _engine_cli_testkit import Invoke, Shop
from sqlalchemy import insert, select

from omnisdk.config import load_config
from omnisdk.store import Store
from omnisdk.store.schema import stock_ledger, stock_levels
from omnisdk.store.sku_spellings import (
    _TABLES,
    SkuMergeRefused,
    find_sku_spellings,
    rename_sku,
)

SKU = "NON-LA-HUE"
OLD = "NON-LA\u200b-HUE"


def _store(config_path: Path) -> Store:
    return Store(load_config(config_path).store.url)


def _keys(store: Store, sku: str) -> list[str]:
    with store.engine.connect() as connection:
        return sorted(
            connection.execute(
                select(stock_ledger.c.idempotency_key).where(stock_ledger.c.sku == sku)
            ).scalars()
        )


@pytest.fixture
def old_spelling(imported: list[Shop], config_path: Path) -> list[str]:
    """NON-LA-HUE stored as ``NON-LA<ZWSP>-HUE`` everywhere; returns its ledger keys."""
    store = _store(config_path)
    try:
        keys = _keys(store, SKU)
        changed = rename_sku(store, SKU, OLD)
        assert {"omnisdk_variants", "omnisdk_stock_levels", "omnisdk_listings"} <= set(changed)
        return keys
    finally:
        store.close()


def test_the_report_names_each_old_spelling_and_where_it_is(
    invoke: Invoke, old_spelling: list[str]
) -> None:
    shown = invoke("catalog", "skus")
    assert shown.exit_code == 0, shown.output
    assert "NON-LA\\u200b-HUE -> NON-LA-HUE" in shown.stdout
    assert "variants 1" in shown.stdout and "--fix" in shown.stdout
    as_json = json.loads(invoke("catalog", "skus", "--json").stdout)
    assert [(row["stored"], row["canonical"], row["merge"]) for row in as_json] == [
        (OLD, SKU, False)
    ]


def test_fix_renames_every_row_and_keeps_the_ledger_keys_of_the_canonical_sku(
    invoke: Invoke, old_spelling: list[str], config_path: Path
) -> None:
    fixed = invoke("catalog", "skus", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "renamed" in fixed.stdout
    store = _store(config_path)
    try:
        assert find_sku_spellings(store) == []
        # An order read again maps to the canonical SKU: its movements find their keys.
        assert _keys(store, SKU) == old_spelling
        assert sum(level.on_hand for level in store.stock_levels(SKU)) == 12
        assert {state.account for state in store.list_listings(sku=SKU)} == {
            "hanoi-shop",
            "saigon-shop",
        }
    finally:
        store.close()
    assert "Every stored SKU is in its canonical form." in invoke("catalog", "skus").stdout
    shown = invoke("stock", "show", SKU)
    assert shown.exit_code == 0 and "12" in shown.stdout, shown.output


def test_a_spelling_whose_canonical_sku_is_stored_too_is_a_merge_left_to_the_merchant(
    invoke: Invoke, imported: list[Shop], config_path: Path
) -> None:
    store = _store(config_path)
    try:
        with store.engine.begin() as connection:  # a second count, under the old spelling
            connection.execute(
                insert(stock_levels).values(
                    sku=OLD, location="main", on_hand=3, reserved=0, updated_at=store.now()
                )
            )
        with pytest.raises(SkuMergeRefused, match="would merge two master SKUs"):
            rename_sku(store, OLD)
    finally:
        store.close()
    fixed = invoke("catalog", "skus", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "stored already (a merge)" in fixed.stdout
    store = _store(config_path)
    try:
        [left] = find_sku_spellings(store)
        assert (left.stored, left.merge) == (OLD, True)
        assert sum(level.on_hand for level in store.stock_levels(SKU)) == 12, "left alone"
    finally:
        store.close()


def test_every_sku_column_is_renamed() -> None:
    """A table added with a ``sku`` column must be added to the rename too."""
    from omnisdk.store.schema import metadata

    with_sku = {table.name for table in metadata.sorted_tables if "sku" in table.c}
    assert with_sku == {table.name for table in _TABLES}
