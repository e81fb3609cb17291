"""reconcile(): listed stock against what it should be, drift repaired, oversells reported."""

from __future__ import annotations

import json

import pytest
from _sync_testkit import (
    BACKENDS,
    SKU_DRESS,
    SKU_HAT,
    SKU_RED_M,
    Account,
    StockWrite,
    vnd,
    watch_stock_writes,
)

from omnisdk.cli.engine_render import result_text
from omnisdk.models import Product, Variant
from omnisdk.pricing import PricingRule
from omnisdk.sync.reconcile import DriftKind, ReconcileReport
from omnisdk.testing import BuyerOrder

POS = "pos-quận-1"
SHOPEE = "shopee-hà-nội"
CATALOG = [
    {"sku": SKU_RED_M, "title": "Áo thun cổ tròn", "price": "129000", "stock": 8},
    {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000", "stock": 12},
]


async def synced(make_world, *accounts):
    """Accounts listing the catalog, imported, stock recorded and pushed: all in step."""
    world = await make_world(*(accounts or (Account(POS), Account(SHOPEE))))
    for name in world.shops:
        await world.shops[name].control.seed(CATALOG)
        await world.engine.import_catalog(name)
    await world.engine.set_stock(SKU_RED_M, 8)
    await world.engine.set_stock(SKU_HAT, 12)
    await world.engine.push()
    return world


def outbox(world, account):
    return {item.sku for item in world.engine.store.pending_pushes(account=account)}


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_listings_in_step_report_no_drift(make_world):
    world = await synced(make_world)

    report = await world.engine.reconcile()

    assert report.in_sync
    for account in (POS, SHOPEE):
        result = report.account(account)
        assert (result.checked, result.in_sync, result.untracked) == (2, 2, 0)
        assert result.drift == [] and result.missing == [] and result.unknown == []
        assert world.engine.store.get_listing(account, SKU_HAT).last_listed == 12


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_a_channel_showing_too_much_is_set_back_from_the_figure_read(make_world):
    world = await synced(make_world)
    # Someone typed 20 into Shopee's seller centre: 12 units could be sold that do not exist.
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        sandbox.variants[SKU_RED_M].stock = 20

    report = await world.engine.reconcile()

    [drift] = report.drift
    assert (drift.account, drift.sku, drift.kind) == (SHOPEE, SKU_RED_M, DriftKind.OVER)
    assert (drift.listed, drift.expected, drift.repaired) == (20, 8, True)
    assert not report.in_sync and report.repaired == 1
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_RED_M] == 8
    state = world.engine.store.get_listing(SHOPEE, SKU_RED_M)
    assert (state.last_pushed, state.last_listed) == (8, 8)
    assert (await world.engine.reconcile()).in_sync
    assert outbox(world, SHOPEE) == set()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_a_listing_changed_on_the_channel_is_repaired_by_the_pusher(make_world):
    world = await synced(make_world)
    # Shopee shows 30 hats where it should show 12 (typed into the seller centre).
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        sandbox.variants[SKU_HAT].stock = 30
    writes = watch_stock_writes(world, SHOPEE)

    report = await world.engine.reconcile()

    [drift] = report.drift
    assert (drift.sku, drift.listed, drift.expected, drift.repaired) == (SKU_HAT, 30, 12, True)
    # One compare-and-swap from the figure read, its intent recorded before it was sent.
    assert writes == [StockWrite(SKU_HAT, 12, 30, intent=12)]
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_HAT] == 12
    state = world.engine.store.get_listing(SHOPEE, SKU_HAT)
    assert (state.last_pushed, state.last_listed, state.inflight_quantity) == (12, 12, None)
    assert outbox(world, SHOPEE) == set()


async def test_a_repair_whose_answer_is_lost_is_recognised_as_landed(make_world, clock):
    world = await synced(make_world, Account(SHOPEE))
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        sandbox.variants[SKU_HAT].stock = 30
    writes = watch_stock_writes(world, SHOPEE)
    set_stock = sandbox.set_stock

    def lands_then_dies(item):
        set_stock(item)  # the platform applies the write...
        raise ConnectionResetError("... and the answer never comes back")

    sandbox.set_stock = lands_then_dies
    report = await world.engine.reconcile()

    # The pusher tries again within the pass: the listing, read again, already shows the
    # intended figure, so the write landed and nothing is written twice.
    [drift] = report.drift
    assert drift.repaired, drift
    assert len(writes) == 1
    state = world.engine.store.get_listing(SHOPEE, SKU_HAT)
    assert (state.last_pushed, state.inflight_quantity) == (12, None)
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_HAT] == 12
    sandbox.set_stock = set_stock
    assert (await world.engine.reconcile()).in_sync


async def test_a_sale_long_after_the_push_is_never_listed_again(make_world, clock):
    world = await synced(make_world)
    clock.advance(hours=2)
    # A buyer takes 2 hats on Shopee; the engine has not ingested the order yet.
    await world.shops[SHOPEE].control.place_order([(SKU_HAT, 2)])

    report = await world.engine.reconcile()

    # The gap is held back as sold (not "drift" to undo): Shopee keeps showing 10.
    assert report.account(SHOPEE).drift == []
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_HAT] == 10
    state = world.engine.store.get_listing(SHOPEE, SKU_HAT)
    assert (state.last_pushed, state.pending_unseen) == (10, 2)
    await world.engine.poll_orders(SHOPEE)
    await world.engine.push()
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_HAT] == 10
    assert (await world.shops[POS].control.listed_stock())[SKU_HAT] == 10
    assert (await world.engine.reconcile()).in_sync


async def test_a_sale_during_the_repair_is_ingested_never_overwritten(make_world):
    world = await synced(make_world)
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        sandbox.variants[SKU_RED_M].stock = 20
    control = world.shops[SHOPEE].control
    set_stock = sandbox.set_stock
    sold = []

    def sale_first(item):
        if not sold:  # a buyer takes 2 between the read and the write
            sold.append(item["sku"])
            sandbox.place_order(BuyerOrder(lines=[{"sku": item["sku"], "quantity": 2}]))
        return set_stock(item)

    sandbox.set_stock = sale_first
    report = await world.engine.reconcile([SHOPEE])

    [drift] = report.drift
    assert drift.repaired and drift.listed == 18  # the figure after the sale
    # The sale was ingested (2 reserved), then the listing set from 18 to what is left.
    assert world.engine.store.stock_level(SKU_RED_M, "main").reserved == 2
    assert (await control.listed_stock())[SKU_RED_M] == 6
    assert world.engine.store.get_listing(SHOPEE, SKU_RED_M).last_pushed == 6


async def test_a_fresh_gap_is_unseen_sales_an_old_one_is_drift(make_world, clock):
    world = await synced(make_world)
    # Shopee shows 5 hats less than pushed: sales on their way, held back from now on.
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        sandbox.variants[SKU_HAT].stock = 7

    soon = await world.engine.reconcile([SHOPEE])
    assert soon.account(SHOPEE).drift == []
    assert world.engine.store.get_listing(SHOPEE, SKU_HAT).pending_unseen == 5

    # Long after that no order came: the channel simply lists too little.
    clock.advance(hours=2)
    later = await world.engine.reconcile([SHOPEE])
    [drift] = later.drift
    assert (drift.kind, drift.listed, drift.expected, drift.unseen) == (DriftKind.UNDER, 7, 12, 0)
    await world.engine.push(SHOPEE)
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_HAT] == 12


async def test_unknown_unbound_missing_and_untracked_listings_are_named(make_world):
    world = await synced(make_world, Account(SHOPEE))
    control = world.shops[SHOPEE].control
    await control.seed(
        [
            {"sku": "ÁO-KHOÁC-GIÓ", "title": "Áo khoác gió", "price": "350000", "stock": 4},
        ]
    )
    # A dress in the master catalog, listed on Shopee after the import (so not bound).
    world.engine.store.upsert_product(
        Product(title="Áo dài lụa xanh", variants=[Variant(sku=SKU_DRESS, price=vnd(1_250_000))])
    )
    await control.seed([{"sku": SKU_DRESS, "title": "Áo dài lụa xanh", "price": "1375000"}])
    # The hat's listing is removed on the channel.
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        hat = sandbox.variants.pop(SKU_HAT)
        sandbox.products[hat.product_id].variants.remove(hat)

    result = (await world.engine.reconcile()).account(SHOPEE)

    assert result.unknown == ["ÁO-KHOÁC-GIÓ"]
    assert result.unbound == [SKU_DRESS]
    assert result.missing == [SKU_HAT]
    assert (result.checked, result.in_sync) == (1, 1)
    assert world.engine.store.get_listing(SHOPEE, "ÁO-KHOÁC-GIÓ") is None


async def test_untracked_skus_are_counted_never_zeroed(make_world):
    world = await make_world(Account(SHOPEE))
    await world.shops[SHOPEE].control.seed(CATALOG)
    await world.engine.import_catalog(SHOPEE)

    report = await world.engine.reconcile()

    assert report.account(SHOPEE).untracked == 2
    assert report.drift == [] and outbox(world, SHOPEE) == set()


async def test_an_account_owning_its_stock_is_reported_not_repaired(make_world):
    world = await synced(
        make_world, Account(POS), Account(SHOPEE, pricing=PricingRule(owns=frozenset({"price"})))
    )
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        sandbox.variants[SKU_HAT].stock = 99

    report = await world.engine.reconcile()

    [drift] = report.drift
    assert drift.account == SHOPEE and not drift.repaired
    assert "belongs to the channel" in drift.note
    assert outbox(world, SHOPEE) == set()


async def test_an_unreadable_account_is_reported_and_the_others_reconciled(make_world):
    world = await synced(make_world)
    await world.shops[POS].control.set_faults(error_rate=1.0, error_statuses=[500])

    report = await world.engine.reconcile()

    assert report.account(POS).error
    assert report.account(SHOPEE).checked == 2
    assert "Reconciliation" in result_text(report, width=160)


async def test_stopped_accounts_are_skipped(make_world):
    world = await synced(make_world)
    world.engine.store.set_account_status(SHOPEE, "needs_reauth")

    report = await world.engine.reconcile()

    assert "needs_reauth" in report.account(SHOPEE).error
    assert report.account(POS).checked == 2


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_oversells_name_the_orders_accepted_beyond_stock(make_world):
    world = await synced(make_world)
    # One hat left in the shop, but both channels still show one each: both sell it.
    await world.engine.set_stock(SKU_HAT, 1)
    for account in (POS, SHOPEE):
        sandbox = world.sandbox(account)
        with sandbox.lock:
            sandbox.variants[SKU_HAT].stock = 1
    first = await world.shops[POS].control.place_order(
        [(SKU_HAT, 1)], {"name": "Nguyễn Văn An", "phone": "+84912345678"}
    )
    world.sandbox(SHOPEE).clock.advance(60)
    second = await world.shops[SHOPEE].control.place_order(
        [(SKU_HAT, 1)], {"name": "Trần Thị Bình", "phone": "+84987654321"}
    )
    await world.engine.poll_orders(POS)
    await world.engine.poll_orders(SHOPEE)

    report = await world.engine.reconcile()

    [oversell] = report.oversells
    assert (oversell.sku, oversell.location) == (SKU_HAT, "main")
    assert (oversell.on_hand, oversell.reserved, oversell.shortfall) == (1, 2, 1)
    assert [(o.account, o.external_id, o.beyond_stock) for o in oversell.orders] == [
        (POS, first, False),
        (SHOPEE, second, True),
    ]
    assert oversell.orders[1].status == "pending" and oversell.orders[1].number
    text = result_text(report, width=200)
    assert "Oversold" in text and SKU_HAT in text
    document = json.loads(report.model_dump_json())
    assert document["oversells"][0]["orders"][1]["beyond_stock"] is True
    assert ReconcileReport.model_validate(document) == report


def test_order_references_are_read_back_unless_shortened():
    from omnisdk.sync.reconcile import _parse_reference
    from omnisdk.sync.stock import bounded_key

    assert _parse_reference("order:shopee-hà-nội:2407VN:0001") == ("shopee-hà-nội", "2407VN:0001")
    assert _parse_reference("count") == (None, None)
    assert _parse_reference(bounded_key("order:shopee:" + "9" * 300)) == (None, None)
