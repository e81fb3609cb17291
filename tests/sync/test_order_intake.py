"""Order intake: idempotent ingestion, the status state machine, polling, webhooks, app orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from _engine_testkit import (
    HCM,
    SKU_HAT,
    SKU_RED_L,
    SKU_RED_M,
    Account,
    MakeHarness,
    buyer,
    make_order,
    seed,
)
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.mapping import STATUSES

from omnisdk import Capability, MappingError, OrderUpdate, WriteResult
from omnisdk.models import ChannelEvent, EventKind, OrderStatus
from omnisdk.store import AccountStatus, MovementKind
from omnisdk.testing.sandbox import dumps


def kinds(harness: Any, sku: str = SKU_RED_M) -> list[str]:
    """The kinds of the ledger entries of ``sku``, in order."""
    return [entry.kind.value for entry in harness.store.ledger_entries(sku=sku)]


def level(harness: Any, sku: str = SKU_RED_M, location: str = "main") -> tuple[int, int]:
    """(on hand, reserved) of ``sku`` at ``location``."""
    found = harness.store.stock_level(sku, location)
    return found.on_hand, found.reserved


async def two_shops(make_harness: MakeHarness, *skus: str, stock: int = 10) -> Any:
    """Two example accounts listing ``skus``, with ``stock`` on hand at the main location."""
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    await seed(harness, *(skus or (SKU_RED_M,)))
    for sku in skus or (SKU_RED_M,):
        await harness.engine.set_stock(sku, stock)
    await harness.engine.push()
    harness.recorder.calls.clear()
    return harness


async def test_a_new_order_reserves_and_queues_a_push_to_every_listing(
    make_harness: MakeHarness,
) -> None:
    harness = await two_shops(make_harness)
    result = await harness.engine.ingest_order(make_order(customer=buyer()))
    assert (result.created, result.applied, result.changed) == (True, True, True)
    assert result.movements == 1
    assert level(harness) == (10, 2)
    assert kinds(harness)[-1] == "reserve"
    pending = {(p.account, p.sku) for p in harness.store.pending_pushes()}
    assert pending == {("shop-a", SKU_RED_M), ("shop-b", SKU_RED_M)}
    received = harness.recorder.of("order_received")
    assert [(c["order"].channel_ref.external_id, c["is_new"]) for c in received] == [
        ("2407VN0001", True)
    ]
    assert harness.recorder.of("order_status_changed")[0]["previous"] is None
    changed = harness.recorder.of("stock_changed")
    assert [(c["sku"], c["on_hand"], c["reserved"]) for c in changed] == [(SKU_RED_M, 10, 2)]
    # The order's own channel already took the units off its listing: its figure stays put.
    stats = await harness.engine.push()
    assert stats.account("shop-a").unchanged == 1
    assert (
        await harness.listed("shop-a", SKU_RED_M),
        await harness.listed("shop-b", SKU_RED_M),
    ) == (10, 8)


async def test_the_same_order_twice_is_applied_once(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    order = make_order()
    await harness.engine.ingest_order(order)
    again = await harness.engine.ingest_order(order)
    assert (again.applied, again.changed, again.movements) == (True, False, 0)
    assert level(harness) == (10, 2)
    assert kinds(harness).count("reserve") == 1
    assert len(harness.recorder.of("order_received")) == 1


async def test_an_older_version_after_a_newer_one_changes_nothing(
    make_harness: MakeHarness,
) -> None:
    harness = await two_shops(make_harness)
    await harness.engine.ingest_order(make_order(status=OrderStatus.SHIPPED, minutes=10))
    late = await harness.engine.ingest_order(make_order(status=OrderStatus.CONFIRMED, minutes=5))
    assert late.applied is False
    assert level(harness) == (8, 0)
    stored = harness.store.get_order("shop-a", "2407VN0001")
    assert stored is not None and stored.order.status is OrderStatus.SHIPPED


async def test_an_order_first_seen_shipped_reserves_and_commits(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    result = await harness.engine.ingest_order(make_order(status=OrderStatus.DELIVERED))
    assert result.movements == 2
    assert kinds(harness)[-2:] == ["reserve", "commit"]
    assert level(harness) == (8, 0)


async def test_statuses_move_stock_along_the_order(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness, SKU_RED_M, SKU_RED_L)
    engine = harness.engine
    lines = {SKU_RED_M: 2, SKU_RED_L: 1}
    await engine.ingest_order(make_order("A", lines=lines, status=OrderStatus.PENDING))
    assert (level(harness), level(harness, SKU_RED_L)) == ((10, 2), (10, 1))
    await engine.ingest_order(make_order("A", lines=lines, status=OrderStatus.SHIPPED, minutes=1))
    assert (level(harness), level(harness, SKU_RED_L)) == ((8, 0), (9, 0))
    await engine.ingest_order(make_order("A", lines=lines, status=OrderStatus.RETURNED, minutes=2))
    assert (level(harness), level(harness, SKU_RED_L)) == ((10, 0), (10, 0))
    assert kinds(harness)[-3:] == ["reserve", "commit", "release"]

    await engine.ingest_order(make_order("B", status=OrderStatus.CONFIRMED))
    await engine.ingest_order(make_order("B", status=OrderStatus.CANCELLED, minutes=1))
    assert level(harness) == (10, 0)
    previous = [c["previous"] for c in harness.recorder.of("order_status_changed")]
    assert previous == [None, OrderStatus.PENDING, OrderStatus.SHIPPED, None, OrderStatus.CONFIRMED]


async def test_a_quantity_edit_moves_only_the_difference(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness, SKU_RED_M, SKU_HAT)
    engine = harness.engine
    await engine.ingest_order(make_order("C", lines={SKU_RED_M: 2}))
    await engine.ingest_order(make_order("C", lines={SKU_RED_M: 3, SKU_HAT: 1}, minutes=1))
    assert (level(harness), level(harness, SKU_HAT)) == ((10, 3), (10, 1))
    await engine.ingest_order(make_order("C", lines={SKU_HAT: 1}, minutes=2))
    assert (level(harness), level(harness, SKU_HAT)) == ((10, 0), (10, 1))
    keys = [e.key for e in harness.store.ledger_entries(sku=SKU_RED_M) if e.reference]
    assert len(keys) == len(set(keys))


async def test_a_pick_up_order_reserves_at_the_chosen_store(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    await harness.engine.set_stock(SKU_RED_M, 3, location=HCM)
    await harness.engine.ingest_order(make_order(pickup=HCM, lines={SKU_RED_M: 1}))
    assert level(harness, location=HCM) == (3, 1)
    assert level(harness) == (10, 0)


async def test_an_app_recorded_chat_order_goes_the_same_way(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    order = make_order(
        "chat-0042",
        account="fb-page",
        channel="facebook",
        customer=buyer("Trần Thị Bích", phone="0987 654 321"),
    )
    result = await harness.engine.record_order(order.model_dump(mode="json"))
    assert result.created and result.customer_id is not None
    assert level(harness) == (10, 2)
    await harness.engine.push()
    assert await harness.listed("shop-a", SKU_RED_M) == 8
    assert await harness.listed("shop-b", SKU_RED_M) == 8
    # No order API behind it: the app moves it along itself.
    shipped = await harness.engine.update_order(
        "fb-page", "chat-0042", OrderStatus.SHIPPED, tracking_number="GHN-123"
    )
    assert shipped.status is OrderStatus.SHIPPED
    assert level(harness) == (8, 0)
    stored = harness.store.get_order("fb-page", "chat-0042")
    assert stored is not None and stored.order.tracking_number == "GHN-123"


async def test_an_invalid_app_order_is_refused_with_where(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    bad = make_order().model_dump(mode="json")
    bad["lines"][0]["quantity"] = 0
    with pytest.raises(MappingError, match=r"lines\.0\.quantity"):
        await harness.engine.record_order(bad)


class FulfillingChannel(ExampleChannel):
    """The Example channel plus order updates (moving the order along the sandbox's flow)."""

    name = "example-fulfilling"
    capabilities = ExampleChannel.capabilities | {Capability.WRITE_ORDERS}

    async def update_order(self, update: OrderUpdate) -> WriteResult:
        """Advance the order on the platform until it shows the status asked for."""
        for _ in range(6):
            order = await self.get_order(update.external_id)
            if order.status is update.status:
                return WriteResult.success(update.external_id)
            response = await self.http.request(
                "POST", f"/_sandbox/orders/{update.external_id}/advance"
            )
            if response.status_code != 200:
                break
        return WriteResult.failure(update.external_id, "cannot reach that status", code="flow")


async def test_fulfilment_flows_back_to_a_channel_that_takes_it(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-f", channel_class=FulfillingChannel))
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, 5)
    await harness.engine.push()
    order_id = await harness.controls["shop-f"].place_order([(SKU_RED_M, 2)])
    await harness.engine.poll_orders("shop-f")
    await harness.engine.update_order("shop-f", order_id, OrderStatus.SHIPPED)
    assert harness.sandboxes["shop-f"].orders[order_id]["status"] == "shipped"  # type: ignore[attr-defined]
    assert level(harness) == (3, 0)
    stats = await harness.engine.poll_orders("shop-f")
    assert stats.updated == 0 and level(harness) == (3, 0)


async def test_polling_follows_its_cursor(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    control = harness.controls["shop-a"]
    ids = [await control.place_order([(SKU_RED_M, 1)]) for _ in range(3)]
    first = await harness.engine.poll_orders("shop-a")
    assert (first.seen, first.new) == (3, 3)
    assert first.cursor is not None
    assert harness.store.get_cursor("shop-a", "orders") == first.cursor.isoformat()
    again = await harness.engine.poll_orders("shop-a")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)  # the overlap re-reads
    await control.advance_order(ids[0])  # paid
    await control.advance_order(ids[0])  # packed
    await control.advance_order(ids[0])  # shipped
    moved = await harness.engine.poll_orders("shop-a")
    assert moved.updated == 1
    assert level(harness) == (9, 2)
    stats = harness.recorder.of("sync_finished")
    assert [s["stats"]["new"] for s in stats] == [3, 0, 0]


async def test_a_poll_cursor_far_in_the_past_only_reads_the_overlap(
    make_harness: MakeHarness,
) -> None:
    harness = await two_shops(make_harness)
    await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
    future = harness.sandboxes["shop-a"].clock.now() + timedelta(hours=1)
    harness.store.set_cursor("shop-a", "orders", future.isoformat())
    stats = await harness.engine.poll_orders("shop-a")
    assert stats.seen == 0  # newer than anything: nothing re-read, cursor kept
    assert harness.store.get_cursor("shop-a", "orders") == future.isoformat()


async def test_one_unreadable_order_is_quarantined_and_the_others_go_on(
    make_harness: MakeHarness,
) -> None:
    harness = await two_shops(make_harness)
    control = harness.controls["shop-a"]
    ids = [await control.place_order([(SKU_RED_M, 1)]) for _ in range(3)]
    sandbox: Any = harness.sandboxes["shop-a"]
    sandbox.orders[ids[1]]["status"] = "lost-in-transit"
    assert "lost-in-transit" not in STATUSES
    stats = await harness.engine.poll_orders("shop-a")
    # The order the channel could not map is counted, not a silent 0.
    assert (stats.seen, stats.new, stats.quarantined) == (3, 2, 1)
    assert harness.recorder.of("sync_finished")[-1]["stats"]["quarantined"] == 1
    kept = harness.store.list_quarantine(account="shop-a")
    assert [(q.kind, q.external_id) for q in kept] == [("order", ids[1])]
    assert "lost-in-transit" in kept[0].reason
    assert level(harness) == (10, 2)


def signed_events(
    harness: Any, account: str, topic: str, data: dict[str, Any]
) -> list[ChannelEvent]:
    """The events the account's channel reads from a delivery the sandbox signed."""
    from omnisdk import WebhookRequest

    sandbox = harness.sandboxes[account]
    body = dumps({"topic": topic, "created_at": sandbox.clock.now(), "data": data})
    request = WebhookRequest(body=body, headers=sandbox.sign_webhook(topic, body))
    events: list[ChannelEvent] = harness.engine.channels[account].receive_webhook(request)
    return events


async def test_webhooks_are_hints_and_a_redelivery_is_a_no_op(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    sandbox: Any = harness.sandboxes["shop-a"]
    order_id = await harness.controls["shop-a"].place_order([(SKU_RED_M, 2)])
    events = signed_events(harness, "shop-a", "order.created", sandbox.orders[order_id])
    await harness.engine.handle_events("shop-a", events)
    await harness.engine.handle_events("shop-a", events)  # the platform redelivers
    assert level(harness) == (10, 2)
    assert len(harness.recorder.of("order_received")) == 1
    # A hint without the order: the engine fetches it.
    await harness.controls["shop-a"].cancel_order(order_id)
    hint = ChannelEvent(
        kind=EventKind.ORDER_CANCELLED,
        channel="example",
        account="shop-a",
        topic="order.cancelled",
        delivery_id="d-2",
        external_id=order_id,
    )
    await harness.engine.handle_events("shop-a", [hint])
    assert level(harness) == (10, 0)
    # A delivery that cannot be processed is quarantined; the next one still goes.
    broken = ChannelEvent(
        kind=EventKind.ORDER_UPDATED,
        channel="example",
        account="shop-a",
        topic="order.updated",
        delivery_id="d-3",
        external_id="ord_missing",
        raw={"id": "ord_missing"},
    )
    second = await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
    good = signed_events(harness, "shop-a", "order.created", sandbox.orders[second])
    await harness.engine.handle_events("shop-a", [broken, *good])
    assert [q.kind for q in harness.store.list_quarantine()] == ["webhook"]
    assert level(harness) == (10, 1)


async def test_a_deauthorisation_webhook_stops_the_account(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    event = ChannelEvent(
        kind=EventKind.CHANNEL_DEAUTHORISED,
        channel="example",
        account="shop-b",
        topic="app/uninstalled",
        delivery_id="u-1",
    )
    await harness.engine.handle_events("shop-b", [event])
    await harness.engine.handle_events("shop-b", [event.model_copy(update={"delivery_id": "u-2"})])
    account = harness.store.get_account("shop-b")
    assert account is not None and account.status is AccountStatus.NEEDS_REAUTH
    assert len(harness.recorder.of("needs_reauthorisation")) == 1


async def test_a_stock_movement_key_is_never_applied_twice(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    engine = harness.engine
    assert await engine.adjust_stock(SKU_RED_M, 5, key="delivery-note-77") is True
    assert await engine.adjust_stock(SKU_RED_M, 5, key="delivery-note-77") is False
    assert await engine.set_stock(SKU_RED_M, 4, key="count-2026-11") is True
    assert await engine.set_stock(SKU_RED_M, 9, key="count-2026-11") is False
    assert level(harness) == (4, 0)
    reasons = [c["reason"] for c in harness.recorder.of("stock_changed")]
    assert reasons == [MovementKind.ADJUST.value, MovementKind.COUNT.value]


async def test_hooks_fire_after_the_commit(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    from omnisdk import hookimpl
    from omnisdk.store import Store

    seen: list[Any] = []
    other = Store(harness.engine.config.store.url)

    class Peek:
        @hookimpl
        def omnisdk_order_received(self, order: Any, is_new: bool) -> None:
            ref = order.channel_ref
            # Another connection sees the order: the transaction has committed.
            seen.append(other.get_order(ref.account, ref.external_id))

    harness.engine.plugins.register(Peek(), name="peek")
    try:
        await harness.engine.ingest_order(make_order())
    finally:
        other.close()
    assert seen and seen[0] is not None


async def test_a_failing_hook_never_breaks_the_engine(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness)
    from omnisdk import hookimpl

    class Broken:
        @hookimpl
        def omnisdk_stock_changed(
            self, sku: str, location: str, on_hand: int, reserved: int, reason: str
        ) -> None:
            raise RuntimeError("app bug")

    harness.engine.plugins.register(Broken(), name="broken")
    result = await harness.engine.ingest_order(make_order())
    assert result.changed and level(harness) == (10, 2)
