"""Test kit for the engine tests (tests/sync and tests/e2e): databases, sandboxes, engines.

Store-backed tests run on SQLite and on PostgreSQL: a fresh database ``omnisdk_test_<random>``
is created once per session on ``OMNISDK_TEST_PG_URL`` (default ``postgres@127.0.0.1:5432``)
and its tables are emptied before each test. When the server is unreachable the PostgreSQL
cases are skipped, except when ``CI=true``: then they fail.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from _database_testkit import BACKENDS, copy_of, empty_tables
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk import Channel, hookimpl
from omnisdk.allocation import AllocationRule
from omnisdk.config import ChannelConfig, Config, EngineConfig, PollIntervals, StoreConfig
from omnisdk.models import (
    ChannelRef,
    Customer,
    Email,
    FulfilmentMode,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Phone,
    Promotion,
)
from omnisdk.plugins import Plugins
from omnisdk.runtime import LocalRuntime
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing.control import IN_PROCESS_URL, SandboxControl
from omnisdk.testing.registration import ContributeChannels, unthrottled
from omnisdk.testing.sandbox import Sandbox

SKU_RED_M = "ÁO-THUN-ĐỎ-M"
SKU_RED_L = "ÁO-THUN-ĐỎ-L"
SKU_HAT = "NÓN-LÁ-HUẾ"
TITLE = "Áo thun cổ tròn"
PHONE_AN = "+84912345678"
HCM = "hcm-q1"
HANOI = "hn-hoan-kiem"


# -- databases ------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated, empty store database on ``backend``."""
    if backend == "sqlite":
        return copy_of(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("pg_url")
    empty_tables(url)
    return url


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated, empty SQLite store (for tests about the engine, not the database)."""
    return copy_of(request.getfixturevalue("sqlite_template"), tmp_path)


# -- time ---------------------------------------------------------------------------------


class Clock:
    """A clock tests move by hand; starts at the real time so sandbox timestamps line up."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move forward ``seconds``."""
        self.now += timedelta(seconds=seconds)
        return self.now


# -- hooks ----------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Records every event hook call the engine makes."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of(self, hook: str) -> list[dict[str, Any]]:
        """The arguments of every call of ``hook``."""
        return [kwargs for name, kwargs in self.calls if name == hook]

    @hookimpl
    def omnisdk_order_received(self, order: Order, is_new: bool) -> None:
        self.calls.append(("order_received", {"order": order, "is_new": is_new}))

    @hookimpl
    def omnisdk_order_status_changed(self, order: Order, previous: OrderStatus | None) -> None:
        self.calls.append(("order_status_changed", {"order": order, "previous": previous}))

    @hookimpl
    def omnisdk_stock_changed(
        self, sku: str, location: str, on_hand: int, reserved: int, reason: str
    ) -> None:
        self.calls.append(
            (
                "stock_changed",
                {
                    "sku": sku,
                    "location": location,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "reason": reason,
                },
            )
        )

    @hookimpl
    def omnisdk_customer_merged(self, customer: Customer, merged: Customer, reason: str) -> None:
        self.calls.append(
            ("customer_merged", {"customer": customer, "merged": merged, "reason": reason})
        )

    @hookimpl
    def omnisdk_sync_finished(self, account: str, stream: str, stats: dict[str, int]) -> None:
        self.calls.append(("sync_finished", {"account": account, "stream": stream, "stats": stats}))

    @hookimpl
    def omnisdk_push_failed(self, account: str, key: str, error: str, retryable: bool) -> None:
        self.calls.append(
            (
                "push_failed",
                {"account": account, "key": key, "error": error, "retryable": retryable},
            )
        )

    @hookimpl
    def omnisdk_channel_needs_reauthorisation(
        self, channel: str, account: str, reason: str
    ) -> None:
        self.calls.append(
            ("needs_reauthorisation", {"channel": channel, "account": account, "reason": reason})
        )


# -- engines over sandboxes -------------------------------------------------------------------


@dataclass
class Account:
    """One channel account of a test engine: its channel class, sandbox and options."""

    name: str
    channel_class: type[Channel] = ExampleChannel
    sandbox: Sandbox | None = None
    allocation: AllocationRule = field(default_factory=AllocationRule)
    location: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    """Reach the sandbox over the network at this URL (in-process when None)."""
    poll: PollIntervals = field(default_factory=PollIntervals)
    """The account's ``[channels.poll]`` intervals (the local runtime's loops follow them)."""


PLATFORMS = {
    "shopify-hcm": "omnisdk_shopify.channel:ShopifyChannel",
    "shopee-vn": "omnisdk_shopee.channel:ShopeeChannel",
    "lazada-vn": "omnisdk_lazada.channel:LazadaChannel",
    "pos-q1": "omnisdk_pos.channel:PosChannel",
    "facebook": "omnisdk_facebook.channel:FacebookChannel",
}
"""Every platform plugin, by the account name the tests give it (skipped when missing)."""


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None


def installed_platforms(only: tuple[str, ...] = ()) -> list[Account]:
    """An account (with a fresh sandbox) of every installed platform plugin of
    :data:`PLATFORMS` (of ``only``, when given)."""
    accounts = []
    for name, channel_path in PLATFORMS.items():
        if only and name not in only:
            continue
        channel_class = _load(channel_path)
        sandbox_class = _load(channel_class.sandbox) if channel_class is not None else None
        if sandbox_class is not None:
            accounts.append(Account(name, channel_class=channel_class, sandbox=sandbox_class()))
    return accounts


@dataclass
class Harness:
    """An open engine, its sandboxes and their control clients, and the hook recorder."""

    engine: Engine
    sandboxes: dict[str, Sandbox]
    controls: dict[str, SandboxControl]
    recorder: Recorder
    clock: Clock | None

    @property
    def store(self) -> Store:
        """The engine's store."""
        return self.engine.store

    async def listed(self, account: str, sku: str) -> int:
        """What the account's sandbox lists of ``sku`` now."""
        return int(self.sandboxes[account].listing(sku)["stock"])


MakeHarness = Callable[..., Awaitable[Harness]]


def engine_config(url: str, accounts: list[Account], **engine_settings: Any) -> Config:
    """The config of a test engine over ``accounts`` (sandbox settings filled in)."""
    entries = []
    for account in accounts:
        assert account.sandbox is not None
        settings = {
            **account.sandbox.channel_settings(account.base_url or IN_PROCESS_URL),
            **account.settings,
        }
        entries.append(
            ChannelConfig(
                name=account.name,
                type=account.channel_class.name,
                settings=settings,
                allocation=account.allocation,
                location=account.location,
                poll=account.poll,
            )
        )
    # Every test engine counts stock at "main" (the default) and the Hồ Chí Minh store.
    engine_settings.setdefault("default_location", "main")
    engine_settings.setdefault("locations", (HCM,))
    return Config(
        store=StoreConfig(url=url), engine=EngineConfig(**engine_settings), channels=entries
    )


def plugins_with(*channel_classes: type[Channel]) -> Plugins:
    """A registry with only the given channel classes (and the core's hooks)."""
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(*channel_classes), name="test-channels")
    return plugins


@pytest_asyncio.fixture
async def make_harness(store_url: str) -> AsyncIterator[MakeHarness]:
    """Factory: ``await make_harness(Account("shop-a"), ...)`` -> an open :class:`Harness`.

    Each account gets a fresh Example sandbox unless it brings one; channels reach their
    sandbox in-process (no socket) and are unthrottled. ``promotions`` go in the config's
    ``[[promotions]]``. ``clock=Clock()`` drives the engine's
    and the store's time; other keywords are ``[engine]`` settings. ``allocation`` is
    ``"shared"`` unless a test asks for ``"quota"``: the push mechanics tests check figures
    against the whole pool.
    """
    opened: list[Harness] = []
    owned: list[Sandbox] = []

    async def make(
        *accounts: Account,
        clock: Clock | None = None,
        plugins: Plugins | None = None,
        promotions: tuple[Promotion, ...] = (),
        **engine_settings: Any,
    ) -> Harness:
        for index, account in enumerate(accounts):
            if account.sandbox is None:
                account.sandbox = ExampleSandbox(seed=100 + index)
                owned.append(account.sandbox)
        classes = list(dict.fromkeys(a.channel_class for a in accounts))
        registry = plugins or plugins_with(*classes)
        recorder = Recorder()
        registry.register(recorder, name=f"recorder-{len(opened)}")
        engine_settings.setdefault("allocation", "shared")
        config = engine_config(store_url, list(accounts), **engine_settings)
        if promotions:
            config = config.model_copy(update={"promotions": list(promotions)})
        store = Store(store_url, clock=clock) if clock is not None else Store(store_url)
        transports = {
            a.name: httpx.ASGITransport(app=a.sandbox.app)
            for a in accounts
            if a.sandbox is not None and a.base_url is None
        }
        engine = Engine(config, plugins=registry, store=store, transports=transports, clock=clock)
        await engine.open()
        for channel in engine.channels.values():
            unthrottled(channel)
        harness = Harness(
            engine=engine,
            sandboxes={a.name: a.sandbox for a in accounts if a.sandbox is not None},
            controls={
                a.name: SandboxControl.for_sandbox(a.sandbox)
                for a in accounts
                if a.sandbox is not None
            },
            recorder=recorder,
            clock=clock,
        )
        opened.append(harness)
        return harness

    yield make
    for harness in opened:
        await harness.engine.aclose()
        harness.engine.store.close()
        for control in harness.controls.values():
            await control.aclose()
    for sandbox in owned:
        sandbox.close()


async def seed(harness: Harness, *skus: str, stock: int = 0, price: str = "129000") -> None:
    """Create listings of ``skus`` on every sandbox of ``harness`` and register them."""
    for account, control in harness.controls.items():
        await control.seed(
            [
                {"sku": sku, "title": TITLE, "price": price, "currency": "VND", "stock": stock}
                for sku in skus
            ]
        )
        for sku in skus:
            await harness.engine.add_listing(account, sku)


@asynccontextmanager
async def running(harness: Harness, **options: Any) -> AsyncIterator[LocalRuntime]:
    """The harness's engine running in the local runtime (as ``omnisdk run``) meanwhile.

    No webhook receiver unless ``webhooks=True``; other keywords go to :class:`LocalRuntime`.
    The runtime is stopped on exit (in-flight work finishes first).
    """
    runtime = LocalRuntime(harness.engine, **{"webhooks": False, **options})
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


# -- orders built in code -------------------------------------------------------------------

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def vnd(amount: int) -> Money:
    """An amount in dong."""
    return Money.of(amount, "VND")


def make_order(
    external_id: str = "2407VN0001",
    *,
    account: str = "shop-a",
    channel: str = "example",
    status: OrderStatus = OrderStatus.CONFIRMED,
    lines: dict[str, int] | None = None,
    minutes: int = 0,
    customer: Customer | None = None,
    pickup: str | None = None,
) -> Order:
    """An order of ``lines`` (SKU -> quantity; two red M T-shirts by default), in dong.

    ``minutes`` after T0 is its ``updated_at``: a larger value is a newer version.
    """
    lines = lines or {SKU_RED_M: 2}
    unit = vnd(129000)
    order_lines = [
        OrderLine(sku=sku, title=f"{TITLE} {sku}", quantity=quantity, unit_price=unit)
        for sku, quantity in lines.items()
    ]
    total = unit * sum(lines.values())
    return Order(
        channel_ref=ChannelRef(channel=channel, account=account, external_id=external_id),
        number=f"#{external_id}",
        status=status,
        currency="VND",
        lines=order_lines,
        subtotal=total,
        total=total,
        customer=customer,
        fulfilment=FulfilmentMode.PICKUP if pickup else FulfilmentMode.SHIP,
        pickup_location=pickup,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
    )


def buyer(
    name: str = "Nguyễn Văn An",
    *,
    phone: str | None = PHONE_AN,
    email: str | None = None,
    ref: ChannelRef | None = None,
) -> Customer:
    """A customer with the given contact points."""
    return Customer(
        full_name=name,
        phones=[Phone.parse(phone)] if phone else [],
        emails=[Email.parse(email)] if email else [],
        channel_ref=ref,
    )
