"""What a push decision locks, and what a read-back marks: the two that kept a fleet serial.

- Under quota allocation a decision locks only the SKUs whose figure changes: a batch whose
  other SKUs are in step pushes while another transaction decides one of those (a fleet's
  pushers of every account no longer wait on one another for SKUs none of them writes).
- A stock read-back (reconciliation) does not mark again a row already in the outbox: a push
  working on it completes it at the generation it claimed, instead of keeping it for another
  round because the read bumped the generation.
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


async def test_a_read_back_leaves_a_queued_row_unmarked(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 10)
    await harness.engine.push()
    # A sale the engine has not ingested: the read-back disagrees with the prediction.
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
    await harness.engine.mark_dirty([SKU_RED_M], ["shop-a"])
    store = harness.store
    claims = store.claim_dirty("shop-a", 10, "another-pusher", 60)  # a push working on it
    assert [claim.sku for claim in claims] == [SKU_RED_M]
    await harness.engine.reconcile(["shop-a"])
    (row,) = store.pending_pushes(account="shop-a")
    assert row.generation == claims[0].generation  # not bumped by the read
    # So the push working on it clears it when it ends.
    store.complete("shop-a", SKU_RED_M, claims[0].generation, owner="another-pusher")
    assert store.outbox_depth("shop-a") == 0
