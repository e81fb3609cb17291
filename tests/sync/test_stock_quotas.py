"""Quota allocation through the engine: shares, rebalancing, decrease before increase."""

from __future__ import annotations

from _engine_testkit import SKU_RED_M, Account, Harness, MakeHarness, seed


async def listed(harness: Harness) -> dict[str, int]:
    """What every sandbox lists of the SKU."""
    return {name: await harness.listed(name, SKU_RED_M) for name in harness.sandboxes}


async def quota_harness(make_harness: MakeHarness, *accounts: Account, stock: int) -> Harness:
    harness = await make_harness(*accounts, allocation="quota")
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, stock)
    await harness.engine.push()
    return harness


async def test_the_accounts_share_the_pool_and_settle(make_harness: MakeHarness) -> None:
    harness = await quota_harness(make_harness, Account("shop-a"), Account("shop-b"), stock=5)
    assert await listed(harness) == {"shop-a": 3, "shop-b": 2}
    assert harness.store.outbox_depth() == 0

    await harness.controls["shop-a"].place_order([(SKU_RED_M, 2)])
    await harness.engine.poll_orders("shop-a")
    stats = await harness.engine.push()
    # 3 units left, and they go where they sell: shop-b gives its 2 up first.
    assert await listed(harness) == {"shop-a": 3, "shop-b": 0}
    assert stats.account("shop-b").rebalanced == 1
    assert harness.store.outbox_depth() == 0, harness.store.pending_pushes()
