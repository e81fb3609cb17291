"""Webhook intake batched per account: one queued drain per account, idempotent when taken
again after a worker died before it trimmed its batch (real Redis, SQLite store)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from omnisdk.config import Config
from omnisdk.models import ChannelEvent, ChannelRef, EventKind, Money, Order, OrderLine, OrderStatus
from omnisdk.plugins import Plugins
from omnisdk.runtime.celery import tasks
from omnisdk.runtime.celery.intake import IntakeSender
from omnisdk.runtime.celery.worker import WorkerEngine

SKU = "AO-DAI-LUA-01"
ACCOUNTS = ["cua-hang-ha-noi", "cua-hang-sai-gon"]


@pytest.fixture
def config(tmp_path: Path, redis_url: str) -> Iterator[Config]:
    """Two example accounts on a SQLite store, Redis for the buffers and marks, a queue
    prefix of the test's own (the Redis is shared with other tests)."""
    from omnisdk.store import open_store

    url = f"sqlite:///{tmp_path / 'omnisdk.db'}"
    open_store(url).close()
    queue = f"intake-test-{uuid.uuid4().hex[:8]}"
    yield Config.model_validate(
        {
            "store": {"url": url},
            "celery": {"broker_url": redis_url, "queue": queue},
            "channels": [
                {
                    "name": name,
                    "type": "example",
                    "settings": {"api_token": "tok", "base_url": "http://127.0.0.1:9"},
                }
                for name in ACCOUNTS
            ],
        }
    )
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{queue}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def worker(config: Config, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerEngine]:
    """The worker engine the tasks use, on the example channel only."""
    from omnisdk_example.channel import ExampleChannel

    from omnisdk.testing import ContributeChannels

    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(ExampleChannel), name="example")
    engine = WorkerEngine(config, plugins=plugins)
    monkeypatch.setattr(tasks, "_worker", engine)
    yield engine
    engine.close()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """The messages the code under test sends (to no broker)."""
    messages: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(tasks, "send", lambda task, *args: messages.append((task, args)))
    return messages


def _delivery(account: str, number: int, units: int = 1) -> list[dict[str, Any]]:
    """One delivery's events as the receiver enqueues them: an order carried whole."""
    price = Money(amount=Decimal("350000"), currency="VND")
    when = datetime(2026, 12, 1, 9, number % 60, tzinfo=UTC)
    order = Order(
        channel_ref=ChannelRef(channel="example", account=account, external_id=f"DH{number:05d}"),
        number=f"#{number}",
        status=OrderStatus.CONFIRMED,
        currency="VND",
        lines=[OrderLine(sku=SKU, title="Áo dài lụa", quantity=units, unit_price=price)],
        subtotal=price * units,
        total=price * units,
        created_at=when,
        updated_at=when,
    )
    event = ChannelEvent(
        kind=EventKind.ORDER_CREATED,
        channel="example",
        account=account,
        topic="order.created",
        delivery_id=f"wh-{account}-{number}",
        order=order,
    )
    return [event.model_dump(mode="json")]


def _reserved(worker: WorkerEngine) -> int:
    return sum(level.reserved for level in worker.store.stock_levels(SKU))


def test_many_deliveries_send_one_drain_per_account(
    config: Config, sent: list[tuple[str, tuple[Any, ...]]]
) -> None:
    sender = IntakeSender(config, tasks.send)
    try:
        for number in range(30):
            sender(ACCOUNTS[number % 2], _delivery(ACCOUNTS[number % 2], number))
        assert sent == [
            ("omnisdk.drain_intake", (ACCOUNTS[0],)),
            ("omnisdk.drain_intake", (ACCOUNTS[1],)),
        ]
        assert sender.buffer is not None
        assert [sender.buffer.depth(account) for account in ACCOUNTS] == [15, 15]
    finally:
        sender.close()


def test_a_drain_takes_every_delivery_once_even_taken_again_after_a_kill(
    config: Config, worker: WorkerEngine, sent: list[tuple[str, tuple[Any, ...]]]
) -> None:
    sender = IntakeSender(config, tasks.send)
    account = ACCOUNTS[0]
    try:
        for number in range(40):
            sender(account, _delivery(account, number))
        sender(account, _delivery(account, 7))  # the platform delivered one twice
    finally:
        sender.close()
    buffer = worker.intake_buffer
    assert buffer is not None
    # A worker took the first 25 in and was SIGKILLed before it trimmed them off the list.
    first = [ChannelEvent.model_validate(e) for d in buffer.peek(account, 25) for e in d]
    worker.run(lambda engine: engine.handle_event_batch(account, first))
    assert _reserved(worker) == 25
    # Its message is delivered again: the same 25 come first, and change nothing twice.
    assert tasks.drain_intake(account) == "done"
    assert buffer.depth(account) == 0
    assert _reserved(worker) == 40
    stored = worker.store.get_orders((account, f"DH{n:05d}") for n in range(40))
    assert len(stored) == 40
    assert ("omnisdk.drain_intake", (account,)) in sent  # the receiver's one drain
    assert sent.count(("omnisdk.drain_intake", (account,))) == 1
