"""What a push decision locks: under quota allocation only the SKUs whose figure changes, so
a batch whose other SKUs are in step pushes while another transaction decides one of those (a
fleet's pushers of every account no longer wait on one another for SKUs none of them writes).
"""

from __future__ import annotations

import asyncio

import pytest
from _engine_testkit import SKU_HAT, SKU_RED_L, SKU_RED_M, Account, MakeHarness, seed

from omnisdk.store import Store

SKUS = (SKU_RED_M, SKU_RED_L, SKU_HAT)


async def test_a_push_decision_locks_only_the_skus_whose_figure_changes(
    make_harness: MakeHarness, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite's writers are serial: there are no listing locks to narrow")
    harness = await make_harness(Account("shop-a"), Account("shop-b"), allocation="quota")
    await seed(harness, *SKUS)
    for sku in SKUS:
        await harness.engine.set_stock(sku, 10)
    await harness.engine.push()
    assert harness.store.outbox_depth() == 0
    # One SKU's figure changes; the other two are queued again with nothing to change.
    await harness.engine.set_stock(SKU_RED_M, 4)
    await harness.engine.mark_dirty([SKU_RED_L, SKU_HAT], ["shop-a"])
    other = Store(harness.engine.config.store.url)
    try:
        with other.engine.begin() as connection:
            # Another pusher is deciding SKU_HAT right now (and holds its lock meanwhile).
            other.lock_listings(connection, [SKU_HAT])
            stats = await asyncio.wait_for(harness.engine.push("shop-a"), timeout=20)
    finally:
        other.close()
    part = stats.account("shop-a")
    assert (part.pushed, part.unchanged) == (1, 2)
    assert await harness.listed("shop-a", SKU_RED_M) <= 4  # lowered, within the new stock
    assert harness.store.outbox_depth("shop-a") == 0
