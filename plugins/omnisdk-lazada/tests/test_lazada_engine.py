"""The Lazada channel under omnisdk's engine: units cancelled or returned one at a time move
the ledger by exactly those units, and delta pushes keep what Lazada lists in step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from lazada_testkit import BUYER
from omnisdk_lazada import LazadaChannel
from omnisdk_lazada.sandbox import LazadaSandbox

from omnisdk.config import ChannelConfig, Config, EngineConfig, StoreConfig
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing.control import IN_PROCESS_URL, SandboxControl
from omnisdk.testing.registration import ContributeChannels, unthrottled

ACCOUNT = "lazada-hn"
SKU = "NÓN-LÁ-HUẾ"


@pytest_asyncio.fixture
async def opened(tmp_path: Path) -> AsyncIterator[tuple[Engine, LazadaSandbox, SandboxControl]]:
    """An engine on SQLite over one Lazada account on an in-process sandbox."""
    sandbox = LazadaSandbox(seed=41)
    url = f"sqlite:///{tmp_path / 'omnisdk.db'}"
    config = Config(
        store=StoreConfig(url=url),
        engine=EngineConfig(allocation="shared"),
        channels=[
            ChannelConfig(
                name=ACCOUNT, type="lazada", settings=sandbox.channel_settings(IN_PROCESS_URL)
            )
        ],
    )
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(LazadaChannel), name="lazada-only")
    store = Store(url)
    store.migrate()
    engine = Engine(
        config,
        plugins=plugins,
        store=store,
        transports={ACCOUNT: httpx.ASGITransport(app=sandbox.app)},
    )
    await engine.open()
    for channel in engine.channels.values():
        unthrottled(channel)
    control = SandboxControl.for_sandbox(sandbox)
    await control.seed([{"sku": SKU, "title": "Nón lá Huế", "price": "85000", "stock": 0}])
    await engine.add_listing(ACCOUNT, SKU)
    try:
        yield engine, sandbox, control
    finally:
        await control.aclose()
        await engine.aclose()
        store.close()
        sandbox.close()


async def test_units_cancelled_one_by_one_release_exactly_them(
    opened: tuple[Engine, LazadaSandbox, SandboxControl],
) -> None:
    engine, sandbox, control = opened
    await engine.set_stock(SKU, 10)
    assert not (await engine.push()).failed
    assert sandbox.listing(SKU)["stock"] == 10  # written as a sellable delta
    placed = await control.place_order([(SKU, 3)], customer=BUYER)
    await engine.poll_orders(ACCOUNT)
    view = await engine.stock_view(SKU)
    assert [(loc.on_hand, loc.reserved) for loc in view.locations] == [(10, 3)]

    with sandbox.lock:
        first, second, _third = sandbox.flow.get(placed).items
    sandbox.clock.advance(5)
    sandbox.cancel_items(placed, [first.order_item_id])
    await engine.poll_orders(ACCOUNT)
    view = await engine.stock_view(SKU)
    assert [(loc.on_hand, loc.reserved) for loc in view.locations] == [(10, 2)]

    for _ in range(3):  # packed, ready_to_ship, shipped: the two live units leave
        sandbox.clock.advance(5)
        await control.advance_order(placed)
    await engine.poll_orders(ACCOUNT)
    view = await engine.stock_view(SKU)
    assert [(loc.on_hand, loc.reserved) for loc in view.locations] == [(8, 0)]

    sandbox.clock.advance(5)
    await control.advance_order(placed)  # delivered
    sandbox.return_items(placed, [second.order_item_id])
    await engine.poll_orders(ACCOUNT)
    view = await engine.stock_view(SKU)
    assert [(loc.on_hand, loc.reserved) for loc in view.locations] == [(9, 0)]  # back on hand
    assert not (await engine.push()).failed
    # Lazada lists what is free: 9 on hand; its own sellable figure matches after the delta.
    assert sandbox.listing(SKU)["stock"] == 9
    stored = engine.store.get_order(ACCOUNT, placed)
    assert stored is not None and stored.customer_id is not None


async def test_a_returned_unit_reaches_the_report_by_its_signed_push(
    opened: tuple[Engine, LazadaSandbox, SandboxControl],
) -> None:
    """One of two hats comes back: Lazada pushes the unit's ``returned`` status (signed);
    the engine verifies it, reads the order, frees that unit and reports its price as the
    refund, and the redelivered push changes nothing."""
    from omnisdk.channel import WebhookRequest

    engine, sandbox, control = opened
    await engine.set_stock(SKU, 10)
    assert not (await engine.push()).failed
    placed = await control.place_order([(SKU, 2)], customer=BUYER)
    for _ in range(4):  # packed, ready_to_ship, shipped, delivered
        sandbox.clock.advance(5)
        await control.advance_order(placed)
    await engine.poll_orders(ACCOUNT)
    captured: list[WebhookRequest] = []

    def keep(request: httpx.Request) -> httpx.Response:
        captured.append(WebhookRequest(body=request.content, headers=dict(request.headers)))
        return httpx.Response(200)

    sandbox.webhook_transport = httpx.MockTransport(keep)
    sandbox.webhook_url = "http://receiver.test/hooks/lazada"
    sandbox.clock.advance(5)
    assert await control.refund_order(placed, [(SKU, 1)]) == 85000
    await sandbox.drain_webhooks()
    channel = engine.channels[ACCOUNT]
    [push] = captured
    events = channel.receive_webhook(push)
    for _ in range(2):  # delivered, then redelivered
        await engine.handle_events(ACCOUNT, events)
    view = await engine.stock_view(SKU)
    assert [(loc.on_hand, loc.reserved) for loc in view.locations] == [(9, 0)]
    [row] = (await engine.sales_report("account")).rows  # from the store: the push did it
    assert (row.units, row.gross.amount, row.refunds.amount, row.net.amount) == (
        2, 170000, 85000, 85000
    )
