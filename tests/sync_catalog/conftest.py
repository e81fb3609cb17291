"""Fixtures for the catalog, reconciliation and status tests.

An engine (``make_world``) runs against Example sandboxes in-process (httpx.ASGITransport)
and a real store: a SQLite file, or, for tests parametrised with ``BACKENDS``, also a fresh
PostgreSQL database per session (``OMNISDK_TEST_PG_URL``, default postgres@127.0.0.1:5432;
skipped when unreachable, a failure when CI=true).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

HERE = Path(__file__).resolve().parent
for path in (HERE.parent / "example_plugin", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
from _database_testkit import copy_of, empty_tables  # noqa: E402
from _sync_testkit import (  # noqa: E402
    Account,
    Clock,
    ListingChannel,
    ListingSandbox,
    Shop,
    World,
)
from omnisdk_example.channel import ExampleChannel  # noqa: E402
from omnisdk_example.sandbox import ExampleSandbox  # noqa: E402

from omnisdk import Plugins  # noqa: E402
from omnisdk.config import ChannelConfig, Config  # noqa: E402
from omnisdk.config.models import EngineConfig, StoreConfig  # noqa: E402
from omnisdk.store import Store  # noqa: E402
from omnisdk.sync.engine import Engine  # noqa: E402
from omnisdk.testing import ContributeChannels, SandboxControl, unthrottled  # noqa: E402
from omnisdk.testing.control import IN_PROCESS_URL  # noqa: E402


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless the test is parametrised with ``BACKENDS`` (indirect)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store database on ``backend``."""
    if backend == "sqlite":
        return copy_of(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("pg_url")
    empty_tables(url)
    return url


@pytest.fixture
def clock() -> Clock:
    """The clock of the store and the engine."""
    return Clock()


@pytest.fixture
def store(store_url: str, clock: Clock) -> Iterator[Store]:
    """A store on the test database."""
    opened = Store(store_url, clock=clock.now)
    yield opened
    opened.close()


MakeWorld = Callable[..., Awaitable[World]]


@pytest_asyncio.fixture
async def make_world(store: Store, clock: Clock) -> AsyncIterator[MakeWorld]:
    """Factory: ``await make_world(Account("shopee-hn", MARKUP), ...)`` -> an open World."""
    worlds: list[World] = []

    async def make(*accounts: Account, default_location: str = "main") -> World:
        plugins = Plugins(entry_points=False)
        plugins.register(ContributeChannels(ExampleChannel, ListingChannel), name="test-sync")
        shops: dict[str, Shop] = {}
        entries = []
        for spec in accounts:
            sandbox = ListingSandbox() if spec.listings else ExampleSandbox()
            shops[spec.name] = Shop(
                spec.name, sandbox, SandboxControl.for_sandbox(sandbox), spec.pricing, spec.listings
            )
            entries.append(
                ChannelConfig(
                    name=spec.name,
                    type=ListingChannel.name if spec.listings else ExampleChannel.name,
                    settings={
                        **sandbox.channel_settings(IN_PROCESS_URL),
                        "max_attempts": 1,
                        **spec.settings,
                    },
                    pricing=spec.pricing,
                    allocation=spec.allocation,
                )
            )
        config = Config(
            store=StoreConfig(url=str(store.url.render_as_string(False))),
            # These tests check each figure against the whole pool: the shared allocation.
            engine=EngineConfig(default_location=default_location, allocation="shared"),
            channels=entries,
        )
        transports = {
            name: httpx.ASGITransport(app=shop.sandbox.app) for name, shop in shops.items()
        }
        engine = Engine(
            config, plugins=plugins, store=store, transports=transports, clock=clock.now
        )
        await engine.open()
        for channel in engine.channels.values():
            unthrottled(channel)
        world = World(engine, shops)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        await world.engine.aclose()
        for shop in world.shops.values():
            await shop.control.aclose()
            shop.sandbox.close()
