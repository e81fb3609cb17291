"""Compare-and-swap pushes racing the channel's own sales (the demo's "listed 34, expected 32").

A buyer orders on a channel; its listing drops at once, but the engine has not ingested the
order. A stock change elsewhere makes the engine swap the listing from its stale prediction;
the channel refuses and reports its actual figure, which already reflects that sale. However
the order reaches the engine afterwards (the pusher's own poll, a later poll, a webhook), the
sale must be subtracted exactly once: every listing ends at the engine's sellable figure, and
the listing state predicts what the channel really shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from _channels import HookedChannel
from _engine_testkit import SKU_HAT, SKU_RED_M, Account, Clock, Harness, MakeHarness, seed

from omnisdk.models import ChannelEvent, EventKind
from omnisdk.sync.pusher import PushStats
from omnisdk.sync.sellable import predicted_listed

SHOPS = ("shop-a", "shop-b")


@pytest.fixture(autouse=True)
def _no_leftover_hooks() -> Any:
    HookedChannel.before_write.clear()
    yield
    HookedChannel.before_write.clear()


async def hooked_harness(make_harness: MakeHarness, stock: int, *skus: str) -> Harness:
    """Two compare-and-swap accounts listing ``skus`` at ``stock`` each, pushed and in step."""
    harness = await make_harness(*(Account(name, channel_class=HookedChannel) for name in SHOPS))
    await seed(harness, *skus)
    for sku in skus:
        await harness.engine.set_stock(sku, stock)
    await harness.engine.push()
    for sku in skus:
        assert {a: await harness.listed(a, sku) for a in SHOPS} == {a: stock for a in SHOPS}
    return harness


async def assert_in_step(harness: Harness, sku: str) -> None:
    """Every listing shows the engine's sellable figure, and the engine predicts it."""
    await harness.engine.push()
    for account in SHOPS:
        shown = await harness.listed(account, sku)
        sellable = await harness.engine.sellable(account, sku)
        state = harness.store.get_listing(account, sku)
        assert (account, shown) == (account, sellable)
        assert (account, predicted_listed(state)) == (account, shown)
    assert harness.store.pending_pushes() == []


async def webhook(harness: Harness, account: str, order_id: str) -> None:
    """The channel's 'order created' webhook for ``order_id`` (a hint: the engine fetches it)."""
    event = ChannelEvent(
        kind=EventKind.ORDER_CREATED,
        channel=HookedChannel.name,
        account=account,
        topic="orders/create",
        delivery_id=f"dlv-{order_id}",
        external_id=order_id,
    )
    await harness.engine.handle_events(account, [event])


async def test_a_lost_swap_whose_actual_is_the_figure_wanted_still_counts_the_sale_once(
    make_harness: MakeHarness,
) -> None:
    # The demo's trace: sent 36 expecting 38, refused with actual 36, order of 2 ingested.
    harness = await hooked_harness(make_harness, 38, SKU_HAT)
    await harness.controls["shop-a"].place_order([(SKU_HAT, 2)])  # shop-a lists 36; unseen
    assert await harness.listed("shop-a", SKU_HAT) == 36
    await harness.engine.adjust_stock(SKU_HAT, -2)  # a breakage: 36 on hand
    stats = await harness.engine.push()
    assert stats.account("shop-a").conflicts >= 1  # the swap "from 38" was refused
    level = harness.store.stock_level(SKU_HAT, "main")
    assert (level.on_hand, level.reserved) == (36, 2)  # the order is ingested by now
    assert {a: await harness.listed(a, SKU_HAT) for a in SHOPS} == {a: 34 for a in SHOPS}
    await assert_in_step(harness, SKU_HAT)


async def test_the_order_polled_only_after_the_push_is_not_subtracted_twice(
    make_harness: MakeHarness,
) -> None:
    harness = await hooked_harness(make_harness, 5, SKU_RED_M)
    order_id = await harness.controls["shop-a"].place_order([(SKU_RED_M, 2)])
    await harness.engine.adjust_stock(SKU_RED_M, -2)
    await harness.engine.push()
    # However the push ended, the runtime's poll (or a webhook) brings the order in later.
    await webhook(harness, "shop-a", order_id)
    await harness.engine.poll_orders("shop-a")
    await assert_in_step(harness, SKU_RED_M)
    assert await harness.listed("shop-a", SKU_RED_M) == 1


@pytest.mark.parametrize("via", ["poll", "webhook"])
async def test_an_order_ingested_before_the_push_is_subtracted_once(
    make_harness: MakeHarness, via: str
) -> None:
    harness = await hooked_harness(make_harness, 5, SKU_RED_M)
    order_id = await harness.controls["shop-a"].place_order([(SKU_RED_M, 2)])
    if via == "poll":
        await harness.engine.poll_orders("shop-a")
    else:
        await webhook(harness, "shop-a", order_id)
    await harness.engine.adjust_stock(SKU_RED_M, -2)
    stats = await harness.engine.push()
    assert stats.conflicts == 0  # the prediction knew the sale
    await assert_in_step(harness, SKU_RED_M)
    assert await harness.listed("shop-a", SKU_RED_M) == 1


@pytest.mark.parametrize("via", ["poll", "webhook"])
async def test_an_order_ingested_while_the_swap_is_in_flight_is_subtracted_once(
    make_harness: MakeHarness, via: str
) -> None:
    harness = await hooked_harness(make_harness, 5, SKU_RED_M)
    order_id = await harness.controls["shop-a"].place_order([(SKU_RED_M, 2)])
    await harness.engine.adjust_stock(SKU_RED_M, -2)
    # The order arrives after the pusher decided its figure, before the swap reaches shop-a.
    arrive: Callable[[], Any] = (
        (lambda: harness.engine.poll_orders("shop-a"))
        if via == "poll"
        else (lambda: webhook(harness, "shop-a", order_id))
    )
    # Both accounts' pushers share the callback list: whichever writes first ingests it.
    HookedChannel.before_write.append(arrive)
    await harness.engine.push()
    await assert_in_step(harness, SKU_RED_M)
    assert await harness.listed("shop-a", SKU_RED_M) == 1


async def test_two_orders_racing_on_both_accounts_are_each_subtracted_once(
    make_harness: MakeHarness,
) -> None:
    harness = await hooked_harness(make_harness, 6, SKU_RED_M)
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
    await harness.controls["shop-b"].place_order([(SKU_RED_M, 2)])
    assert {a: await harness.listed(a, SKU_RED_M) for a in SHOPS} == {a: 4 for a in SHOPS}
    await harness.engine.adjust_stock(SKU_RED_M, -2)  # both swaps go "4 from 6"
    await harness.engine.push()
    level = harness.store.stock_level(SKU_RED_M, "main")
    assert (level.on_hand, level.reserved) == (4, 4)
    await assert_in_step(harness, SKU_RED_M)
    assert {a: await harness.listed(a, SKU_RED_M) for a in SHOPS} == {a: 0 for a in SHOPS}


async def test_a_second_sale_during_the_retried_swap_is_subtracted_once(
    make_harness: MakeHarness,
) -> None:
    harness = await hooked_harness(make_harness, 10, SKU_RED_M)
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 2)])  # shop-a lists 8
    await harness.engine.adjust_stock(SKU_RED_M, -4)  # 6 on hand: swap "6 from 10"
    control = harness.controls["shop-a"]
    # The first swap is lost (8); while the retry is sent, one more unit sells: 7.
    HookedChannel.before_write.append(lambda: None)
    HookedChannel.before_write.append(lambda: control.place_order([(SKU_RED_M, 1)]))
    await harness.engine.push()
    await harness.engine.poll_orders("shop-a")
    await harness.engine.poll_orders("shop-b")
    await assert_in_step(harness, SKU_RED_M)
    level = harness.store.stock_level(SKU_RED_M, "main")
    assert (level.on_hand, level.reserved) == (6, 3)
    assert await harness.listed("shop-a", SKU_RED_M) == 3


async def test_a_write_outliving_its_lease_is_not_taken_over_while_in_flight(
    make_harness: MakeHarness,
) -> None:
    # The chaos run's oversell: a rate-limited write outlived the push lease, the next pass
    # took the row for a dead pusher's and sent a second swap of the listing meanwhile; the
    # first one's confirmation cleared the second's intent, and the second landed later
    # (its "from 0" true again once buyers took the listing back to 0), listing a unit no
    # account held. A live pusher keeps its lease, so only one write is ever in flight.
    clock = Clock()
    harness = await make_harness(
        Account("shop-a", channel_class=HookedChannel), clock=clock, push_lease="3s"
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    await harness.engine.adjust_stock(SKU_RED_M, -1)
    taken_over: list[PushStats] = []

    async def slow_write() -> None:
        """The write call waits (a rate limit) past the lease, while another pass runs."""
        (claim,) = harness.store.pending_pushes(account="shop-a")
        claimed_until = claim.lease_expires_at
        assert claimed_until is not None
        clock.advance(2)
        for _ in range(100):  # the pusher renews its lease while the write is in flight
            (row,) = harness.store.pending_pushes(account="shop-a")
            if row.lease_expires_at is not None and row.lease_expires_at > claimed_until:
                break
            await asyncio.sleep(0.05)
        clock.advance(2)  # past the lease the row was claimed with
        taken_over.append(await harness.engine.push("shop-a"))

    HookedChannel.before_write.append(slow_write)
    stats = await harness.engine.push("shop-a")
    (other,) = taken_over
    assert (other.account("shop-a").claimed, other.pushed) == (0, 0)
    assert (stats.pushed, stats.conflicts) == (1, 0)
    assert await harness.listed("shop-a", SKU_RED_M) == 4
    state = harness.store.get_listing("shop-a", SKU_RED_M)
    assert state is not None and state.inflight_quantity is None
    assert predicted_listed(state) == 4
    assert harness.store.pending_pushes() == []
