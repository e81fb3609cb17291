"""The embedding API: Engine lifecycle, SyncEngine for plain code, quarantine of bad payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from _engine_testkit import SKU_RED_M, TITLE, Account, MakeHarness, make_order, plugins_with
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk import Channel, OmnisdkError, Order
from omnisdk.config import ChannelConfig, Config, StoreConfig, load_config
from omnisdk.sync import Engine, SyncEngine
from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk.testing.sandbox import SeedProduct


def test_the_sync_engine_serves_plain_code(tmp_path: Path) -> None:
    sandbox = ExampleSandbox(seed=3)
    with sandbox.lock:
        sandbox.seed_products([SeedProduct(sku=SKU_RED_M, title=TITLE, price=129000)])
    config_file = tmp_path / "omnisdk.toml"
    settings = sandbox.channel_settings(IN_PROCESS_URL)
    config_file.write_text(
        '[store]\nurl = "sqlite:///omnisdk.db"\n\n'
        '[[channels]]\nname = "cửa-hàng-hà-nội"\ntype = "example"\n'
        "[channels.settings]\n"
        f'base_url = "{settings["base_url"]}"\napi_token = "${{EXAMPLE_TOKEN}}"\n',
        encoding="utf-8",
    )
    plugins = plugins_with(ExampleChannel)
    config = load_config(config_file, env={"EXAMPLE_TOKEN": sandbox.api_token}, plugins=plugins)
    transports = {"cửa-hàng-hà-nội": httpx.ASGITransport(app=sandbox.app)}
    with SyncEngine(config, plugins=plugins, transports=transports) as engine:
        assert engine.add_listing("cửa-hàng-hà-nội", SKU_RED_M) is True
        assert engine.set_stock(SKU_RED_M, 4) is True
        assert engine.push().pushed == 1
        assert sandbox.listing(SKU_RED_M)["stock"] == 4
        result = engine.record_order(
            make_order("zalo-17", account="zalo", channel="zalo", lines={SKU_RED_M: 1})
        )
        assert result.created
        view = engine.stock_view(SKU_RED_M)
        assert (view.on_hand, view.reserved) == (4, 1)
        engine.push()
        assert sandbox.listing(SKU_RED_M)["stock"] == 3
        assert engine.engine.store.url.database is not None
    assert (tmp_path / "omnisdk.db").exists()  # beside the config file, as configured
    with pytest.raises(OmnisdkError, match="closed"):
        engine.stock_view(SKU_RED_M)
    sandbox.close()


async def test_an_engine_opens_its_own_store_and_closes_it(tmp_path: Path) -> None:
    sandbox = ExampleSandbox(seed=4)
    url = f"sqlite:///{tmp_path / 'own.db'}"
    config = Config(
        store=StoreConfig(url=url),
        channels=[
            ChannelConfig(
                name="shop-a", type="example", settings=sandbox.channel_settings(IN_PROCESS_URL)
            )
        ],
    )
    plugins = plugins_with(ExampleChannel)
    engine = Engine(
        config, plugins=plugins, transports={"shop-a": httpx.ASGITransport(app=sandbox.app)}
    )
    with pytest.raises(OmnisdkError, match="not open"):
        _ = engine.store
    async with engine:
        assert set(engine.channels) == {"shop-a"}
        account = engine.store.get_account("shop-a")
        assert account is not None and account.channel == "example"
        assert engine.store.schema_revision() is not None
        registered = [name for name, _ in plugins.pm.list_name_plugin()]
        assert any(name.startswith("omnisdk.engine:") for name in registered)
    assert engine.channels == {}
    assert not any(name.startswith("omnisdk.engine:") for name, _ in plugins.pm.list_name_plugin())
    sandbox.close()


async def test_a_payload_no_plugin_can_map_is_quarantined(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"))
    channel = harness.engine.channels["shop-a"]
    raw = {"id": "ord_broken", "status": "paid", "lines": "not a list"}
    assert await _stream_orders_of(channel, raw) == []
    [kept] = harness.store.list_quarantine()
    assert (kept.account, kept.kind, kept.external_id) == ("shop-a", "order", "ord_broken")
    assert kept.payload == raw
    # A channel of another engine sharing the registry is not this engine's to quarantine.
    stranger = ExampleChannel(
        {"api_token": "x", "base_url": IN_PROCESS_URL},
        account="shop-a",
        plugins=harness.engine.plugins,
    )
    await _stream_orders_of(stranger, {"id": "ord_other"})
    assert len(harness.store.list_quarantine()) == 1
    assert stranger.mapping_stats.order.rejected == 1


async def _stream_orders_of(channel: Channel, raw: dict[str, Any]) -> list[Order]:
    """What ``channel.stream_orders`` makes of a platform that returns ``raw`` alone."""

    async def fetch_orders(
        *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        yield raw

    channel.fetch_orders = fetch_orders  # type: ignore[method-assign]
    return [order async for order in channel.stream_orders()]


async def test_an_unknown_account_is_named_in_the_error(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"))
    with pytest.raises(OmnisdkError, match="shop-b"):
        await harness.engine.poll_orders("shop-b")
