"""Quota allocation through the engine: shares, rebalancing, decrease before increase."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from _channels import (
    AbsoluteChannel,
    DeltaChannel,
    DeltaSandbox,
    HookedAbsoluteChannel,
    HookedChannel,
    OrderlessChannel,
)
from _engine_testkit import SKU_RED_M, Account, Clock, Harness, MakeHarness, make_order, seed

from omnisdk.models import OrderStatus
from omnisdk.sync.sellable import predicted_listed


@pytest.fixture(autouse=True)
def _no_leftover_hooks() -> Any:
    HookedChannel.before_write.clear()
    yield
    HookedChannel.before_write.clear()


async def listed(harness: Harness) -> dict[str, int]:
    """What every sandbox lists of the SKU."""
    return {name: await harness.listed(name, SKU_RED_M) for name in harness.sandboxes}


async def quota_harness(
    make_harness: MakeHarness, *accounts: Account, stock: int, **options: Any
) -> Harness:
    harness = await make_harness(*accounts, allocation="quota", **options)
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


async def test_a_cancellation_ingested_after_a_push_counts_as_listed_again(
    make_harness: MakeHarness,
) -> None:
    """A cancelled order gives its units back to the channel's listing. When the engine
    ingests the cancellation only after it pushed a delta from its prediction, the listing
    shows the returned units on top of the figure pushed: the engine must count them as held
    (a net negative count since the push), or it gives them to another account too."""
    harness = await quota_harness(
        make_harness,
        Account("shop-a", channel_class=DeltaChannel, sandbox=DeltaSandbox(seed=1)),
        Account("shop-b", channel_class=DeltaChannel, sandbox=DeltaSandbox(seed=2)),
        stock=2,
    )
    assert await listed(harness) == {"shop-a": 1, "shop-b": 1}
    order = await harness.controls["shop-b"].place_order([(SKU_RED_M, 1)])
    await harness.engine.poll_orders("shop-b")
    await harness.controls["shop-b"].cancel_order(order)  # the unit is back on shop-b
    # The engine has not seen the cancellation: one unit is free as far as it knows, and the
    # push moves shop-b's figure by a delta from what it predicts (0), on top of the unit.
    await harness.engine.push()
    assert sum((await listed(harness)).values()) <= 2
    await harness.engine.poll_orders("shop-b")
    state = harness.store.get_listing("shop-b", SKU_RED_M)
    assert predicted_listed(state) == await harness.listed("shop-b", SKU_RED_M)
    await harness.engine.push()
    figures = await listed(harness)
    assert sum(figures.values()) <= 2, figures
    for sandbox in harness.sandboxes.values():
        sandbox.close()


async def test_a_refused_write_is_not_taken_for_landed_later(make_harness: MakeHarness) -> None:
    """A delta the channel refuses (its listing sold what the engine has not seen, so the
    figure would go below zero) did not land: its intent is withdrawn. Left behind, the next
    read, showing the refused figure because of the sale, passed for the write having landed;
    the sale's order then counted a second time and the account was given units on top of
    what it listed."""
    harness = await quota_harness(
        make_harness,
        Account("shop-a", channel_class=DeltaChannel, sandbox=DeltaSandbox(seed=1)),
        Account("shop-b", channel_class=DeltaChannel, sandbox=DeltaSandbox(seed=2)),
        stock=2,
    )
    assert await listed(harness) == {"shop-a": 1, "shop-b": 1}
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
    await harness.engine.poll_orders("shop-a")
    await harness.controls["shop-b"].place_order([(SKU_RED_M, 1)])  # not seen yet
    await harness.engine.adjust_stock(SKU_RED_M, -1)  # 0 free: shop-b is lowered by 1 ...
    await harness.engine.push()
    state = harness.store.get_listing("shop-b", SKU_RED_M)
    assert state is not None and state.last_error is not None  # ... which its channel refuses
    assert state.inflight_quantity is None
    await harness.engine.adjust_stock(SKU_RED_M, 2)  # 2 free
    await harness.engine.retry_failed_pushes()
    await harness.engine.push()
    await harness.engine.poll_orders("shop-b")
    await harness.engine.push()
    figures = await listed(harness)
    assert sum(figures.values()) <= 2, figures
    state = harness.store.get_listing("shop-b", SKU_RED_M)
    assert predicted_listed(state) == figures["shop-b"]
    for sandbox in harness.sandboxes.values():
        sandbox.close()


async def test_a_read_ends_the_overwritten_estimate_even_when_nothing_is_written(
    make_harness: MakeHarness,
) -> None:
    """An order placed around an absolute write may have been undone by it, so its units
    are held on top of the account's figure (``overwritten``). The next push always reads:
    a read lower than the figure written may as well be unseen sales, so the units stay held
    as sold unseen, and the first read once the orders are polled past that push settles
    them, whether or not it writes. Before, only a write ended the estimate, and an account
    whose figure stayed put kept holding the unit for ever: nobody listed it."""
    clock = Clock()
    harness = await quota_harness(
        make_harness,
        *(Account(name, channel_class=AbsoluteChannel) for name in ("shop-a", "shop-b", "shop-c")),
        stock=4,
        clock=clock,
    )
    assert sum((await listed(harness)).values()) == 4
    for control in harness.controls.values():  # right after the writes: inside their spans
        await control.place_order([(SKU_RED_M, 1)])
    for _ in range(3):
        clock.advance(5)
        for name in harness.sandboxes:
            await harness.engine.poll_orders(name)
        await harness.engine.push()
    assert sum((await listed(harness)).values()) == 1, harness.store.list_listings()
    assert [s.overwritten for s in harness.store.list_listings()] == [0, 0, 0]


async def test_a_read_that_drops_unseen_units_queues_the_other_accounts(
    make_harness: MakeHarness,
) -> None:
    """The case above with the accounts' pushers in a fixed order (``push`` runs them side by
    side, so the order was the luck of the thread pool). Each read drops the units its
    account held as sold unseen once they are settled, which lowers what that account holds
    without any write. shop-a (the one the last unit's share goes to) is decided first,
    while the others still hold theirs: 0. shop-c, the last, has the headroom but not the
    share: 0. Unless a read that drops units queues the other accounts as a lowering push
    does, nobody is pushed again and the unit stays listed by none."""
    from omnisdk_example.sandbox import ExampleSandbox

    from omnisdk.testing.clock import SandboxClock

    clock = Clock()
    names = ("shop-a", "shop-b", "shop-c")
    # The platforms' clocks stand at the engine's start: the orders are placed within the
    # clocks' margin of the first writes however long the set-up takes on a loaded machine.
    sandboxes = [
        ExampleSandbox(seed=100 + index, clock=SandboxClock(start=clock.now, frozen=True))
        for index in range(len(names))
    ]
    harness = await quota_harness(
        make_harness,
        *(
            Account(name, channel_class=AbsoluteChannel, sandbox=sandbox)
            for name, sandbox in zip(names, sandboxes, strict=True)
        ),
        stock=4,
        clock=clock,
    )
    for control in harness.controls.values():
        await control.place_order([(SKU_RED_M, 1)])
    for first in (True, False):  # ingested (held as maybe undone), then settled past the push
        clock.advance(5)
        for name in names:
            await harness.engine.poll_orders(name)
        if first:
            await harness.engine.push()
    for name in names:
        await harness.engine.push(name)
    assert {p.account for p in harness.store.pending_pushes()} >= {"shop-a"}
    await harness.engine.push()
    assert sum((await listed(harness)).values()) == 1, harness.store.list_listings()
    assert [s.pending_unseen for s in harness.store.list_listings()] == [0, 0, 0]
    for sandbox in sandboxes:
        sandbox.close()


async def test_an_order_ingested_while_an_absolute_write_is_on_its_way_stays_held(
    make_harness: MakeHarness,
) -> None:
    """A buyer orders on an absolute channel after the pusher read it, and the order is
    ingested before the write is confirmed: the write undid the sale on the channel, which
    lists the whole figure written. Counted as a sale from that figure, the order would make
    the engine believe the account holds one unit less than its channel can sell; the order
    queued the listing again, and the same pass reads it and holds what it shows."""
    harness = await quota_harness(
        make_harness,
        Account("shop-x", channel_class=HookedAbsoluteChannel),
        Account("shop-a"),
        stock=6,
    )
    assert await listed(harness) == {"shop-x": 3, "shop-a": 3}

    async def sell_and_ingest() -> None:
        await harness.controls["shop-x"].place_order([(SKU_RED_M, 1)])
        await harness.engine.poll_orders("shop-x")

    HookedChannel.before_write.append(sell_and_ingest)
    await harness.engine.adjust_stock(SKU_RED_M, 2)  # 8 on hand: shop-x's share grows to 4
    await harness.engine.push("shop-x")
    assert not HookedChannel.before_write
    assert await harness.listed("shop-x", SKU_RED_M) == 4  # the sale was undone
    await harness.engine.poll_orders("shop-x")  # orders known past the write: its hold ends
    view = (await harness.engine.stock_view(SKU_RED_M)).listing("shop-x")
    assert view.holds is not None and view.holds >= 4, view
    for _ in range(2):
        await harness.engine.poll_orders("shop-x")
        await harness.engine.push()
    figures = await listed(harness)
    assert sum(figures.values()) == 7, figures
    view = (await harness.engine.stock_view(SKU_RED_M)).listing("shop-x")
    assert view.holds == figures["shop-x"], view


async def test_a_channel_failing_every_write_is_still_driven_down(
    make_harness: MakeHarness,
) -> None:
    """Stock drops while one channel fails every write. Its last confirmed figure stays
    counted as what it holds, so no other channel is given those units; its lowering write
    is tried again within seconds however often it failed (not after a back-off growing to
    minutes), and lands once the channel answers again."""
    clock = Clock()
    harness = await quota_harness(
        make_harness, Account("shop-a"), Account("shop-b"), stock=8, clock=clock
    )
    assert await listed(harness) == {"shop-a": 4, "shop-b": 4}
    await harness.controls["shop-b"].set_faults(
        error_rate=1.0, error_statuses=[503], only_paths=["/stock/batch"]
    )
    await harness.engine.adjust_stock(SKU_RED_M, -4)  # 4 left: each should list 2
    for _ in range(8):  # many failed passes
        await harness.engine.push()
        [pending] = harness.store.pending_pushes()
        assert pending.account == "shop-b"
        assert pending.next_attempt_at - clock.now <= timedelta(seconds=5)
        clock.advance(5)
        # shop-b's write never landed: it may still sell 4, all there is; shop-a lists none.
        assert await listed(harness) == {"shop-a": 0, "shop-b": 4}
    assert pending.attempts >= 8
    await harness.controls["shop-b"].set_faults()
    await harness.engine.push()
    clock.advance(5)
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 2, "shop-b": 2}


@pytest.mark.parametrize("wait", [0, 2], ids=["tried-again-in-the-pass", "next-pass"])
async def test_a_failed_lowering_write_is_not_taken_for_landed_when_a_sale_did_the_same(
    make_harness: MakeHarness, wait: int
) -> None:
    """An absolute write lowering 4 to 3 is refused for now (503), and meanwhile a buyer takes
    one unit: the listing shows 3, the figure the write would have left. Taken for the write
    having landed, the sale was lost from view: once its order came, the engine believed the
    account held 2 where it could still sell 3, a unit it could give to the other account."""
    clock = Clock()
    harness = await quota_harness(
        make_harness,
        Account("shop-x", channel_class=HookedAbsoluteChannel),
        Account("shop-a"),
        stock=8,
        clock=clock,
    )
    assert await listed(harness) == {"shop-x": 4, "shop-a": 4}
    control = harness.controls["shop-x"]
    clock.advance(10)  # the first writes are long past
    for each in harness.controls.values():
        await each.advance_clock(10)
    await harness.engine.adjust_stock(SKU_RED_M, -2)  # 6: shop-a gives up 2, shop-x 1
    await harness.engine.push("shop-a")
    assert await listed(harness) == {"shop-x": 4, "shop-a": 2}

    async def sell_then_fail() -> None:
        await control.place_order([(SKU_RED_M, 1)])
        # 503, tried again within the pass; or 429 asking for longer than a pass waits.
        await control.set_faults(
            fail_first=1,
            error_statuses=[429 if wait else 503],
            retry_after=wait,
            only_paths=["/stock/batch"],
        )

    HookedChannel.before_write.append(sell_then_fail)
    await harness.engine.push("shop-x")
    if wait:  # the write waits in the outbox; the next pass reads the listing again
        assert await harness.listed("shop-x", SKU_RED_M) == 3
        clock.advance(10)
        await harness.engine.push("shop-x")
    shown = await harness.listed("shop-x", SKU_RED_M)
    assert shown == 2  # its share is 3, and it sold 1
    await harness.engine.poll_orders("shop-x")
    view = (await harness.engine.stock_view(SKU_RED_M)).listing("shop-x")
    assert view.holds is not None and view.holds >= shown, view  # what it may still sell
    for _ in range(2):
        await harness.engine.poll_orders("shop-x")
        await harness.engine.push()
    assert sum((await listed(harness)).values()) <= 5


async def test_an_order_an_absolute_write_undid_does_not_hide_a_later_unseen_sale(
    make_harness: MakeHarness,
) -> None:
    """The calm chaos run's Shopee oversell. An order placed between the read an absolute
    write started from and the write is undone by it; once ingested it counts as sold in
    the prediction although the channel never lost its units, and is held on top
    (``overwritten``). When units then sell unseen, the next read shows exactly the
    prediction: the sale looked explained, the read ended the estimate, and the free units
    the account still held went to the other account as well."""
    HookedChannel.before_write.clear()
    harness = await quota_harness(
        make_harness,
        Account("shop-s", channel_class=HookedAbsoluteChannel),
        Account("shop-c"),
        stock=12,
    )
    shopee = harness.controls["shop-s"]
    # A write to shop-s; an order of 2 lands after its read, before the write.
    HookedChannel.before_write.append(lambda: shopee.place_order([(SKU_RED_M, 2)]))
    await harness.engine.adjust_stock(SKU_RED_M, -1)
    await harness.engine.push()
    assert not HookedChannel.before_write
    await harness.engine.poll_orders("shop-s")  # the undone order: 2 sold, 11 on hand
    await shopee.place_order([(SKU_RED_M, 2)])  # sold on shop-s, not ingested yet
    await harness.engine.adjust_stock(SKU_RED_M, 0)  # any change: both accounts pushed
    await harness.engine.adjust_stock(SKU_RED_M, 1)
    await harness.engine.adjust_stock(SKU_RED_M, -1)
    await harness.engine.push()
    level = harness.store.stock_level(SKU_RED_M, "main")
    free = level.on_hand - level.reserved - 2  # the 2 sold unseen are not free
    figures = await listed(harness)
    assert sum(figures.values()) <= free, (figures, free, harness.store.list_listings())
    await harness.engine.poll_orders("shop-s")
    await harness.engine.push()
    level = harness.store.stock_level(SKU_RED_M, "main")
    assert sum((await listed(harness)).values()) == level.on_hand - level.reserved
    HookedChannel.before_write.clear()


async def test_a_channel_without_orders_holds_no_window_and_its_recorded_orders_move_the_ledger(
    make_harness: MakeHarness,
) -> None:
    """An absolute channel that takes no orders (a catalog whose sales are agreed in chat)
    sells nothing between the read and the write, so nothing is held for that window; an
    order the app records for it reserves units at once (every other account may list less)
    and is not expected to have lowered the channel's own figure: the next push does."""
    harness = await quota_harness(
        make_harness,
        Account("catalog", channel_class=OrderlessChannel),
        Account("shop-a"),
        stock=6,
    )
    assert await listed(harness) == {"catalog": 3, "shop-a": 3}
    state = harness.store.get_listing("catalog", SKU_RED_M)
    assert state is not None and (state.window_hold, state.read_at) == (0, None)
    chat = make_order("chat-1", account="catalog", channel=OrderlessChannel.name,
                      status=OrderStatus.PENDING, lines={SKU_RED_M: 2})
    await harness.engine.record_order(chat)
    state = harness.store.get_listing("catalog", SKU_RED_M)
    assert state is not None and predicted_listed(state) == 3  # the platform's own figure
    for _ in range(2):
        await harness.engine.push()
    now = await listed(harness)
    assert sum(now.values()) <= 4 and now["shop-a"] < 3, now
    cancelled = make_order("chat-1", account="catalog", channel=OrderlessChannel.name,
                           status=OrderStatus.CANCELLED, lines={SKU_RED_M: 2}, minutes=5)
    await harness.engine.record_order(cancelled)
    for _ in range(2):
        await harness.engine.push()
    assert await listed(harness) == {"catalog": 3, "shop-a": 3}
    assert [s.pending_unseen for s in harness.store.list_listings()] == [0, 0]


async def test_the_runtime_polls_an_absolute_account_after_it_gave_units_up(
    make_harness: MakeHarness,
) -> None:
    """shop-a sells out and its buyers keep coming; shop-x (absolute writes, orders polled
    once a minute) sells nothing, so its units are moved to shop-a. Its lowering write frees
    them only once a poll started after the write has ingested its orders: the runtime polls
    shop-x at once instead of at its next interval, a minute away."""
    import asyncio
    import time

    from _engine_testkit import running

    from omnisdk.config import PollIntervals

    slow, fast = (
        PollIntervals(orders=timedelta(seconds=s), customers=timedelta(hours=1)) for s in (60, 0.1)
    )
    harness = await quota_harness(
        make_harness,
        Account("shop-x", channel_class=AbsoluteChannel, poll=slow),
        Account("shop-a", poll=fast),
        stock=6,
        push_interval=timedelta(seconds=0.2),
    )
    assert await listed(harness) == {"shop-x": 3, "shop-a": 3}
    async with running(harness, reconcile=False):
        await asyncio.sleep(0.3)  # the first polls are done
        await harness.controls["shop-a"].place_order([(SKU_RED_M, 3)])  # sold out
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            figures = await listed(harness)
            if figures["shop-a"] > 0:
                break
            await asyncio.sleep(0.1)
    assert figures["shop-a"] > 0, (figures, harness.store.list_listings())
    assert sum(figures.values()) <= 3, figures


async def test_a_read_showing_more_than_held_queues_every_account_of_the_sku(
    make_harness: MakeHarness,
) -> None:
    """A channel showing more than the engine took it to hold (the platform put a cancelled
    order's units back on sale before the cancellation was ingested, or the merchant raised
    the figure on the platform) holds more than its share: the others must lower, and it
    must come down to its share. Found by the chaos suite's convergence trace: the figure
    was recorded and no push was queued, so the listings of the SKU stood above its free
    stock until the next reconciliation."""
    from omnisdk.models import ChannelEvent, EventKind, StockLevel

    harness = await quota_harness(make_harness, Account("shop-a"), Account("shop-b"), stock=5)
    assert await listed(harness) == {"shop-a": 3, "shop-b": 2}
    assert harness.store.outbox_depth() == 0
    raised = ChannelEvent(
        kind=EventKind.STOCK_CHANGED,
        channel="example",
        account="shop-b",
        topic="inventory/update",
        stock=[StockLevel(sku=SKU_RED_M, on_hand=4)],
    )
    await harness.engine.handle_events("shop-b", [raised])
    assert {p.account for p in harness.store.pending_pushes(sku=SKU_RED_M)} == {
        "shop-a",
        "shop-b",
    }
    await harness.engine.push()
    assert sum((await listed(harness)).values()) <= 5
    assert not harness.store.pending_pushes(sku=SKU_RED_M)
    now = (await listed(harness))["shop-b"]
    same = raised.model_copy(
        update={"delivery_id": "again", "stock": [StockLevel(sku=SKU_RED_M, on_hand=now)]}
    )
    await harness.engine.handle_events("shop-b", [same])  # what it holds: no news
    assert not harness.store.pending_pushes(sku=SKU_RED_M)
