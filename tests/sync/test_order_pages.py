"""Pages of orders: one transaction and a few statements a page, the outcome of one by one.

The statement bounds are counts, not timings (the speed is measured by
``benchmarks/intake.py``): a page of duplicates writes nothing, a page of new orders or of
status changes runs a number of statements that does not grow with the page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from _database_testkit import copy_of, migrate
from _engine_testkit import (
    HCM,
    PHONE_AN,
    SKU_HAT,
    SKU_RED_L,
    SKU_RED_M,
    Recorder,
    buyer,
    make_order,
    plugins_with,
)
from sqlalchemy import event

from omnisdk import Capability, Channel, StoreError
from omnisdk.config import ChannelConfig, Config, EngineConfig, StoreConfig
from omnisdk.models import ChannelRef, Order, OrderStatus
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.sync.intake import IngestResult

PHONE_BINH = "+84987654321"
SKUS = (SKU_RED_M, SKU_RED_L, SKU_HAT)


class QueuedChannel(Channel):
    """A channel whose order stream is what the test queued (already mapped orders)."""

    name: ClassVar[str] = "queued"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ_ORDERS, Capability.WRITE_STOCK}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queued: list[Order] = []

    async def _queued(self) -> AsyncIterator[Order]:
        orders, self.queued = self.queued, []
        for order in orders:
            yield order

    def stream_orders(self, *, updated_since: datetime | None = None) -> AsyncIterator[Order]:
        return self._queued()


@dataclass
class Shop:
    """An open engine over two queued-channel accounts, and its hook recorder."""

    engine: Engine
    recorder: Recorder
    statements: list[str] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.engine.store

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        """The SQL statements run inside the block (an executemany counts once)."""
        self.statements.clear()

        def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            self.statements.append(statement.lstrip())

        event.listen(self.store.engine, "before_cursor_execute", count)
        try:
            yield self.statements
        finally:
            event.remove(self.store.engine, "before_cursor_execute", count)


def writes(statements: list[str]) -> list[str]:
    """The statements among ``statements`` that write (or open a SQLite write transaction)."""
    return [
        s
        for s in statements
        if s[:6].upper() in ("INSERT", "UPDATE", "DELETE") or s.upper().startswith("BEGIN IMM")
    ]


@pytest.fixture
def other_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A second empty store on ``backend``, beside ``store_url``."""
    if backend == "sqlite":
        (tmp_path / "other").mkdir()
        return copy_of(request.getfixturevalue("sqlite_template"), tmp_path / "other")
    return migrate(request.getfixturevalue("pg_databases").create())


async def open_shop(url: str) -> Shop:
    """An engine with accounts shop-a and shop-b listing every SKU, 50 of each on hand."""
    recorder = Recorder()
    plugins = plugins_with(QueuedChannel)
    plugins.register(recorder, name="recorder")
    config = Config(
        store=StoreConfig(url=url),
        engine=EngineConfig(default_location="main", locations=(HCM,)),
        channels=[
            ChannelConfig(name=name, type="queued", settings={}) for name in ("shop-a", "shop-b")
        ],
    )
    engine = Engine(config, plugins=plugins, store=Store(url))
    await engine.open()
    for sku in SKUS:
        for account in ("shop-a", "shop-b"):
            await engine.add_listing(account, sku)
        await engine.set_stock(sku, 50, key=f"count:{sku}")
        await engine.set_stock(sku, 20, location=HCM, key=f"count:{sku}:{HCM}")
    recorder.calls.clear()
    return Shop(engine, recorder)


@pytest.fixture
async def shops(store_url: str, other_url: str) -> AsyncIterator[tuple[Shop, Shop]]:
    """Two shops on two stores of the same database kind."""
    opened = [await open_shop(store_url), await open_shop(other_url)]
    yield opened[0], opened[1]
    for shop in opened:
        await shop.engine.aclose()
        shop.store.close()


def q(external_id: str, **kwargs: Any) -> Order:
    """An order of the queued channel (``make_order`` with channel ``queued``)."""
    return make_order(external_id, channel="queued", **kwargs)


def scenario() -> list[Order]:
    """New orders, repeat buyers, duplicates, newer and older versions, a pick-up, a merge."""
    an = buyer(phone=PHONE_AN)
    binh = buyer("Trần Thị Bình", phone=PHONE_BINH)
    first = q("A1", customer=an, lines={SKU_RED_M: 2, SKU_HAT: 1})
    return [
        first,
        q("A2", status=OrderStatus.PENDING, customer=binh, lines={SKU_RED_M: 1}),
        q("B1", account="shop-b", customer=buyer(phone=PHONE_AN, email="an@example.vn")),
        q("A3", pickup=HCM, lines={SKU_RED_L: 3}),
        first,
        q("A2", status=OrderStatus.CANCELLED, customer=binh, lines={SKU_RED_M: 1}, minutes=5),
        q("A1", status=OrderStatus.SHIPPED, customer=an, lines={SKU_RED_M: 2, SKU_HAT: 1},
          minutes=10),
        first,  # older than the shipped version: ignored
        q("A4", status=OrderStatus.SHIPPED, customer=binh, lines={SKU_HAT: 2}),
        q("B1", account="shop-b", lines={SKU_RED_M: 3}, minutes=5,
          customer=buyer(phone=PHONE_AN, email="an@example.vn")),
        # One buyer with both phones: An and Bình are one person, merged.
        q("B2", account="shop-b", customer=buyer("An Bình", phone=PHONE_AN).model_copy(
            update={"phones": [*buyer(phone=PHONE_AN).phones, *binh.phones]})),
        q("A5", status=OrderStatus.DELIVERED, customer=an, lines={SKU_RED_L: 1}),
    ]  # fmt: skip


def summary(result: IngestResult) -> tuple[Any, ...]:
    return (
        result.account,
        result.external_id,
        result.created,
        result.applied,
        result.changed,
        result.previous_status,
        result.status,
        result.movements,
        len(result.merges),
        result.customer_id is not None,
    )


def snapshot(shop: Shop) -> dict[str, Any]:
    """Everything intake leaves in the store and fires, without ids and clock values."""
    store = shop.store

    def buyer_keys(customer_id: str | None) -> tuple[str, ...]:
        found = store.get_customer(customer_id) if customer_id else None
        return found.match_keys if found is not None else ()

    hooks = []
    for name, kwargs in shop.recorder.calls:
        if name in ("order_received", "order_status_changed"):
            order = kwargs["order"]
            extra = kwargs.get("is_new", kwargs.get("previous"))
            hooks.append((name, order.channel_ref.external_id, order.status, extra))
        elif name == "stock_changed":
            hooks.append((name, *sorted(kwargs.items())))
        elif name == "customer_merged":
            hooks.append((name, kwargs["customer"].full_name, kwargs["merged"].full_name))
        else:
            hooks.append((name,))
    return {
        "orders": [
            (o.account, o.external_id, o.order.status, o.order.updated_at,
             buyer_keys(o.customer_id))
            for o in store.iter_orders()
        ],
        "ledger": [
            (e.key, e.sku, e.location, e.kind, e.on_hand_delta, e.reserved_delta, e.reference)
            for e in store.ledger_entries()
        ],
        "levels": [(lv.sku, lv.location, lv.on_hand, lv.reserved) for s in SKUS
                   for lv in store.stock_levels(s)],
        "listings": [(s.account, s.sku, s.seen_since_push) for s in store.list_listings()],
        "outbox": sorted((p.account, p.sku) for p in store.pending_pushes()),
        "customers": sorted(
            (c.customer.full_name or "", c.match_keys, c.merged_into is not None)
            for c in store.iter_customers(include_merged=True)
        ),
        "hooks": hooks,
    }  # fmt: skip


async def test_a_page_ends_as_one_order_after_the_other(shops: tuple[Shop, Shop]) -> None:
    single, paged = shops
    one_by_one = [await single.engine.ingest_order(order) for order in scenario()]
    in_a_page = await paged.engine.ingest_orders(scenario())
    assert all(isinstance(result, IngestResult) for result in in_a_page)
    assert [summary(r) for r in in_a_page if isinstance(r, IngestResult)] == [
        summary(r) for r in one_by_one
    ]
    expected, found = snapshot(single), snapshot(paged)
    for part in expected:
        assert found[part] == expected[part], part
    assert [h[0] for h in found["hooks"]].count("customer_merged") == 1
    # And again: nothing changes twice.
    again = await paged.engine.ingest_orders(scenario())
    assert not any(isinstance(r, IngestResult) and r.changed for r in again)
    assert snapshot(paged)["ledger"] == expected["ledger"]


async def test_a_page_of_duplicates_writes_nothing(shops: tuple[Shop, Shop]) -> None:
    shop = shops[0]
    page = [q(f"A{n}", customer=buyer(phone=f"+8491234{n:04d}")) for n in range(30)]
    await shop.engine.ingest_orders(page)
    calls = len(shop.recorder.calls)
    with shop.counting() as statements:
        results = await shop.engine.ingest_orders(page)
        alone = await shop.engine.record_order(page[0])
    assert writes(statements) == []
    assert len(statements) <= 4  # one read of the versions (and its BEGIN) per call
    assert all(isinstance(r, IngestResult) and r.applied and not r.changed for r in results)
    assert (alone.applied, alone.changed, alone.order_id) == (True, False, results[0].order_id)  # type: ignore[union-attr]
    assert len(shop.recorder.calls) == calls


async def test_an_older_version_in_a_page_writes_nothing(shops: tuple[Shop, Shop]) -> None:
    shop = shops[0]
    newer = q("A1", status=OrderStatus.SHIPPED, minutes=10)
    await shop.engine.ingest_order(newer)
    with shop.counting() as statements:
        (result,) = await shop.engine.ingest_orders([q("A1")])
    assert writes(statements) == []
    assert isinstance(result, IngestResult)
    assert (result.applied, result.changed, result.status) == (False, False, OrderStatus.SHIPPED)


PAGE = 40
STATEMENTS_PER_PAGE = 24
"""Measured on a page of 40: 18 for new orders (one account), 12-14 for status changes; one
by one they took ~45 and ~42 per order."""


async def test_statements_per_page_do_not_grow_with_the_page(shops: tuple[Shop, Shop]) -> None:
    shop = shops[0]
    new = [
        q(f"N{n}", customer=buyer(f"Khách {n}", phone=f"+8490{n:07d}"), lines={SKUS[n % 3]: 1})
        for n in range(PAGE)
    ]
    with shop.counting() as statements:
        results = await shop.engine.ingest_orders(new)
    assert all(isinstance(r, IngestResult) and r.created for r in results)
    assert len(statements) <= STATEMENTS_PER_PAGE, statements
    later = timedelta(minutes=5)
    shipped = [
        order.model_copy(
            update={"status": OrderStatus.SHIPPED, "updated_at": order.updated_at + later}
        )
        for order in new
    ]
    with shop.counting() as statements:
        results = await shop.engine.ingest_orders(shipped)
    assert all(isinstance(r, IngestResult) and r.changed and r.movements == 1 for r in results)
    assert len(statements) <= STATEMENTS_PER_PAGE, statements
    # The buyers did not change: they were not matched again (their records are only read,
    # once for the page, to notify them that their orders shipped).
    assert not any("omnisdk_customer_identities.match_key IN" in s for s in statements)
    assert not any(s.startswith(("INSERT INTO omnisdk_customer", "UPDATE omnisdk_customer"))
                   for s in statements)
    assert sum(lv.reserved for s in SKUS for lv in shop.store.stock_levels(s)) == 0


async def test_a_bad_order_in_a_polled_page_is_quarantined_and_the_others_land(
    shops: tuple[Shop, Shop],
) -> None:
    shop = shops[0]
    channel = shop.engine.channels["shop-a"]
    assert isinstance(channel, QueuedChannel)
    wrong_channel = q("A2").model_copy(
        update={"channel_ref": ChannelRef(channel="shopify", account="shop-a", external_id="A2")}
    )
    channel.queued = [q("A1"), wrong_channel, q("A3", lines={SKU_HAT: 1})]
    stats = await shop.engine.poll_orders("shop-a")
    assert (stats.seen, stats.new, stats.quarantined) == (3, 2, 1)
    kept = shop.store.list_quarantine(account="shop-a")
    assert [(entry.kind, entry.external_id) for entry in kept] == [("order", "A2")]
    assert "belongs to channel" in kept[0].reason
    assert [o.external_id for o in shop.store.iter_orders()] == ["A1", "A3"]
    assert shop.store.stock_level(SKU_RED_M, "main").reserved == 2
    received = [k["order"].channel_ref.external_id for k in shop.recorder.of("order_received")]
    assert received == ["A1", "A3"]


async def test_ingest_orders_puts_the_error_in_the_bad_orders_place(
    shops: tuple[Shop, Shop],
) -> None:
    shop = shops[0]
    wrong = q("A2").model_copy(
        update={"channel_ref": ChannelRef(channel="shopify", account="shop-a", external_id="A2")}
    )
    results = await shop.engine.ingest_orders([q("A1"), wrong, q("A3")])
    assert isinstance(results[1], StoreError)
    assert [r.external_id for r in results if isinstance(r, IngestResult)] == ["A1", "A3"]
    with pytest.raises(StoreError, match="belongs to channel"):
        await shop.engine.ingest_order(wrong)


async def test_overlapping_pages_at_once_apply_each_order_once(shops: tuple[Shop, Shop]) -> None:
    shop = shops[0]
    page = [
        q(f"C{n}", customer=buyer(phone=f"+8493{n % 5:07d}"), lines={SKUS[n % 3]: 1})
        for n in range(24)
    ]
    results = await asyncio.gather(
        shop.engine.ingest_orders(page),
        shop.engine.ingest_orders(list(reversed(page))),
        shop.engine.ingest_orders(page[6:18]),
    )
    for batch in results:
        assert all(isinstance(r, IngestResult) for r in batch)
    created = [r for batch in results for r in batch if isinstance(r, IngestResult) and r.created]
    assert sorted(r.external_id for r in created) == sorted(o.channel_ref.external_id for o in page)
    assert sum(lv.reserved for s in SKUS for lv in shop.store.stock_levels(s)) == 24
    assert len(list(shop.store.ledger_entries())) == 3 * 2 + 24  # the counts, then 24 reserves
    assert len(list(shop.store.iter_customers())) == 5


async def test_an_order_too_large_for_the_database_is_quarantined_and_the_others_land(
    shops: tuple[Shop, Shop],
) -> None:
    """Not only ``ValueError``: an ``OverflowError`` from the driver quarantines one order too.

    The models refuse 10**20 units (``MAX_QUANTITY``); an order built without validation
    (``model_copy``) still gets past them, and must not stop the stream either.
    """
    shop = shops[0]
    channel = shop.engine.channels["shop-a"]
    assert isinstance(channel, QueuedChannel)
    big = q("A2", lines={SKU_RED_L: 1})
    big = big.model_copy(update={"lines": [big.lines[0].model_copy(update={"quantity": 10**20})]})
    channel.queued = [q("A1"), big, q("A3", lines={SKU_HAT: 1})]
    stats = await shop.engine.poll_orders("shop-a")
    assert (stats.seen, stats.new, stats.quarantined) == (3, 2, 1)
    kept = shop.store.list_quarantine(account="shop-a")
    assert [(entry.kind, entry.external_id) for entry in kept] == [("order", "A2")]
    assert [o.external_id for o in shop.store.iter_orders()] == ["A1", "A3"]
    # The cursor moved past the bad order: the next poll does not stop at it again.
    channel.queued = [q("A4")]
    again = await shop.engine.poll_orders("shop-a")
    assert again.new == 1
