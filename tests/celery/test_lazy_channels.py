"""A worker opens an account's channel when a task for it first arrives, and keeps at most
``[celery] open_channels`` of them open, closing the least recently used between tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnisdk.config import Config
from omnisdk.plugins import Plugins
from omnisdk.runtime.celery.worker import WorkerEngine
from omnisdk.sync.engine import Engine

ACCOUNTS = [f"cua-hang-{index:02d}" for index in range(12)]


def _config(tmp_path: Path, open_channels: int) -> Config:
    return Config.model_validate(
        {
            "store": {"url": f"sqlite:///{tmp_path / 'omnisdk.db'}"},
            "celery": {"open_channels": open_channels, "queue": "lazy-test"},
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


@pytest.fixture
def plugins() -> Plugins:
    """Only the example channel."""
    from omnisdk_example.channel import ExampleChannel

    from omnisdk.testing import ContributeChannels

    registry = Plugins(entry_points=False)
    registry.register(ContributeChannels(ExampleChannel), name="example")
    return registry


async def _touch(engine: Engine, account: str) -> str:
    # What a task does first: look its account's channel up (and build its HTTP client).
    return engine.channel(account).http.account


def test_a_worker_opens_no_channel_until_a_task_needs_it(tmp_path: Path, plugins: Plugins) -> None:
    worker = WorkerEngine(_config(tmp_path, open_channels=3), plugins=plugins, budgets=None)
    try:
        engine = worker.engine
        assert engine.channels.open_accounts == []
        # Every account is known (registered in the store, listed by the pool) without a
        # channel built for it: the questions about all accounts are asked of the classes.
        assert sorted(engine.channels) == ACCOUNTS
        assert {row.name for row in worker.store.list_accounts()} == set(ACCOUNTS)
        assert engine._ctx.stock_accounts() == frozenset(ACCOUNTS)
        assert engine.channels.open_accounts == []

        assert worker.run(lambda e: _touch(e, "cua-hang-05")) == "cua-hang-05"
        assert engine.channels.open_accounts == ["cua-hang-05"]
        assert engine.channels.builds == 1
    finally:
        worker.close()


def test_the_least_recently_used_channels_are_closed_past_the_bound(
    tmp_path: Path, plugins: Plugins
) -> None:
    worker = WorkerEngine(_config(tmp_path, open_channels=3), plugins=plugins, budgets=None)
    try:
        engine = worker.engine
        for account in ACCOUNTS[:3]:
            worker.run(lambda e, a=account: _touch(e, a))
        first = engine.channels.peek(ACCOUNTS[0])
        assert first is not None
        client = first.http._client
        worker.run(lambda e: _touch(e, ACCOUNTS[0]))  # used again: now the most recent
        worker.run(lambda e: _touch(e, ACCOUNTS[3]))  # a fourth: the oldest (index 1) goes
        assert engine.channels.open_accounts == [ACCOUNTS[2], ACCOUNTS[0], ACCOUNTS[3]]
        assert engine.channels.closed == 1
        assert not client.is_closed
        # A closed account is built again when a task for it comes back, as a new channel.
        worker.run(lambda e: _touch(e, ACCOUNTS[1]))
        assert engine.channels.open_accounts == [ACCOUNTS[0], ACCOUNTS[3], ACCOUNTS[1]]
        assert engine.channels.builds == 5
    finally:
        worker.close()
    assert client.is_closed


def test_a_task_that_fails_still_leaves_the_bound_kept(tmp_path: Path, plugins: Plugins) -> None:
    worker = WorkerEngine(_config(tmp_path, open_channels=1), plugins=plugins, budgets=None)

    async def fails(engine: Engine) -> None:
        engine.channel(ACCOUNTS[0])
        engine.channel(ACCOUNTS[1])
        raise RuntimeError("the platform said no")

    try:
        with pytest.raises(RuntimeError, match="said no"):
            worker.run(fails)
        assert worker.engine.channels.open_accounts == [ACCOUNTS[1]]
        with pytest.raises(KeyError):
            worker.engine.channels["khong-co"]  # not configured: nothing is built
    finally:
        worker.close()
    assert worker._engine is None


async def test_the_embedded_engine_still_opens_every_account(
    tmp_path: Path, plugins: Plugins
) -> None:
    async with Engine(_config(tmp_path, open_channels=1), plugins=plugins) as engine:
        assert engine.channels.open_accounts == ACCOUNTS
    assert len(engine.channels) == 0 and engine.channels.open_accounts == []
