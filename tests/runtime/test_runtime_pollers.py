"""The local runtime runs the customer and listing pollers on their ``[channels.poll]`` intervals.

A real engine over an Example sandbox: listings of known SKUs get bound and pushed, listed
customers reach the store, a failing poll is retried, and an account whose channel cannot read
customers or products gets no such poller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk import Capability, ChannelError, Plugins
from omnisdk.config import ChannelConfig, Config, EngineConfig, PollIntervals, StoreConfig
from omnisdk.models import Customer, Money, Product, Variant
from omnisdk.runtime import LocalRuntime
from omnisdk.store.records import BindingKind
from omnisdk.sync import Engine
from omnisdk.testing import ContributeChannels, SeedProduct
from omnisdk.testing.registration import unthrottled

SKU = "NÓN-LÁ-HUẾ"
SHOP = "hanoi-shop"
COUNTER = "quay-hoan-kiem"


class FlakyCustomersChannel(ExampleChannel):
    """An Example channel whose customer list fails the first :attr:`failures` reads."""

    name = "example-flaky"
    failures: ClassVar[int] = 0

    async def stream_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[Customer]:
        """Fail while :attr:`failures` lasts, then list the customers."""
        if FlakyCustomersChannel.failures > 0:
            FlakyCustomersChannel.failures -= 1
            raise ChannelError("Lỗi 503 từ máy chủ khách hàng", channel=self.name)
        async for customer in super().stream_customers(updated_since=updated_since):
            yield customer


class CounterChannel(ExampleChannel):
    """A point-of-sale counter: it reads orders and takes stock, nothing else."""

    name = "example-counter"
    capabilities = frozenset(
        {Capability.READ_ORDERS, Capability.WRITE_STOCK, Capability.READ_STOCK}
    )


@pytest.fixture
def sandboxes() -> Iterator[dict[str, ExampleSandbox]]:
    made = {SHOP: ExampleSandbox(seed=7), COUNTER: ExampleSandbox(seed=8)}
    for sandbox in made.values():
        with sandbox.lock:
            sandbox.seed_products([SeedProduct(sku=SKU, title="Nón lá Huế", price=85000)])
    shop = made[SHOP]
    stamp = shop.clock.now().isoformat()
    with shop.lock:
        shop.customers["cus_00001"] = {
            "id": "cus_00001",
            "name": "Nguyễn Thị Mai",
            "phone": "0912 345 678",
            "email": None,
            "address": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
    yield made
    for sandbox in made.values():
        sandbox.close()


@pytest.fixture
async def engine(sandboxes: dict[str, ExampleSandbox], tmp_path: Path) -> AsyncIterator[Engine]:
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(FlakyCustomersChannel, CounterChannel), name="channels")
    fast = PollIntervals(
        orders=timedelta(hours=1),
        customers=timedelta(seconds=0.05),
        products=timedelta(seconds=0.05),
    )
    config = Config(
        store=StoreConfig(url=f"sqlite:///{tmp_path / 'omnisdk.db'}"),
        engine=EngineConfig(push_interval=timedelta(hours=1)),
        channels=[
            ChannelConfig(
                name=name,
                type=channel_type,
                settings=sandboxes[name].channel_settings("http://sandbox.test"),
                poll=fast,
            )
            for name, channel_type in ((SHOP, "example-flaky"), (COUNTER, "example-counter"))
        ],
    )
    transports = {name: httpx.ASGITransport(app=s.app) for name, s in sandboxes.items()}
    opened = Engine(config, plugins=plugins, transports=transports)
    await opened.open()
    for channel in opened.channels.values():
        unthrottled(channel)
    opened.store.upsert_product(
        Product(
            title="Nón lá Huế",
            variants=[Variant(sku=SKU, price=Money.of(85000, "VND"))],
        )
    )
    await opened.set_stock(SKU, 25)
    yield opened
    await opened.aclose()


async def eventually(condition: Any, within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_customer_and_listing_pollers_run_on_their_intervals(
    engine: Engine, sandboxes: dict[str, ExampleSandbox]
) -> None:
    FlakyCustomersChannel.failures = 1
    runtime = LocalRuntime(engine, webhooks=False, reconcile=False)
    await runtime.start()
    try:
        shop = runtime.stats.of(SHOP)
        await eventually(lambda: shop.customer_polls >= 3 and shop.product_polls >= 3)
        # The new listing of a known SKU was bound and got its first push at once.
        await eventually(lambda: sandboxes[SHOP].variants[SKU].stock == 25)
        assert (
            engine.store.external_id_for(SHOP, BindingKind.VARIANT, SKU)
            == sandboxes[SHOP].variants[SKU].id
        )
        # The first customer read failed, was counted and retried.
        assert shop.errors == 1
        assert shop.last_error is not None and "Lỗi 503" in shop.last_error
        [mai] = list(engine.store.iter_customers())
        assert mai.customer.full_name == "Nguyễn Thị Mai"
        # The counter's channel reads neither customers nor products: no pollers for it.
        counter = runtime.stats.of(COUNTER)
        assert (counter.customer_polls, counter.product_polls, counter.errors) == (0, 0, 0)
        assert engine.store.external_id_for(COUNTER, BindingKind.VARIANT, SKU) is None
    finally:
        await runtime.stop()


async def test_without_an_initial_poll_the_pollers_wait_one_interval(engine: Engine) -> None:
    runtime = LocalRuntime(engine, webhooks=False, reconcile=False, initial_poll=False)
    await runtime.start()
    try:
        shop = runtime.stats.of(SHOP)
        assert (shop.customer_polls, shop.product_polls) == (0, 0)
        await eventually(lambda: shop.customer_polls >= 1 and shop.product_polls >= 1)
    finally:
        await runtime.stop()
