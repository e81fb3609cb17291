"""Pushing stock: allocation, the three push modes, unseen sales, batching, retries, failures."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from _channels import (
    AbsoluteChannel,
    BlindChannel,
    DeltaChannel,
    DeltaSandbox,
    HookedAbsoluteChannel,
    HookedChannel,
    LaggingChannel,
    RevokedChannel,
)
from _engine_testkit import (
    HCM,
    SKU_HAT,
    SKU_RED_M,
    Account,
    Clock,
    Harness,
    MakeHarness,
    plugins_with,
    seed,
)
from omnisdk_example.channel import ExampleChannel

from omnisdk import hookimpl
from omnisdk.allocation import AllocationRequest, AllocationRule
from omnisdk.store import AccountStatus
from omnisdk.sync.pusher import PASS_ATTEMPTS


@pytest.fixture(autouse=True)
def _no_leftover_hooks() -> Iterator[None]:
    HookedChannel.before_write.clear()
    HookedChannel.written.clear()
    yield
    HookedChannel.before_write.clear()
    HookedChannel.written.clear()


def writes(harness: Harness, account: str) -> list[int | None]:
    """Items per stock write call the account's sandbox received."""
    return [r.items for r in harness.sandboxes[account].operations("stock.write")]


async def listed(harness: Harness, sku: str = SKU_RED_M) -> dict[str, int]:
    """Listed stock of ``sku`` per account."""
    return {account: await harness.listed(account, sku) for account in harness.sandboxes}


async def test_every_listing_gets_the_pool_and_a_sale_reaches_the_others(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    stats = await harness.engine.push()
    assert stats.pushed == 2 and await listed(harness) == {"shop-a": 5, "shop-b": 5}
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 2)])
    await harness.engine.poll_orders("shop-a")
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 3, "shop-b": 3}
    # shop-a had taken the units off its own listing: it was not written again.
    assert writes(harness, "shop-a") == [1]


async def test_a_lost_swap_ingests_first_and_never_reinflates(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    await harness.controls["shop-b"].place_order([(SKU_RED_M, 2)])  # not ingested yet
    await harness.engine.adjust_stock(SKU_RED_M, 1)  # a delivery: 6 on hand
    stats = await harness.engine.push()
    assert stats.account("shop-b").conflicts == 1
    assert await listed(harness) == {"shop-a": 4, "shop-b": 4}
    assert harness.store.stock_level(SKU_RED_M, "main").reserved == 2  # ingested meanwhile


async def test_a_sale_the_channel_cannot_list_yet_is_held_back(make_harness: MakeHarness) -> None:
    harness = await make_harness(
        Account("shop-a"), Account("shop-lag", channel_class=LaggingChannel)
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    order_id = await harness.controls["shop-lag"].place_order([(SKU_RED_M, 2)])
    LaggingChannel.hidden = {order_id}
    try:
        await harness.engine.adjust_stock(SKU_RED_M, 1)
        await harness.engine.push()
        # 6 on hand, 2 sold unseen on shop-lag: it lists 4, not 6.
        assert await harness.listed("shop-lag", SKU_RED_M) == 4
        view = await harness.engine.stock_view(SKU_RED_M)
        assert view.listing("shop-lag").unseen == 2
        assert view.listing("shop-lag").sellable == 4
    finally:
        LaggingChannel.hidden = set()
    await harness.engine.poll_orders("shop-lag")
    stats = await harness.engine.push()
    assert await listed(harness) == {"shop-a": 4, "shop-lag": 4}
    assert stats.account("shop-lag").unchanged == 1  # the ingested order was the unseen one
    view = await harness.engine.stock_view(SKU_RED_M)
    assert view.listing("shop-lag").unseen == 0


async def test_units_never_accounted_for_are_released_after_the_hold(
    make_harness: MakeHarness,
) -> None:
    clock = Clock()
    harness = await make_harness(Account("shop-a"), Account("shop-b"), clock=clock)
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    harness.sandboxes["shop-b"].variants[SKU_RED_M].stock = 3  # type: ignore[attr-defined]
    await harness.engine.adjust_stock(SKU_RED_M, 1)
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 6, "shop-b": 4}  # 2 held back on shop-b
    clock.advance(11 * 60)  # past [engine] unseen_hold: no order ever explained them
    assert await harness.engine.sellable("shop-b", SKU_RED_M) == 6
    await harness.engine.mark_dirty([SKU_RED_M])
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 6, "shop-b": 6}


async def crashed_after_writing(harness: Harness, quantity: int) -> None:
    """A previous pusher recorded its intent, wrote ``quantity`` and died before confirming."""
    harness.store.record_intent("shop-a", [(SKU_RED_M, quantity, 0, 0)])
    harness.sandboxes["shop-a"].variants[SKU_RED_M].stock = quantity  # type: ignore[attr-defined]


async def test_a_write_that_landed_before_a_crash_is_recognised(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    await harness.engine.adjust_stock(SKU_RED_M, -2)
    await crashed_after_writing(harness, 3)
    stats = await harness.engine.push()
    # The listing is read (a write was left unconfirmed): it shows 3, the figure wanted.
    assert (stats.unchanged, stats.conflicts, writes(harness, "shop-a")) == (1, 0, [1])
    assert await harness.listed("shop-a", SKU_RED_M) == 3
    view = await harness.engine.stock_view(SKU_RED_M)
    assert view.listing("shop-a").unseen == 0
    assert harness.store.pending_pushes() == []


async def test_a_landed_write_is_recognised_by_the_swap_when_stock_cannot_be_read(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a", channel_class=BlindChannel))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    await harness.engine.adjust_stock(SKU_RED_M, -2)
    await crashed_after_writing(harness, 3)
    stats = await harness.engine.push()
    # The swap "from 5" is refused with "the listing holds 3": what the unconfirmed write left.
    assert (stats.pushed, stats.conflicts, writes(harness, "shop-a")) == (1, 0, [1, 1])
    assert await harness.listed("shop-a", SKU_RED_M) == 3
    view = await harness.engine.stock_view(SKU_RED_M)
    assert view.listing("shop-a").unseen == 0
    assert harness.store.pending_pushes() == []


async def test_a_listing_at_the_figure_wanted_with_no_write_behind_it_is_a_sale(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a", channel_class=BlindChannel))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    await harness.engine.adjust_stock(SKU_RED_M, -2)
    # Nobody wrote 3: the channel sold 2 units whose order it does not list yet.
    harness.sandboxes["shop-a"].variants[SKU_RED_M].stock = 3  # type: ignore[attr-defined]
    stats = await harness.engine.push()
    assert stats.conflicts == 1
    assert await harness.listed("shop-a", SKU_RED_M) == 1  # the 2 unseen units held back
    assert await harness.engine.sellable("shop-a", SKU_RED_M) == 1


async def test_a_figure_read_after_the_push_wins_over_the_prediction(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    # Someone typed 9 into the seller centre, and a reconciliation read it.
    harness.sandboxes["shop-a"].variants[SKU_RED_M].stock = 9  # type: ignore[attr-defined]
    harness.store.record_listed("shop-a", SKU_RED_M, 9)
    await harness.engine.mark_dirty([SKU_RED_M])
    stats = await harness.engine.push()
    assert (stats.pushed, stats.conflicts) == (1, 0)
    assert await harness.listed("shop-a", SKU_RED_M) == 5
    [state] = harness.store.list_listings(account="shop-a")
    assert (state.last_pushed, state.last_listed, state.inflight_quantity) == (5, 5, None)
    # Once pushed, the prediction is right again: no more reads.
    reads = len([r for r in harness.sandboxes["shop-a"].requests if r.path == "/stock"])
    await harness.engine.mark_dirty([SKU_RED_M])
    assert (await harness.engine.push()).unchanged == 1
    assert len([r for r in harness.sandboxes["shop-a"].requests if r.path == "/stock"]) == reads


async def test_a_delta_starts_from_the_listing_read_again_not_a_stale_figure(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(
        Account("shop-d", channel_class=DeltaChannel, sandbox=DeltaSandbox(seed=9))
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    variant = harness.sandboxes["shop-d"].variants[SKU_RED_M]  # type: ignore[attr-defined]
    variant.stock = 9  # changed by hand; a reconciliation read it...
    harness.store.record_listed("shop-d", SKU_RED_M, 9)
    variant.stock = 8  # ... and it changed again since
    await harness.engine.mark_dirty([SKU_RED_M])
    await harness.engine.push()
    assert await harness.listed("shop-d", SKU_RED_M) == 5  # -3 from 8, not -4 from 9
    harness.sandboxes["shop-d"].close()


async def test_the_delta_mode_keeps_unseen_sales_subtracted(make_harness: MakeHarness) -> None:
    harness = await make_harness(
        Account("shop-d", channel_class=DeltaChannel, sandbox=DeltaSandbox(seed=7))
    )
    await seed(harness, SKU_RED_M, stock=1)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()  # first push: read 1 back, add 4
    assert await harness.listed("shop-d", SKU_RED_M) == 5
    await harness.controls["shop-d"].place_order([(SKU_RED_M, 2)])  # unseen
    await harness.engine.adjust_stock(SKU_RED_M, 1)
    await harness.engine.push()  # +1: the channel keeps its own sale subtracted
    assert await harness.listed("shop-d", SKU_RED_M) == 4
    await harness.engine.poll_orders("shop-d")
    stats = await harness.engine.push()
    assert stats.pushed == 0 and await harness.listed("shop-d", SKU_RED_M) == 4
    assert writes(harness, "shop-d") == [1, 1]
    harness.sandboxes["shop-d"].close()


async def test_the_absolute_mode_reads_back_and_subtracts_unseen_sales(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(
        Account("shop-x", channel_class=AbsoluteChannel), Account("shop-a")
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    await harness.controls["shop-x"].place_order([(SKU_RED_M, 2)])  # unseen
    await harness.engine.adjust_stock(SKU_RED_M, 1)
    await harness.engine.push()
    assert await harness.listed("shop-x", SKU_RED_M) == 4  # not 6: the sale is not undone
    await harness.engine.poll_orders("shop-x")
    await harness.engine.push()
    assert await listed(harness) == {"shop-x": 4, "shop-a": 4}
    reads = harness.sandboxes["shop-x"].requests
    assert any(r.path == "/stock" and r.method == "GET" for r in reads)


async def test_pushes_go_in_the_platforms_batches(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"))
    skus = [f"ÁO-{n:03d}" for n in range(45)]
    await seed(harness, *skus)
    for sku in skus:
        await harness.engine.set_stock(sku, 3)
    await harness.engine.push()
    assert writes(harness, "shop-a") == [20, 20, 5]
    assert all(entry["stock"] == 3 for entry in harness.sandboxes["shop-a"].listings())


async def test_changes_coalesce_to_the_newest_figure(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"))
    await seed(harness, SKU_RED_M)
    for quantity in (5, 7, 2, 9, 4):
        await harness.engine.set_stock(SKU_RED_M, quantity)
    await harness.engine.push()
    assert writes(harness, "shop-a") == [1]
    assert await harness.listed("shop-a", SKU_RED_M) == 4


async def test_a_change_during_the_push_is_pushed_too(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-h", channel_class=HookedChannel))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    HookedChannel.before_write.append(lambda: harness.engine.adjust_stock(SKU_RED_M, -1))
    await harness.engine.push()
    assert await harness.listed("shop-h", SKU_RED_M) == 4
    assert harness.store.pending_pushes() == []


async def test_a_transient_failure_is_tried_again_within_the_pass(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    await seed(harness, SKU_RED_M, SKU_HAT)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.set_stock(SKU_HAT, 2)
    await harness.controls["shop-a"].set_faults(
        fail_first=1, error_statuses=[503], only_paths=["/stock/batch"]
    )
    stats = await harness.engine.push()
    assert (stats.pushed, stats.retrying) == (2, 0)
    assert await listed(harness) == {"shop-a": 5}
    assert await harness.listed("shop-a", SKU_HAT) == 2
    assert harness.store.pending_pushes() == []
    # The stock write is tried once per try by the HTTP layer: the pusher tried it again.
    calls = [r for r in harness.sandboxes["shop-a"].requests if r.path == "/stock/batch"]
    assert [r.status for r in calls] == [503, 200]
    assert stats.account("shop-a").retried == 2


async def test_a_failed_absolute_write_is_decided_again_from_a_fresh_read(
    make_harness: MakeHarness,
) -> None:
    # The channel sells while the write is on its way, and the write fails: resent as it was
    # (after a back-off), the absolute figure would undo that sale and list it again.
    harness = await make_harness(
        Account("shop-x", channel_class=HookedAbsoluteChannel), allocation="quota"
    )
    control = harness.controls["shop-x"]
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    assert await harness.listed("shop-x", SKU_RED_M) == 5
    HookedChannel.written.clear()

    async def sell_then_fail() -> None:
        await control.place_order([(SKU_RED_M, 1)])  # after the read: unseen by the engine
        await control.set_faults(fail_first=1, error_statuses=[503], only_paths=["/stock/batch"])

    HookedChannel.before_write.append(sell_then_fail)
    await harness.engine.adjust_stock(SKU_RED_M, 1)  # 6: the push reads 5, decides 6
    stats = await harness.engine.push()
    # One unit sold, five listed: six in all, not seven.
    assert await harness.listed("shop-x", SKU_RED_M) == 5
    assert HookedChannel.written == [{SKU_RED_M: 6}, {SKU_RED_M: 5}]
    assert stats.account("shop-x").retried == 1
    await harness.engine.poll_orders("shop-x")
    await harness.engine.push()
    assert await harness.listed("shop-x", SKU_RED_M) == 5
    assert harness.store.pending_pushes() == []


async def test_lowering_writes_go_before_raising_ones(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a", channel_class=HookedChannel))
    await seed(harness, SKU_RED_M, SKU_HAT)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.set_stock(SKU_HAT, 2)
    await harness.engine.push()
    HookedChannel.written.clear()
    await harness.engine.adjust_stock(SKU_HAT, 3)  # sorts first in the batch: raised
    await harness.engine.adjust_stock(SKU_RED_M, -4)
    stats = await harness.engine.push()
    assert stats.pushed == 2
    assert HookedChannel.written == [{SKU_RED_M: 1}, {SKU_HAT: 5}]


async def test_a_transient_failure_is_retried_later(make_harness: MakeHarness) -> None:
    clock = Clock()
    harness = await make_harness(Account("shop-a", settings={"max_attempts": 1}), clock=clock)
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    # Failing on every try of the pass, the push waits in the outbox.
    await harness.controls["shop-a"].set_faults(fail_first=PASS_ATTEMPTS, error_statuses=[503])
    stats = await harness.engine.push()
    assert stats.retrying == 1
    [pending] = harness.store.pending_pushes()
    assert pending.attempts == 1 and pending.next_attempt_at > clock.now
    assert "503" in (pending.last_error or "") or pending.last_error
    failed = harness.recorder.of("push_failed")
    assert [(f["key"], f["retryable"]) for f in failed] == [(SKU_RED_M, True)]
    assert (await harness.engine.push()).pushed == 0  # not due yet
    clock.advance(5)
    assert (await harness.engine.push()).pushed == 1
    assert await harness.listed("shop-a", SKU_RED_M) == 5
    # The same for a write (the read above was the first push's look at the listing).
    await harness.controls["shop-a"].set_faults(fail_first=PASS_ATTEMPTS, error_statuses=[502])
    await harness.engine.adjust_stock(SKU_RED_M, 2)
    assert (await harness.engine.push()).retrying == 1
    assert await harness.listed("shop-a", SKU_RED_M) == 5
    clock.advance(5)
    assert (await harness.engine.push()).pushed == 1
    assert await harness.listed("shop-a", SKU_RED_M) == 7
    assert writes(harness, "shop-a") == [1, 1]  # the refused call never reached the handler


async def test_a_write_landing_again_ends_the_back_off_of_the_outage(
    make_harness: MakeHarness,
) -> None:
    """The platform failing, a SKU waits in the outbox; once a write lands on the account
    again, that SKU goes at once (not after its back-off, seconds or minutes later)."""
    clock = Clock()
    harness = await make_harness(Account("shop-a", settings={"max_attempts": 1}), clock=clock)
    await seed(harness, SKU_RED_M, SKU_HAT)
    await harness.engine.set_stock(SKU_HAT, 2)
    await harness.engine.push()
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.controls["shop-a"].set_faults(fail_first=PASS_ATTEMPTS, error_statuses=[503])
    assert (await harness.engine.push()).retrying == 1
    [waiting] = harness.store.pending_pushes()
    assert waiting.sku == SKU_RED_M and waiting.next_attempt_at > clock.now
    await harness.engine.adjust_stock(SKU_HAT, 1)  # the platform answers again
    for _ in range(2):
        await harness.engine.push()
    assert await harness.listed("shop-a", SKU_RED_M) == 5  # the clock never moved
    assert await harness.listed("shop-a", SKU_HAT) == 3
    assert harness.store.pending_pushes() == []


async def test_a_permanent_failure_is_recorded_and_retried_by_command(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    await seed(harness, SKU_RED_M)
    await harness.engine.add_listing("shop-a", SKU_HAT)  # not on the channel (yet)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.set_stock(SKU_HAT, 2)
    stats = await harness.engine.push()
    assert (stats.pushed, stats.failed) == (1, 1)
    [failure] = harness.store.list_listings(failed=True)
    assert (failure.sku, failure.error_code) == (SKU_HAT, "unknown_sku")
    assert harness.store.pending_pushes() == []
    assert harness.recorder.of("push_failed")[0]["retryable"] is False
    view = await harness.engine.stock_view(SKU_HAT)
    assert view.listing("shop-a").error is not None
    await harness.controls["shop-a"].seed(
        [{"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000", "stock": 0}]
    )
    assert await harness.engine.retry_failed_pushes() == 1
    assert (await harness.engine.push()).pushed == 1
    assert await harness.listed("shop-a", SKU_HAT) == 2
    assert harness.store.list_listings(failed=True) == []


async def test_allocation_rules_shape_each_accounts_figure(make_harness: MakeHarness) -> None:
    rule = AllocationRule(
        locations=(HCM,), safety_buffer=1, percentage=Decimal(50), maximum=3, zero_below=2
    )
    harness = await make_harness(Account("shop-a"), Account("shop-r", allocation=rule))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 100)
    await harness.engine.set_stock(SKU_RED_M, 9, location=HCM)
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 109, "shop-r": 3}
    # A change at a location that does not feed shop-r queues nothing for it.
    await harness.engine.adjust_stock(SKU_RED_M, -10)
    assert {p.account for p in harness.store.pending_pushes()} == {"shop-a"}
    await harness.engine.set_stock(SKU_RED_M, 4, location=HCM)  # 3 free: 1 after 50% -> 0
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 94, "shop-r": 0}


async def test_an_app_can_replace_the_allocation_policy(make_harness: MakeHarness) -> None:
    class OnlyOneOnMarketplaces:
        @hookimpl
        def omnisdk_allocate_stock(self, request: AllocationRequest) -> int | None:
            return min(request.pool(), 1) if request.account == "shop-b" else None

    plugins = plugins_with(ExampleChannel)
    plugins.register(OnlyOneOnMarketplaces(), name="policy")
    harness = await make_harness(Account("shop-a"), Account("shop-b"), plugins=plugins)
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 5, "shop-b": 1}


async def test_a_lost_authorisation_stops_that_account_only(make_harness: MakeHarness) -> None:
    harness = await make_harness(
        Account("shop-a"), Account("shop-gone", channel_class=RevokedChannel)
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    stats = await harness.engine.push()
    assert stats.account("shop-gone").stopped and stats.account("shop-a").pushed == 1
    account = harness.store.get_account("shop-gone")
    assert account is not None and account.status is AccountStatus.NEEDS_REAUTH
    cycle = await harness.engine.sync_once(reconcile=False)
    assert [p.account for p in cycle.polls if p.stopped] == ["shop-gone"]
    calls = harness.recorder.of("needs_reauthorisation")
    assert [(c["account"], c["channel"]) for c in calls] == [("shop-gone", "example-revoked")]
    # Its push waits for the re-authorisation; nothing is lost.
    assert [(p.account, p.sku) for p in harness.store.pending_pushes()] == [
        ("shop-gone", SKU_RED_M)
    ]
    await harness.engine.adjust_stock(SKU_RED_M, 1)
    await harness.engine.push()
    assert await harness.listed("shop-a", SKU_RED_M) == 6


async def test_a_crashed_pushers_rows_are_taken_over_after_its_lease(
    make_harness: MakeHarness,
) -> None:
    clock = Clock()
    harness = await make_harness(Account("shop-a"), clock=clock, push_lease="30s")
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    claimed = harness.store.claim_dirty("shop-a", 10, "worker-that-died", 30)
    assert [c.sku for c in claimed] == [SKU_RED_M]
    assert (await harness.engine.push()).pushed == 0
    clock.advance(31)
    assert (await harness.engine.push()).pushed == 1
    assert await harness.listed("shop-a", SKU_RED_M) == 5


async def test_the_stock_view_explains_each_figure(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 7)
    await harness.engine.set_stock(SKU_RED_M, 2, location=HCM)
    await harness.engine.push()
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
    await harness.engine.poll_orders("shop-a")
    view = await harness.engine.stock_view(SKU_RED_M)
    assert [(lv.location, lv.on_hand, lv.reserved) for lv in view.locations] == [
        (HCM, 2, 0),
        ("main", 7, 1),
    ]
    assert (view.on_hand, view.reserved) == (9, 1)
    a, b = view.listing("shop-a"), view.listing("shop-b")
    assert (a.sellable, a.last_pushed, a.expected_listed, a.pending) == (8, 9, 8, True)
    assert (b.sellable, b.expected_listed, b.pending) == (8, 9, True)


@pytest.mark.parametrize("landed", [True, False], ids=["landed", "not-landed"])
async def test_a_delta_left_unconfirmed_by_a_crash_is_never_applied_twice(
    make_harness: MakeHarness, landed: bool
) -> None:
    harness = await make_harness(
        Account("shop-d", channel_class=DeltaChannel, sandbox=DeltaSandbox(seed=8))
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    await harness.engine.adjust_stock(SKU_RED_M, -2)
    # The pusher that died had recorded its intent (3), and its delta (-2) landed or not.
    harness.store.record_intent("shop-d", [(SKU_RED_M, 3, 0, 0)])
    if landed:
        harness.sandboxes["shop-d"].variants[SKU_RED_M].stock = 3  # type: ignore[attr-defined]
    before = len(writes(harness, "shop-d"))
    await harness.engine.push()
    assert await harness.listed("shop-d", SKU_RED_M) == 3
    assert len(writes(harness, "shop-d")) == before + (0 if landed else 1)
    [state] = harness.store.list_listings(account="shop-d")
    assert (state.last_pushed, state.inflight_quantity) == (3, None)
    harness.sandboxes["shop-d"].close()
