"""The reads behind the status page: newest orders, listings held back, catalog titles."""

from __future__ import annotations

from _store_testkit import SKU_RED_L, SKU_RED_M, make_order, make_product

from omnisdk.store import Store

SKU_HAT = "NÓN-LÁ-HUẾ"


def _push(store: Store, account: str, sku: str, quantity: int, **flags: bool) -> None:
    store.ensure_listing(account, sku)
    store.record_push(
        account, sku, quantity=quantity, pending_unseen=0, seen_accounted=0, listed=None, **flags
    )


def test_recent_orders_are_the_newest_stored_with_lines_and_catalog_titles(
    accounts: Store,
) -> None:
    accounts.upsert_product(make_product(SKU_RED_M, SKU_RED_L, title="Áo thun cổ tròn"))
    for n in range(1, 5):
        sku = SKU_HAT if n == 4 else SKU_RED_M
        account = "lazada-main" if n % 2 else "shopee-hanoi"
        channel = account.split("-")[0]
        accounts.upsert_order(
            make_order(f"2407VN000{n}", account=account, channel=channel, quantity=n, sku=sku)
        )

    recent = accounts.recent_orders(limit=3)

    assert [order.external_id for order in recent] == ["2407VN0004", "2407VN0003", "2407VN0002"]
    newest = recent[0]
    assert (newest.account, newest.number) == ("shopee-hanoi", "#2407VN0004")
    assert newest.status == "confirmed"
    assert (newest.currency, newest.total_minor) == ("VND", 4 * 129000 + 30000)
    [line] = newest.lines
    assert (line.sku, line.quantity, line.title) == (SKU_HAT, 4, None)  # not in the catalog
    [titled] = recent[1].lines
    assert (titled.sku, titled.quantity, titled.title) == (SKU_RED_M, 3, "Áo thun cổ tròn")
    assert accounts.recent_orders(limit=0) == []


def test_stock_pressure_counts_every_listing_and_lists_the_newest_held_back(
    accounts: Store,
) -> None:
    accounts.upsert_product(make_product(SKU_RED_M, title="Áo thun <b>cổ tròn</b>"))
    _push(accounts, "shopee-hanoi", SKU_RED_M, 0)  # held at 0
    _push(accounts, "lazada-main", SKU_RED_M, 4, rebalanced=True)
    _push(accounts, "lazada-main", SKU_RED_M, 3, rebalanced=True)
    _push(accounts, "shopee-hanoi", SKU_HAT, 2, starved=True)
    _push(accounts, "lazada-main", SKU_RED_L, 7)  # an ordinary listing: not held back

    pressure = accounts.stock_pressure(limit=10)

    assert (pressure.held_at_zero, pressure.rebalances, pressure.starved) == (1, 2, 1)
    held = {(row.account, row.sku): row for row in pressure.listings}
    assert set(held) == {
        ("shopee-hanoi", SKU_RED_M),
        ("lazada-main", SKU_RED_M),
        ("shopee-hanoi", SKU_HAT),
    }
    assert held[("lazada-main", SKU_RED_M)].rebalances == 2
    assert held[("lazada-main", SKU_RED_M)].last_pushed == 3
    assert held[("shopee-hanoi", SKU_RED_M)].title == "Áo thun <b>cổ tròn</b>"
    assert held[("shopee-hanoi", SKU_HAT)].title is None
    assert len(accounts.stock_pressure(limit=1).listings) == 1
    assert accounts.stock_pressure(limit=0).listings == ()


def test_an_empty_store_has_no_pressure_and_no_orders(store: Store) -> None:
    pressure = store.stock_pressure()
    assert (pressure.held_at_zero, pressure.rebalances, pressure.starved) == (0, 0, 0)
    assert pressure.listings == ()
    assert store.recent_orders() == []


def test_sku_titles_name_only_catalog_skus(store: Store) -> None:
    store.upsert_product(make_product(SKU_RED_M, SKU_RED_L, title="Áo thun cổ tròn"))
    assert store.sku_titles([SKU_RED_M, SKU_HAT, SKU_RED_M]) == {SKU_RED_M: "Áo thun cổ tròn"}
    assert store.sku_titles([]) == {}
