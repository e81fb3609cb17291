"""The reads behind status, reconciliation and the webhook receiver: set-based, per account."""

from __future__ import annotations

from datetime import UTC, datetime

from _store_testkit import SKU_RED_M, make_order

from omnisdk.store import Store

SKU_BLUE = "ÁO-THUN-XANH-L"


def test_activity_sums_every_account_and_keeps_the_newest_problems(accounts: Store) -> None:
    accounts.set_cursor("shopee-hanoi", "orders", "2024-07-01T10:00:00+00:00")
    with accounts.session() as session:
        for sku in (SKU_RED_M, SKU_BLUE, "QUAN-JEAN-30"):
            accounts.mark_dirty(session, "shopee-hanoi", sku)
        accounts.mark_dirty(session, "lazada-main", SKU_RED_M)
    retry_at = datetime(2024, 7, 1, 11, 0, tzinfo=UTC)
    accounts.fail("shopee-hanoi", SKU_RED_M, "HTTP 503", retry_at)
    accounts.fail("shopee-hanoi", SKU_BLUE, "HTTP 502", retry_at)
    accounts.ensure_listing("lazada-main", SKU_BLUE)
    accounts.record_push_failure("lazada-main", SKU_BLUE, "SKU is locked", code="LOCKED")
    for n in range(3):
        accounts.quarantine("shopee-hanoi", "order", f"bad-{n}", f"unreadable {n}", {"n": n})

    activity = accounts.activity(recent=2)

    assert [account.name for account in activity.accounts] == ["lazada-main", "shopee-hanoi"]
    lazada, shopee = activity.accounts
    assert (shopee.channel, shopee.status) == ("shopee", "active")
    assert [(mark.stream, mark.value) for mark in shopee.cursors] == [
        ("orders", "2024-07-01T10:00:00+00:00")
    ]
    assert (shopee.outbox_depth, shopee.outbox_retrying) == (3, 2)
    assert {push.sku for push in shopee.retrying} == {SKU_RED_M, SKU_BLUE}
    assert shopee.quarantine_open == 3
    assert [note.external_id for note in shopee.quarantined] == ["bad-2", "bad-1"]
    assert (lazada.outbox_depth, lazada.outbox_retrying, lazada.retrying) == (1, 0, ())
    assert (lazada.listings, lazada.failed_pushes) == (1, 1)
    [failed] = lazada.failed
    assert (failed.sku, failed.last_error, failed.error_code) == (
        SKU_BLUE,
        "SKU is locked",
        "LOCKED",
    )
    assert (lazada.cursors, lazada.quarantine_open) == ((), 0)
    assert (activity.products, activity.variants) == (0, 0)


def test_oversold_levels_name_the_references_holding_units_earliest_first(store: Store) -> None:
    with store.session() as session:
        store.apply_stock_movement(
            session, key="count", sku=SKU_RED_M, location="hcm-q1", kind="count", on_hand_delta=2
        )
        for n in (1, 2, 3):
            store.apply_stock_movement(
                session,
                key=f"order-{n}",
                sku=SKU_RED_M,
                location="hcm-q1",
                kind="reserve",
                reserved_delta=1,
                reference=f"order:shopee-hanoi:{n}",
            )
        store.apply_stock_movement(
            session,
            key="release-2",
            sku=SKU_RED_M,
            location="hcm-q1",
            kind="release",
            reserved_delta=-1,
            reference="order:shopee-hanoi:2",
        )
        store.apply_stock_movement(
            session,
            key="order-4",
            sku=SKU_RED_M,
            location="hcm-q1",
            kind="reserve",
            reserved_delta=1,
            reference="order:shopee-hanoi:4",
        )
        store.apply_stock_movement(
            session, key="blue", sku=SKU_BLUE, location="hcm-q1", kind="count", on_hand_delta=5
        )

    [level] = store.oversold_levels(max_holders=2)

    assert (level.sku, level.location, level.on_hand, level.reserved) == (
        SKU_RED_M,
        "hcm-q1",
        2,
        3,
    )
    assert level.holders == (("order:shopee-hanoi:1", 1), ("order:shopee-hanoi:3", 1))
    assert len(store.oversold_levels()[0].holders) == 3


def test_get_orders_reads_many_orders_at_once(accounts: Store) -> None:
    accounts.upsert_order(make_order("A-1"))
    accounts.upsert_order(make_order("A-2"))
    accounts.upsert_order(make_order("L-1", account="lazada-main", channel="lazada"))

    found = accounts.get_orders(
        [("shopee-hanoi", "A-1"), ("lazada-main", "L-1"), ("lazada-main", "A-2"), ("x", "y")]
    )

    assert set(found) == {("shopee-hanoi", "A-1"), ("lazada-main", "L-1")}
    assert found[("lazada-main", "L-1")].order.number == "#L-1"
    assert accounts.get_orders([]) == {}


def test_processed_deliveries_reads_what_the_store_remembers(accounts: Store) -> None:
    accounts.remember_delivery("shopee-hanoi", "d-1")
    accounts.remember_delivery("lazada-main", "d-2")

    assert accounts.processed_deliveries("shopee-hanoi", ["d-1", "d-2", "d-3"]) == {"d-1"}
    assert accounts.processed_deliveries("shopee-hanoi", []) == set()
