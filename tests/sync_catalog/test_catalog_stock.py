"""Stock in plan() and apply(): what each account may sell, sent through the pusher."""

from __future__ import annotations

from decimal import Decimal

import pytest
from _sync_testkit import (
    BACKENDS,
    MARKUP,
    SKU_HAT,
    SKU_RED_L,
    SKU_RED_M,
    Account,
    StockWrite,
    watch_stock_writes,
)

from omnisdk.allocation import AllocationRule
from omnisdk.sync.catalog import ChangeKind

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

POS = "pos-quận-1"
SHOPEE = "shopee-hà-nội"
LAZADA = "lazada-main"
CATALOG = [
    {
        "sku": SKU_RED_M,
        "title": "Áo thun cổ tròn",
        "product": "Áo thun cổ tròn",
        "options": {"Size": "M"},
        "price": "129000",
        "stock": 5,
    },
    {
        "sku": SKU_RED_L,
        "title": "Áo thun cổ tròn",
        "product": "Áo thun cổ tròn",
        "options": {"Size": "L"},
        "price": "129000",
        "stock": 3,
    },
    {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000", "stock": 12},
]
MARKED_UP = {SKU_RED_M: "142000", SKU_RED_L: "142000", SKU_HAT: "94000"}
SHOPEE_PRICES = [{**item, "price": MARKED_UP[item["sku"]]} for item in CATALOG]


async def two_shops(make_world, **shopee):
    world = await make_world(Account(POS), Account(SHOPEE, pricing=MARKUP, **shopee))
    await world.shops[POS].control.seed(CATALOG)
    await world.shops[SHOPEE].control.seed(SHOPEE_PRICES)
    await world.engine.import_catalog(POS)
    await world.engine.import_catalog(SHOPEE)
    return world


def stock_changes(plan, account):
    return {c.sku: c for c in plan.account(account).changes if c.kind is ChangeKind.STOCK}


async def test_stock_is_planned_from_the_ledger_and_applied_once(make_world):
    world = await two_shops(make_world)
    assert (await world.engine.plan()).is_empty  # prices match; no stock recorded yet

    await world.engine.set_stock(SKU_RED_M, 8)
    plan = await world.engine.plan()

    for account in (POS, SHOPEE):
        [change] = stock_changes(plan, account).values()
        assert change.sku == SKU_RED_M
        assert (change.field_change("stock").before, change.stock.quantity) == (5, 8)
        assert change.stock.expected == 5  # compare-and-swap: never overwrite a sale
        assert {s.sku for s in plan.account(account).skipped} == {SKU_RED_L, SKU_HAT}

    stats = await world.engine.apply(plan)

    assert (stats.sent, stats.succeeded, stats.failed) == (2, 2, 0)
    for account in (POS, SHOPEE):
        assert (await world.shops[account].control.listed_stock())[SKU_RED_M] == 8
        assert world.engine.store.get_listing(account, SKU_RED_M).last_pushed == 8
    again = await world.engine.apply(plan)
    assert (again.sent, again.unchanged) == (0, 2)
    assert (await world.engine.plan()).is_empty


async def test_the_account_allocation_rule_shapes_the_target(make_world):
    world = await two_shops(
        make_world, allocation=AllocationRule(percentage=Decimal(50), safety_buffer=1)
    )
    await world.engine.set_stock(SKU_HAT, 12)

    plan = await world.engine.plan()

    assert stock_changes(plan, POS) == {}  # it lists all 12 already
    assert stock_changes(plan, SHOPEE)[SKU_HAT].stock.quantity == 5  # (12 - 1) * 50%
    await world.engine.apply(plan)
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_HAT] == 5


async def test_a_sale_after_the_plan_is_never_overwritten(make_world):
    world = await two_shops(make_world)
    await world.engine.set_stock(SKU_RED_M, 8)
    plan = await world.engine.plan()
    # A buyer takes 2 on Shopee between plan and apply (the engine has not ingested it).
    await world.shops[SHOPEE].control.place_order([(SKU_RED_M, 2)])

    stats = await world.engine.apply(plan)

    shopee = stats.account(SHOPEE)
    assert (shopee.sent, shopee.stale) == (0, 1)
    assert "moved from 5 to 3" in shopee.notes[0].reason
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_RED_M] == 3
    assert stats.account(POS).succeeded == 1

    # After ingesting the sale a new plan asks for what is really left: 8 - 2.
    await world.engine.poll_orders(SHOPEE)
    fresh = await world.engine.plan([SHOPEE])
    assert stock_changes(fresh, SHOPEE)[SKU_RED_M].stock.quantity == 6


async def test_a_new_listing_gets_its_stock_after_it_is_created(make_world):
    world = await make_world(Account(POS), Account(LAZADA, pricing=MARKUP, listings=True))
    await world.shops[POS].control.seed(CATALOG[2:])
    await world.engine.import_catalog(POS)
    await world.engine.set_stock(SKU_HAT, 12)

    plan = await world.engine.plan([LAZADA])
    kinds = [(c.kind, c.sku) for c in plan.account(LAZADA).changes]
    assert kinds == [(ChangeKind.CREATE, SKU_HAT), (ChangeKind.STOCK, SKU_HAT)]
    assert plan.account(LAZADA).changes[1].field_change("stock").before is None

    stats = await world.engine.apply(plan)

    assert stats.account(LAZADA).sent_by_kind == {ChangeKind.CREATE: 1, ChangeKind.STOCK: 1}
    listed = await world.shops[LAZADA].control.listed_stock()
    assert listed == {SKU_HAT: 12}
    assert (await world.engine.apply(plan)).sent == 0


async def test_a_refused_stock_write_is_reported(make_world):
    world = await two_shops(make_world)
    await world.engine.set_stock(SKU_RED_M, 8)
    await world.engine.set_stock(SKU_HAT, 9)
    sandbox = world.sandbox(SHOPEE)
    set_stock = sandbox.set_stock

    def refuse_the_hat(item):
        if item.get("sku") == SKU_HAT:
            return {
                "sku": SKU_HAT,
                "ok": False,
                "error": "listing_locked",
                "message": "sản phẩm đang bị khoá",
            }
        return set_stock(item)

    sandbox.set_stock = refuse_the_hat
    stats = await world.engine.apply(await world.engine.plan([SHOPEE]))

    shopee = stats.account(SHOPEE)
    assert (shopee.sent, shopee.succeeded, shopee.failed) == (2, 1, 1)
    [failure] = shopee.failures
    assert (failure.sku, failure.kind) == (SKU_HAT, ChangeKind.STOCK)
    assert "khoá" in failure.error
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_RED_M] == 8


async def test_a_listing_raised_on_the_channel_is_set_back(make_world):
    world = await two_shops(make_world)
    await world.engine.set_stock(SKU_HAT, 12)
    await world.engine.push()
    sandbox = world.sandbox(SHOPEE)
    with sandbox.lock:
        sandbox.variants[SKU_HAT].stock = 30  # typed into the seller centre by hand

    plan = await world.engine.plan([SHOPEE])
    change = stock_changes(plan, SHOPEE)[SKU_HAT]
    assert (change.field_change("stock").before, change.stock.quantity) == (30, 12)
    writes = watch_stock_writes(world, SHOPEE)
    stats = await world.engine.apply(plan)

    assert stats.account(SHOPEE).succeeded == 1
    # The pusher wrote it: a swap from the figure read, its intent recorded first.
    assert writes == [StockWrite(SKU_HAT, 12, 30, intent=12)]
    assert (await world.shops[SHOPEE].control.listed_stock())[SKU_HAT] == 12
    assert world.engine.store.get_listing(SHOPEE, SKU_HAT).last_pushed == 12
    assert (await world.engine.plan([SHOPEE])).is_empty
