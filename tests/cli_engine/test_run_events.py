"""``omnisdk run``'s event lines, fed by the engine's own hooks (issue #15 item 6)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from _engine_cli_testkit import Shop
from rich.text import Text

from omnisdk import Plugins
from omnisdk.cli.run_events import EventLines
from omnisdk.config import load_config
from omnisdk.sync import Engine


def test_orders_stock_and_quota_moves_are_one_line_each(
    plugins: Plugins, config_path: Path, imported: list[Shop]
) -> None:
    hanoi, _ = imported
    lines: list[str] = []
    events = EventLines(
        write=lambda line: lines.append(line.plain),
        clock=lambda: datetime(2026, 12, 4, 13, 5, 9, tzinfo=UTC),
    )
    plugins.register(events, name="event-lines")

    async def run() -> None:
        async with Engine(load_config(config_path, plugins=plugins), plugins=plugins) as engine:
            await engine.sync_once(reconcile=False)  # the first polls: a backfill, no lines
            hanoi.order("NON-LA-HUE", 2, name="Lê Thị Hồng Nhung", phone="0987654321")
            events.orders_live = True
            await engine.sync_once(reconcile=False)

    try:
        asyncio.run(run())
    finally:
        plugins.unregister(events)

    orders = [line for line in lines if "order in:" in line]
    assert len(orders) == 1
    assert orders[0].endswith("order in: hanoi-shop #1001, 2 units, 170,000 VND, Lê Thị Hồng Nhung")
    assert orders[0][:8].count(":") == 2  # a local time stamp first
    # The sale moved the pool: the channels are told their new figures, one line each.
    pushed = [line for line in lines if " now lists " in line]
    assert pushed and all("of NON-LA-HUE" in line for line in pushed), lines
    assert any(line[9:].startswith("stock: hanoi-shop now lists ") for line in pushed), lines


def test_failures_and_lost_authorisation_are_said_and_retries_are_not() -> None:
    lines: list[Text] = []
    events = EventLines(write=lines.append)

    events.omnisdk_push_failed(account="hanoi", key="NON-LA-HUE", error="refused", retryable=True)
    events.omnisdk_push_failed(account="hanoi", key="NON-LA-HUE", error="refused", retryable=False)
    events.omnisdk_channel_needs_reauthorisation(
        channel="shopify", account="hanoi", reason="token revoked"
    )
    events.omnisdk_stock_pushed(account="hanoi", sku="NON-LA-HUE", quantity=3, rebalanced=True)

    text = [line.plain[9:] for line in lines]
    assert text == [
        "push failed: hanoi NON-LA-HUE: refused (`omnisdk status` lists it)",
        "hanoi needs re-authorisation (token revoked): the engine stops calling it; the other "
        "channels go on",
        "quota moved: hanoi now lists 3 of NON-LA-HUE (units went to the channel that sells them)",
    ]
