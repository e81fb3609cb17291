"""Many webhook deliveries of one account taken in together (``Engine.handle_event_batch``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _engine_testkit import SKU_RED_M, MakeHarness
from sqlalchemy import event
from test_order_intake import level, signed_events, two_shops

from omnisdk.models import ChannelEvent, EventKind


@contextmanager
def commits(harness: Any) -> Iterator[list[int]]:
    """Counts the store's commits inside the block (``[0]``)."""
    count = [0]

    def seen(_: object) -> None:
        count[0] += 1

    engine = harness.store.engine
    event.listen(engine, "commit", seen)
    try:
        yield count
    finally:
        event.remove(engine, "commit", seen)


async def _deliveries(harness: Any, orders: int) -> list[ChannelEvent]:
    """One signed ``order.created`` delivery per order placed on shop-a (1 unit each)."""
    sandbox: Any = harness.sandboxes["shop-a"]
    events = []
    for _ in range(orders):
        order_id = await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)])
        events += signed_events(harness, "shop-a", "order.created", sandbox.orders[order_id])
    return events


async def test_a_batch_is_one_page_each_order_once_and_a_second_take_changes_nothing(
    make_harness: MakeHarness,
) -> None:
    harness = await two_shops(make_harness, stock=20)
    with commits(harness) as one_by_one:
        await harness.engine.handle_events("shop-a", await _deliveries(harness, 4))
    events = await _deliveries(harness, 8)
    assert all(e.order is not None and e.delivery_id for e in events)
    doubled = [*events, *events[:3]]  # the platform delivered three of them twice
    with commits(harness) as batched:
        batch = await harness.engine.handle_event_batch("shop-a", doubled)
    assert (batch.events, batch.redelivered, batch.ingested, batch.one_by_one) == (11, 3, 8, 0)
    assert level(harness) == (20, 12)
    assert len(harness.recorder.of("order_received")) == 12
    # Set-based: 8 deliveries' orders went in with a few transactions, not one each.
    assert one_by_one[0] >= 4 and batched[0] <= 2, (one_by_one[0], batched[0])
    # A drain killed before it took the batch off its list takes it again: nothing twice.
    again = await harness.engine.handle_event_batch("shop-a", doubled)
    assert (again.redelivered, again.ingested) == (11, 0)
    assert level(harness) == (20, 12)
    assert len(harness.recorder.of("order_received")) == 12


async def test_a_few_hints_are_fetched_and_many_ask_for_a_poll(make_harness: MakeHarness) -> None:
    harness = await two_shops(make_harness, stock=20)
    placed = [await harness.controls["shop-a"].place_order([(SKU_RED_M, 1)]) for _ in range(4)]

    def hint(order_id: str, delivery: str) -> ChannelEvent:
        return ChannelEvent(
            kind=EventKind.ORDER_CREATED,
            channel="example",
            account="shop-a",
            topic="order.created",
            delivery_id=delivery,
            external_id=order_id,
        )

    few = [hint(order_id, f"h-{n}") for n, order_id in enumerate(placed[:2])]
    batch = await harness.engine.handle_event_batch("shop-a", [*few, few[0]])
    assert (batch.fetched, batch.ingested, batch.poll_needed) == (2, 2, False)
    assert level(harness) == (20, 2)
    many = [hint(order_id, f"m-{n}") for n, order_id in enumerate(placed)]
    batch = await harness.engine.handle_event_batch("shop-a", many * 2)
    # Every hint of a batch is fetched (each distinct order once): an order a poll would miss
    # still comes in.
    assert (batch.fetched, batch.poll_needed) == (4, False)
    assert level(harness) == (20, 4)
    from omnisdk.sync.intake import webhook_batches

    more = [hint(order_id, f"p-{n}") for n, order_id in enumerate(placed)]
    batch = await webhook_batches.handle_event_batch(
        harness.engine._ctx, "shop-a", more, max_fetches=3
    )
    assert (batch.fetched, batch.poll_needed) == (0, True)  # the caller queues a poll
