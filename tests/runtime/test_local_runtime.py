"""The local runtime's loops, wake-ups and shutdown, over a recording stand-in for the engine.

The runtime only schedules engine operations; these tests check the scheduling (intervals,
waking pushers at once, error back-off, graceful and forced shutdown, webhooks end to end)
with an engine whose operations record their calls. The runtime over the real engine is
exercised by the subprocess test of ``omnisdk run`` and by the demo.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk import ChannelEvent, EventKind, Plugins
from omnisdk.channel import Channel
from omnisdk.config import ChannelConfig, Config, EngineConfig, PollIntervals
from omnisdk.runtime import LocalRuntime
from omnisdk.store import Store, open_store
from omnisdk.sync.intake import SyncStats
from omnisdk.sync.pusher import AccountPushStats, PushStats
from omnisdk.testing import BuyerLine, BuyerOrder, ContributeChannels, LoopbackServer, SeedProduct

ACCOUNTS = ("hanoi-shop", "saigon-shop")


class RecordingEngine:
    """Stands in for ``omnisdk.sync.engine.Engine``: records what the runtime asks of it."""

    def __init__(self, config: Config, channels: dict[str, Channel], store: Store) -> None:
        self.config = config
        self.channels = channels
        self.store = store
        self.plugins = Plugins(entry_points=False)
        self.calls: list[tuple[str, str | None, float]] = []
        self.new_orders = 0
        self.dirty = 0
        self.drained: set[str] = set()
        self.events: list[tuple[str, list[ChannelEvent]]] = []
        self.push_delay = 0.0
        self.push_started = asyncio.Event()
        self.pushes_finished = 0
        self.poll_failures = 0
        self.fail_events = False

    def _record(self, name: str, account: str | None) -> None:
        self.calls.append((name, account, time.monotonic()))

    def count(self, name: str, account: str | None = None) -> int:
        return sum(1 for n, a, _ in self.calls if n == name and (account is None or a == account))

    async def poll_orders(self, account: str) -> SyncStats:
        self._record("poll", account)
        if self.poll_failures:
            self.poll_failures -= 1
            raise RuntimeError("Shopee trả về lỗi 500")
        if self.new_orders:
            # As the engine does after committing an order's stock movements.
            self.new_orders -= 1
            self.dirty += 1
            self.plugins.hook.omnisdk_stock_changed(
                sku="NON-LA-HUE", location="main", on_hand=40, reserved=2, reason="reserve"
            )
        return SyncStats(account=account, stream="orders")

    async def poll_customers(self, account: str) -> SyncStats:
        self._record("poll_customers", account)
        return SyncStats(account=account, stream="customers")

    async def poll_products(self, account: str) -> SyncStats:
        self._record("poll_products", account)
        return SyncStats(account=account, stream="products")

    async def push(self, account: str | None = None) -> PushStats:
        self._record("push", account)
        self.push_started.set()
        await asyncio.sleep(self.push_delay)
        self.pushes_finished += 1
        claimed = 0
        if self.dirty and account is not None and account not in self.drained:
            self.drained.add(account)
            claimed = 1
            if len(self.drained) == len(ACCOUNTS):
                self.dirty, self.drained = self.dirty - 1, set()
        return PushStats(accounts=[AccountPushStats(account=account or "", claimed=claimed)])

    async def reconcile(self, accounts: list[str] | None = None) -> dict[str, int]:
        self._record("reconcile", accounts[0] if accounts else None)
        return {}

    async def handle_events(self, account: str, events: list[ChannelEvent]) -> None:
        self._record("events", account)
        if self.fail_events:
            raise RuntimeError("database is locked")
        self.events.append((account, events))
        self.plugins.hook.omnisdk_stock_changed(
            sku="NON-LA-HUE", location="main", on_hand=40, reserved=2, reason="reserve"
        )


@pytest.fixture
def sandbox() -> Iterator[ExampleSandbox]:
    emulator = ExampleSandbox()
    with emulator.lock:
        emulator.seed_products(
            [SeedProduct(sku="NON-LA-HUE", title="Nón lá Huế", price=85000, stock=40)]
        )
    yield emulator
    emulator.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'omnisdk.db'}")
    for account in ACCOUNTS:
        opened.ensure_account(account, "example")
    yield opened
    opened.close()


def make_engine(
    sandbox: ExampleSandbox,
    store: Store,
    *,
    orders: float = 3600,
    push: float = 3600,
    stock: float | None = None,
    public_url: str | None = None,
) -> RecordingEngine:
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(ExampleChannel), name="example")
    settings = sandbox.channel_settings("http://sandbox.test")
    poll = {"orders": timedelta(seconds=orders)}
    if stock is not None:
        poll["stock"] = timedelta(seconds=stock)
    config = Config(
        engine=EngineConfig(
            push_interval=timedelta(seconds=push),
            reconcile_interval=timedelta(hours=1),
            webhook_public_url=public_url,
        ),
        channels=[
            ChannelConfig(name=name, type="example", settings=settings, poll=PollIntervals(**poll))
            for name in ACCOUNTS
        ],
    )
    channels: dict[str, Channel] = {
        name: ExampleChannel(settings, account=name, plugins=plugins) for name in ACCOUNTS
    }
    return RecordingEngine(config, channels, store)


async def eventually(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def running(sandbox: ExampleSandbox, store: Store) -> AsyncIterator[Any]:
    started: list[LocalRuntime] = []

    async def start(engine: RecordingEngine, **options: Any) -> LocalRuntime:
        runtime = LocalRuntime(engine, port=0, **options)  # type: ignore[arg-type]
        await runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.stop()


async def test_every_account_is_polled_at_start_and_on_its_interval(
    sandbox: ExampleSandbox, store: Store, running: Any
) -> None:
    engine = make_engine(sandbox, store, orders=0.05)

    runtime = await running(engine, webhooks=False)

    await eventually(lambda: all(engine.count("poll", a) >= 3 for a in ACCOUNTS))
    await asyncio.wait_for(runtime.initial_sync_done.wait(), 1)
    assert runtime.stats.of(ACCOUNTS[0]).polls >= 3


async def test_pushers_wake_at_once_when_stock_changes_not_at_the_tick(
    sandbox: ExampleSandbox, store: Store, running: Any
) -> None:
    engine = make_engine(sandbox, store, orders=3600, push=3600)
    runtime = await running(engine, webhooks=False, initial_poll=False)
    await eventually(lambda: engine.count("push") == 2)  # each pusher drains once at start
    runtime.poll_now(ACCOUNTS[0])
    await eventually(lambda: engine.count("poll") == 1)
    await asyncio.sleep(0.1)
    assert engine.count("push") == 2  # a poll that changed no stock wakes nobody

    engine.new_orders = 1
    runtime.poll_now(ACCOUNTS[0])

    # Woken by the stock change: each pusher finds work, goes again, finds none, stops.
    await eventually(lambda: engine.count("poll") == 2 and engine.count("push") == 6)
    await asyncio.sleep(0.1)
    assert engine.count("push") == 6
    assert sorted(a for n, a, _ in engine.calls[-4:] if n == "push") == sorted(ACCOUNTS * 2)


async def test_a_stock_change_from_another_thread_wakes_the_pushers(
    sandbox: ExampleSandbox, store: Store, running: Any
) -> None:
    engine = make_engine(sandbox, store, push=3600)
    await running(engine, webhooks=False, initial_poll=False)
    await eventually(lambda: engine.count("push") == 2)

    await asyncio.to_thread(
        engine.plugins.hook.omnisdk_stock_changed,
        sku="AO-DAI",
        location="main",
        on_hand=3,
        reserved=0,
        reason="count",
    )

    await eventually(lambda: engine.count("push") == 4)


async def test_a_failing_poll_is_retried_with_back_off_and_counted(
    sandbox: ExampleSandbox, store: Store, running: Any
) -> None:
    engine = make_engine(sandbox, store, orders=3600)
    engine.poll_failures = 2

    runtime = await running(engine, webhooks=False)

    await eventually(lambda: engine.count("poll") >= 4)  # 2 failures, then both succeed
    failed = [runtime.stats.of(a) for a in ACCOUNTS]
    assert sum(activity.errors for activity in failed) == 2
    assert any("lỗi 500" in (activity.last_error or "") for activity in failed)


async def test_stock_read_back_runs_on_the_accounts_poll_stock_interval(
    sandbox: ExampleSandbox, store: Store, running: Any
) -> None:
    engine = make_engine(sandbox, store, stock=0.05)

    await running(engine, webhooks=False, initial_poll=False)

    await eventually(lambda: all(engine.count("reconcile", a) >= 2 for a in ACCOUNTS))


async def test_stop_lets_an_in_flight_push_finish(sandbox: ExampleSandbox, store: Store) -> None:
    engine = make_engine(sandbox, store)
    engine.push_delay = 0.3
    runtime = LocalRuntime(engine, webhooks=False, grace=5.0)  # type: ignore[arg-type]
    await runtime.start()
    await asyncio.wait_for(engine.push_started.wait(), 2)

    await runtime.stop()

    assert engine.pushes_finished == engine.count("push")
    assert engine.pushes_finished >= 1


async def test_stop_abandons_work_that_outlives_the_grace_period(
    sandbox: ExampleSandbox, store: Store
) -> None:
    engine = make_engine(sandbox, store)
    engine.push_delay = 30
    runtime = LocalRuntime(engine, webhooks=False, grace=0.2)  # type: ignore[arg-type]
    await runtime.start()
    await asyncio.wait_for(engine.push_started.wait(), 2)

    await asyncio.wait_for(runtime.stop(), 5)

    assert engine.pushes_finished == 0
    assert all(
        task.done() for task in asyncio.all_tasks() if task.get_name().startswith("omnisdk:")
    )


async def test_a_platform_webhook_reaches_the_engine_and_wakes_the_pushers(
    sandbox: ExampleSandbox, store: Store, running: Any
) -> None:
    engine = make_engine(sandbox, store)
    runtime = await running(engine, initial_poll=False)
    await eventually(lambda: engine.count("push") == 2)
    with LoopbackServer(sandbox.app):
        sandbox.webhook_url = runtime.webhook_url(ACCOUNTS[1])
        with sandbox.lock:
            sandbox.place_order(
                BuyerOrder(
                    lines=[BuyerLine(sku="NON-LA-HUE", quantity=2)],
                    customer={"name": "Trần Thị Bích", "phone": "0912345602"},
                )
            )
        await sandbox.drain_webhooks(5)

    await eventually(lambda: engine.count("push") == 4)
    [(account, events)] = engine.events
    assert account == ACCOUNTS[1]
    assert events[0].kind is EventKind.ORDER_CREATED
    assert runtime.stats.of(ACCOUNTS[1]).webhook_batches == 1


async def test_a_webhook_the_engine_cannot_handle_makes_the_account_poll(
    sandbox: ExampleSandbox, store: Store, running: Any
) -> None:
    engine = make_engine(sandbox, store)
    engine.fail_events = True
    runtime = await running(engine, initial_poll=False)
    assert runtime.receiver is not None
    event = ChannelEvent(
        kind=EventKind.ORDER_CREATED, channel="example", account=ACCOUNTS[0], topic="order.created"
    )
    from omnisdk.webhooks import WebhookBatch

    runtime.receiver.enqueue(
        WebhookBatch(account=ACCOUNTS[0], events=[event], delivery_ids=("d-1",))
    )

    await eventually(lambda: engine.count("poll", ACCOUNTS[0]) == 1)
    assert engine.count("poll", ACCOUNTS[1]) == 0
    assert "database is locked" in (runtime.stats.of(ACCOUNTS[0]).last_error or "")


async def test_webhooks_accepted_but_not_yet_handled_are_handed_over_at_stop(
    sandbox: ExampleSandbox, store: Store
) -> None:
    engine = make_engine(sandbox, store)
    runtime = LocalRuntime(engine, port=0, initial_poll=False)  # type: ignore[arg-type]
    await runtime.start()
    assert runtime.receiver is not None
    from omnisdk.webhooks import WebhookBatch

    event = ChannelEvent(
        kind=EventKind.ORDER_UPDATED, channel="example", account=ACCOUNTS[0], topic="order.updated"
    )
    for number in range(3):
        runtime.receiver.enqueue(
            WebhookBatch(account=ACCOUNTS[0], events=[event], delivery_ids=(f"d-{number}",))
        )

    await runtime.stop()

    assert len(engine.events) == 3
    assert runtime.receiver.pending() == 0


async def test_the_receiver_port_is_released_on_stop(sandbox: ExampleSandbox, store: Store) -> None:
    engine = make_engine(sandbox, store)
    runtime = LocalRuntime(engine, port=0, initial_poll=False)  # type: ignore[arg-type]
    await runtime.start()
    base = runtime.webhook_base_url
    assert base is not None and base.startswith("http://127.0.0.1:")
    port = int(base.rsplit(":", 1)[1])

    await runtime.stop()

    again = LocalRuntime(engine, port=port, initial_poll=False)  # type: ignore[arg-type]
    await again.start()
    assert again.webhook_base_url == base
    await again.stop()


async def test_callback_urls_come_from_the_configuration(
    sandbox: ExampleSandbox, store: Store
) -> None:
    """The receiver tells channels the configured callback URL (never the Host header's)."""
    local = LocalRuntime(make_engine(sandbox, store), port=0, initial_poll=False)  # type: ignore[arg-type]
    await local.start()
    try:
        base = local.webhook_base_url
        assert local.webhook_public_url == base
        assert local.webhook_url(ACCOUNTS[0]) == f"{base}/webhooks/{ACCOUNTS[0]}"
        assert local.receiver is not None
        assert local.receiver.callback_url(ACCOUNTS[0]) == local.webhook_url(ACCOUNTS[0])
    finally:
        await local.stop()

    engine = make_engine(sandbox, store, public_url="https://hooks.cua-hang.example.vn/")
    proxied = LocalRuntime(engine, port=0, initial_poll=False)  # type: ignore[arg-type]
    await proxied.start()
    try:
        expected = f"https://hooks.cua-hang.example.vn/webhooks/{ACCOUNTS[1]}"
        assert proxied.webhook_url(ACCOUNTS[1]) == expected
        assert proxied.receiver is not None
        assert proxied.receiver.callback_url(ACCOUNTS[1]) == expected
        assert proxied.webhook_base_url != proxied.webhook_public_url
    finally:
        await proxied.stop()


@pytest.mark.parametrize(
    "url", ["hooks.example.vn", "ftp://hooks.example.vn", "https://", "https://h.vn/?a=1"]
)
def test_a_public_url_must_be_a_plain_http_base(url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        EngineConfig(webhook_public_url=url)
