"""The uncounted-SKU rule: a listing is never zeroed for want of a count.

A SKU listed at 5 on Shopee, Shopify and an Example shop, never counted in the engine: a
Shopee buyer's order of it is booked (and reserves), but no channel's listing is written, by
the pusher, ``plan``/``apply`` or reconciliation. Once counted, every listing gets its figure,
the order's reservation subtracted.
"""

from __future__ import annotations

import pytest
from _engine_testkit import Account, Harness, MakeHarness, seed

from omnisdk.testing.flash_sale import online_shops

SKU = "NÓN-LÁ-BÀI-THƠ"


async def everywhere_at_5(
    make_harness: MakeHarness, allocation: str = "quota"
) -> tuple[Harness, str]:
    """Shopee, Shopify and Example accounts listing SKU at 5 each; the Shopee account's name."""
    shops = {name: (cls, sandbox) for name, cls, sandbox in online_shops(seed=40)}
    if "shopee-1" not in shops or "shopify-1" not in shops:
        pytest.skip("needs the Shopee and Shopify plugins")
    accounts = [
        Account(name, channel_class=cls, sandbox=sandbox)
        for name, (cls, sandbox) in shops.items()
        if name in ("shopee-1", "shopify-1")
    ]
    for name, (_, sandbox) in shops.items():
        if name not in ("shopee-1", "shopify-1"):
            sandbox.close()
    harness = await make_harness(*accounts, Account("cua-hang-hue"), allocation=allocation)
    await seed(harness, SKU, stock=5)
    for account in harness.sandboxes:  # the master catalog holds the SKU, bound everywhere
        await harness.engine.import_catalog(account)
    return harness, "shopee-1"


async def listed(harness: Harness) -> dict[str, int]:
    return {account: await harness.listed(account, SKU) for account in harness.sandboxes}


@pytest.mark.parametrize("allocation", ["quota", "shared"])
async def test_an_order_of_an_uncounted_sku_zeroes_no_listing(
    make_harness: MakeHarness, allocation: str
) -> None:
    harness, shopee = await everywhere_at_5(make_harness, allocation)
    engine = harness.engine
    await engine.push()  # the listings were just registered: nothing to write yet
    await harness.controls[shopee].place_order([(SKU, 1)])
    await engine.poll_orders(shopee)

    stats = await engine.push()
    report = await engine.reconcile()
    plan = await engine.plan()

    # The order is in the book and holds its unit ...
    assert [o.order.lines[0].sku for o in engine.store.iter_orders(account=shopee)] == [SKU]
    assert [(lv.on_hand, lv.reserved) for lv in engine.store.stock_levels(SKU)] == [(0, 1)]
    # ... but no channel was told 0: Shopee shows its own sale, the others still list 5.
    assert await listed(harness) == {shopee: 4, "shopify-1": 5, "cua-hang-hue": 5}
    assert stats.pushed == 0
    assert all(not account.drift for account in report.accounts)
    assert not [c for c in plan.changes if c.kind.value == "stock" and c.sku == SKU]
    skipped = [item for account in plan.accounts for item in account.skipped]
    assert any(item.sku == SKU and "never counted" in item.reason for item in skipped)
    assert engine.store.pending_pushes(sku=SKU) == []


@pytest.mark.parametrize("allocation", ["quota", "shared"])
async def test_once_counted_every_listing_gets_its_figure(
    make_harness: MakeHarness, allocation: str
) -> None:
    harness, shopee = await everywhere_at_5(make_harness, allocation)
    engine = harness.engine
    await harness.controls[shopee].place_order([(SKU, 1)])
    await engine.poll_orders(shopee)
    await engine.push()

    await engine.set_stock(SKU, 10)  # 10 on hand, 1 reserved by the Shopee order: 9 free
    await engine.push()

    figures = await listed(harness)
    if allocation == "shared":
        assert figures == {shopee: 9, "shopify-1": 9, "cua-hang-hue": 9}
    else:  # quotas: never more than the free stock in all, every account written
        assert sum(figures.values()) <= 9 and min(figures.values()) >= 0
        view = await engine.stock_view(SKU)
        assert all(listing.last_pushed is not None for listing in view.listings)
