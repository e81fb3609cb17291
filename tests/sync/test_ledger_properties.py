"""Property-based tests of the stock ledger: any interleaving, any duplicates, one outcome.

Orders are delivered as random sequences of their versions (each status and quantity),
shuffled, repeated and interleaved with manual adjustments. Whatever the sequence, on hand
and reserved must equal what the newest version of every order says, reserved must never go
negative and the ledger must sum to the levels.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from _engine_testkit import SKU_RED_M, Account, MakeHarness, buyer, make_order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnisdk import InsufficientStock
from omnisdk.config import Config, StoreConfig
from omnisdk.models import Money, OrderStatus, Product, StockEffect, Variant
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.store.listings import Holding
from omnisdk.sync import Engine
from omnisdk.sync.stock import line_target, plan_line

STATUSES = list(OrderStatus)

# -- the movement planner alone ---------------------------------------------------------------


@given(
    start=st.tuples(st.integers(0, 20), st.integers(0, 20)),
    targets=st.lists(
        st.tuples(st.sampled_from(list(StockEffect)), st.integers(1, 20)), min_size=1, max_size=12
    ),
)
def test_planned_movements_reach_any_target_without_negative_reservations(
    start: tuple[int, int], targets: list[tuple[StockEffect, int]]
) -> None:
    reserved, shipped = start
    on_hand_change = 0
    entries = 1
    for effect, quantity in targets:
        held = Holding(reserved=reserved, shipped=shipped, entries=entries)
        want_reserved, want_shipped = line_target(effect, quantity)
        for move in plan_line(held, want_reserved, want_shipped):
            reserved += move.reserved_delta
            on_hand_change += move.on_hand_delta
            shipped -= move.on_hand_delta
            assert reserved >= 0, f"{move} took the reservation below zero"
            entries += 1
        assert (reserved, shipped) == (want_reserved, want_shipped)
        # Stock that left is exactly what on hand lost (from the start's shipped units).
        assert on_hand_change == start[1] - shipped


# -- through the engine and the store ---------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One version of one order: its status and quantity at minute ``minute``."""

    order: int
    minute: int
    status: OrderStatus
    quantity: int


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Version], list[int | Version]]:
    """Versions of up to 4 orders, and a delivery sequence: shuffled, with duplicates and
    manual adjustments (ints) interleaved."""
    versions: list[Version] = []
    for order in range(draw(st.integers(1, 4))):
        count = draw(st.integers(1, 5))
        for minute in range(count):
            versions.append(
                Version(order, minute, draw(st.sampled_from(STATUSES)), draw(st.integers(1, 4)))
            )
    deliveries: list[int | Version] = list(versions)
    deliveries += draw(st.lists(st.sampled_from(versions), max_size=6))  # redeliveries
    deliveries += draw(st.lists(st.integers(-3, 5), max_size=4))  # manual adjustments
    shuffled = draw(st.permutations(deliveries))
    return versions, list(shuffled)


@pytest.fixture
def ledger_engine(sqlite_url: str) -> Iterator[Engine]:
    """An engine without channel accounts, on SQLite, driven from a private event loop."""
    store = Store(sqlite_url)
    engine = Engine(
        Config(store=StoreConfig(url=sqlite_url)), plugins=Plugins(entry_points=False), store=store
    )
    asyncio.run(engine.open())
    yield engine
    asyncio.run(engine.aclose())
    store.close()


def expected(versions: list[Version], adjustments: int) -> tuple[int, int]:
    """(on hand change, reserved) the newest version of each order leads to."""
    newest: dict[int, Version] = {}
    for version in versions:
        if version.order not in newest or version.minute > newest[version.order].minute:
            newest[version.order] = version
    on_hand, reserved = adjustments, 0
    for version in newest.values():
        effect = version.status.stock_effect
        if effect is StockEffect.RESERVE:
            reserved += version.quantity
        elif effect is StockEffect.COMMIT:
            on_hand -= version.quantity
    return on_hand, reserved


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories())
def test_any_delivery_order_of_versions_and_duplicates_converges(
    ledger_engine: Engine, history: tuple[list[Version], list[int | Version]]
) -> None:
    versions, deliveries = history
    run = uuid.uuid4().hex[:8]
    sku = f"ÁO-{run}"

    ledger_engine.store.upsert_product(
        Product(title="Áo thun", variants=[Variant(sku=sku, price=Money.of(129000, "VND"))])
    )

    async def deliver() -> int:
        adjustments = 0
        for index, item in enumerate(deliveries):
            if isinstance(item, int):
                before = ledger_engine.store.stock_level(sku, "main").on_hand
                try:
                    applied = await ledger_engine.adjust_stock(sku, item, key=f"{run}:adj:{index}")
                except InsufficientStock:
                    # A removal never takes on hand below zero: refused, nothing changed.
                    assert item < 0 and before + item < 0
                    assert ledger_engine.store.stock_level(sku, "main").on_hand == before
                    continue
                if applied:
                    adjustments += item
                # A redelivered adjustment (same key) changes nothing.
                assert not await ledger_engine.adjust_stock(sku, item, key=f"{run}:adj:{index}")
                continue
            order = make_order(
                f"{run}-{item.order}",
                account="pos-quay-1",
                channel="pos",
                status=item.status,
                lines={sku: item.quantity},
                minutes=item.minute,
            )
            await ledger_engine.ingest_order(order)
            level = ledger_engine.store.stock_level(sku, "main")
            assert level.reserved >= 0
        return adjustments

    adjustments = asyncio.run(deliver())
    level = ledger_engine.store.stock_level(sku, "main")
    assert (level.on_hand, level.reserved) == expected(versions, adjustments)
    entries = list(ledger_engine.store.ledger_entries(sku=sku))
    assert sum(e.on_hand_delta for e in entries) == level.on_hand
    assert sum(e.reserved_delta for e in entries) == level.reserved
    assert len({e.key for e in entries}) == len(entries)


async def test_concurrent_deliveries_apply_each_version_once(make_harness: MakeHarness) -> None:
    """Versions and redeliveries racing in worker threads (real concurrency on PostgreSQL)."""
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    engine = harness.engine
    await engine.add_listing("shop-a", SKU_RED_M)
    await engine.add_listing("shop-b", SKU_RED_M)
    flows = [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.SHIPPED]
    versions = [
        make_order(
            f"R{n}",
            account=("shop-a", "shop-b")[n % 2],
            status=status,
            lines={SKU_RED_M: n + 1},
            minutes=minute,
            customer=buyer(phone="0912345678"),
        )
        for n in range(4)
        for minute, status in enumerate(flows if n % 2 else [*flows[:2], OrderStatus.CANCELLED])
    ]
    deliveries = [*versions, *versions, *reversed(versions)]
    adjustments = [engine.adjust_stock(SKU_RED_M, 3, key=f"delivery-{n % 2}") for n in range(6)]
    results = await asyncio.gather(*(engine.ingest_order(o) for o in deliveries), *adjustments)
    assert sum(1 for r in results if r is True) == 2  # two distinct delivery keys
    level = harness.store.stock_level(SKU_RED_M, "main")
    # Orders 1 and 3 shipped (2 + 4 units), 0 and 2 were cancelled; +6 delivered.
    assert (level.on_hand, level.reserved) == (6 - 6, 0)
    customers = list(harness.store.iter_customers())
    assert len(customers) == 1  # one buyer, whatever the races
    entries = list(harness.store.ledger_entries(sku=SKU_RED_M))
    assert sum(e.on_hand_delta for e in entries) == level.on_hand
    assert len({e.key for e in entries}) == len(entries)


async def test_one_new_buyers_first_orders_at_once_make_one_customer(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    orders = [make_order(f"N{n}", customer=buyer(phone="0987654321")) for n in range(12)]
    results = await asyncio.gather(*(harness.engine.ingest_order(o) for o in orders))
    assert len({r.customer_id for r in results}) == 1
    assert len(list(harness.store.iter_customers())) == 1
