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


async def test_weights_split_the_pool_and_status_counts_the_moves(
    make_harness: MakeHarness,
) -> None:
    from omnisdk.allocation import AllocationRule

    harness = await quota_harness(
        make_harness,
        Account("shop-a", allocation=AllocationRule(weight=3)),
        Account("shop-b"),
        stock=8,
    )
    assert await listed(harness) == {"shop-a": 6, "shop-b": 2}

    await harness.controls["shop-b"].place_order([(SKU_RED_M, 2)])  # shop-b sold out
    await harness.engine.poll_orders("shop-b")
    await harness.engine.push()
    figures = await listed(harness)
    assert sum(figures.values()) == 6  # every free unit listed once
    assert figures["shop-b"] > 0  # it sells: units moved to it from shop-a
    report = await harness.engine.status()
    moved = {a.account: (a.rebalances, a.starved) for a in report.accounts}
    assert moved["shop-a"][0] >= 1
    view = await harness.engine.stock_view(SKU_RED_M)
    assert view.allocation == "quota"
    assert view.listing("shop-b").sold == 2
    assert {v.account: v.holds for v in view.listings} == figures


async def test_an_app_hook_caps_the_quota_and_the_rest_goes_to_the_others(
    make_harness: MakeHarness,
) -> None:
    from omnisdk import hookimpl
    from omnisdk.allocation import AllocationRequest

    class AtMostOne:
        @hookimpl
        def omnisdk_allocate_stock(self, request: AllocationRequest) -> int | None:
            assert set(request.holdings) <= {"shop-a", "shop-b"}
            return 1 if request.account == "shop-a" else None

    harness = await make_harness(Account("shop-a"), Account("shop-b"), allocation="quota")
    harness.engine.plugins.register(AtMostOne(), name="at-most-one")
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 6)
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 1, "shop-b": 5}


async def test_a_listing_never_pushed_holds_everything_until_it_is(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"), allocation="quota")
    await seed(harness, SKU_RED_M, stock=4)  # both shops list 4 already
    await harness.engine.set_stock(SKU_RED_M, 4)
    await harness.engine.push("shop-a")
    # shop-b was never set by the engine: it may sell all 4, so shop-a gets none yet.
    assert await listed(harness) == {"shop-a": 0, "shop-b": 4}
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 2, "shop-b": 2}
