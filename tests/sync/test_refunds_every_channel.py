"""Partial refunds on every installed channel, end to end: the buyer returns one unit on each
platform's sandbox (the platform's own mechanism: a Shopify refund, a Shopee return, Lazada
returned items, a KiotViet return document), the engine reads it by poll, by webhook hint and
out of order, and the sales report's refunds and net show it per channel, to the đồng, in
the Python API and in ``omnisdk report sales``.

Runs on SQLite and on PostgreSQL (the harness's store backends).
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest
from _engine_testkit import Clock, Harness, MakeHarness, installed_platforms, seed
from typer.testing import CliRunner

from omnisdk import Plugins
from omnisdk.channel import Capability
from omnisdk.cli import build_app
from omnisdk.models import ChannelEvent, EventKind, Money

SKU_AO = "ÁO-DÀI-LỤA-S"
SKU_KHAN = "KHĂN-RẰN-ĐỎ"
PRICE = "649999"
"""649.999 ₫ a unit of each (VND has no minor unit: refunds are whole đồng)."""



async def _harness(make_harness: MakeHarness) -> Harness:
    accounts = [
        account
        for account in installed_platforms()
        if Capability.READ_REFUNDS in account.channel_class.capabilities
    ]
    if not accounts:
        pytest.skip("no installed platform plugin declares read_refunds")
    clock = Clock()
    harness = await make_harness(*accounts, clock=clock, timezone="Asia/Ho_Chi_Minh")
    for channel in harness.engine.channels.values():
        if hasattr(channel, "clock"):
            channel.clock = clock
    await seed(harness, SKU_AO, SKU_KHAN, stock=10, price=PRICE)
    return harness


def _cli_refunds(url: str, tmp_path: Path) -> dict[str, str]:
    """``omnisdk report sales --by account --json``: refunds per account, as printed."""
    config = tmp_path / "omnisdk.toml"
    config.write_text(f"[store]\nurl = {json.dumps(url)}\n", encoding="utf-8")
    app = build_app(Plugins(entry_points=False))
    result = CliRunner().invoke(
        app, ["-c", str(config), "report", "sales", "--by", "account", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["key"]: row["refunds"]["amount"] for row in rows}


async def test_a_partial_refund_on_every_channel_shows_in_the_sales_report(
    make_harness: MakeHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMNISDK_CONFIG", raising=False)
    harness = await _harness(make_harness)
    engine = harness.engine
    placed: dict[str, str] = {}
    for account, control in harness.controls.items():
        placed[account] = await control.place_order([(SKU_AO, 2), (SKU_KHAN, 1)])
        await engine.poll_orders(account)
    before = {a: await engine.channels[a].get_order(o) for a, o in placed.items()}

    refunded: dict[str, Decimal] = {}
    for account, control in harness.controls.items():
        refunded[account] = await control.refund_when_refundable(placed[account], [(SKU_AO, 1)])
        assert refunded[account] == Decimal(PRICE), (account, refunded[account])
        await control.advance_clock(5)

    # By poll, twice (the second read changes nothing).
    for account in harness.controls:
        await engine.poll_orders(account)
    first = await engine.sales_report("account")
    for account in harness.controls:
        await engine.poll_orders(account)
    # A stale version arriving late (a delayed delivery of the order before the refund)...
    for order in before.values():
        await engine.ingest_order(order)
    # ...and a webhook hint for each order (the engine fetches it again).
    for account, order_id in placed.items():
        hint = ChannelEvent(
            kind=EventKind.ORDER_UPDATED,
            channel=engine.channels[account].name,
            account=account,
            topic="refund",
            delivery_id=f"refund-{account}",
            external_id=order_id,
        )
        await engine.handle_events(account, [hint])

    by_account = {row.key: row for row in (await engine.sales_report("account")).rows}
    assert (await engine.sales_report("account")).rows == first.rows, "a second read moved it"
    unit = Money.of(PRICE, "VND")
    for account in harness.controls:
        row = by_account[account]
        assert row.refunds == unit, (account, row)
        assert row.gross == unit * 3, (account, row)
        assert row.net == row.gross - row.discounts - row.refunds, (account, row)
        assert row.net == unit * 2, (account, row)
    by_channel = {row.key: row for row in (await engine.sales_report("channel")).rows}
    assert set(by_channel) == {engine.channels[a].name for a in harness.controls}
    for row in by_channel.values():
        assert row.refunds == unit and row.net == unit * 2, row
    # By SKU, the refund is split over the lines to the đồng and adds up to the whole.
    by_sku = (await engine.sales_report("sku")).rows
    assert sum((row.refunds for row in by_sku), Money.zero("VND")) == unit * len(placed)
    [total] = (await engine.sales_report("account")).totals
    assert total.refunds == unit * len(placed)
    # And `omnisdk report sales` says the same, per account.
    # (in a thread: the CLI runs its own event loop)
    assert await asyncio.to_thread(_cli_refunds, engine.config.store.url, tmp_path) == {
        account: str(unit.amount) for account in harness.controls
    }

    # The rest comes back too: refunded in full on every channel.
    for account, control in harness.controls.items():
        await control.advance_clock(60)
        await control.refund_when_refundable(placed[account], [(SKU_AO, 1), (SKU_KHAN, 1)])
    for account in harness.controls:
        await engine.poll_orders(account)
    for row in (await engine.sales_report("account")).rows:
        assert row.refunds == row.gross - row.discounts and row.net.amount == 0, row
