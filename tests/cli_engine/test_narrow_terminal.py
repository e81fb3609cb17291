"""Every command that prints a table reads well in an 80-column terminal (issue #15 item 2).

The commands run one after another against one world (two Example shops on loopback, the
catalog imported, stock counted, a few orders and a quarantined payload), each through
``build_app`` with ``COLUMNS=80``; :func:`assert_reads_at` checks the words a reader needs
are whole on one line. A new command is covered by one more :class:`NarrowCase` in
``CASES`` (in the order it should run: cases may change the world for the next ones).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _engine_cli_testkit import CATALOG, Shop, config_text
from _narrow import WIDTH, NarrowCase, assert_reads_at
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox
from rich.console import Console
from typer.testing import CliRunner

from omnisdk import Plugins
from omnisdk.cli import build_app
from omnisdk.cli.demo_render import snapshot_table
from omnisdk.config import load_config
from omnisdk.demo import DEMO_CATALOG
from omnisdk.demo.report import DemoSnapshot, SkuSnapshot
from omnisdk.store import open_store
from omnisdk.sync import Engine
from omnisdk.testing import ContributeChannels, LoopbackServer


@dataclass
class World:
    """The two shops, the config and the registry every case runs against."""

    hanoi: Shop
    saigon: Shop
    config_path: Path
    plugins: Plugins


def _nudge_hanoi_stock(world: World) -> None:
    with world.hanoi.sandbox.lock:
        world.hanoi.sandbox.variants["NON-LA-HUE"].stock = 30  # typed in by hand in the shop


def _orders(world: World) -> None:
    world.hanoi.order("NON-LA-HUE", 1, name="Nguyễn Thị Minh Khai", phone="0912000111")
    world.saigon.order("AO-THUN-DO-M", 2, name="Trần Văn Bảo", phone="+84 903 222 333")


PROMOTION = """
[[promotions]]
id = "tet-2027"
name = "Khuyến mãi Tết Đinh Mùi"
kind = "percentage"
value = "15"
skus = ["NON-LA-HUE"]
starts_at = 2026-01-01T00:00:00
ends_at = 2099-02-20T00:00:00
"""
"""A running promotion the Example shops cannot show (they declare no mechanism)."""

CASES: list[NarrowCase] = [
    NarrowCase(
        ("status",),
        (
            "Account",
            "Status",
            "Synced",
            "Pushed",
            "Outbox",
            "Quarantine",
            "hanoi-shop",
            "saigon-shop",
            "active",
            "quarantined",
        ),
        exit_codes=(1,),  # the quarantined order makes hanoi-shop unhealthy
    ),
    NarrowCase(
        ("plan",),
        ("Catalog plan", "Account", "Change", "NON-LA-HUE", "hanoi-shop"),
        prepare=_nudge_hanoi_stock,
    ),
    NarrowCase(("apply",), ("Applied", "hanoi-shop", "Sent", "Succeeded", "already in place")),
    NarrowCase(("stock", "set", "NON-LA-HUE", "9"), ("on hand set to 9", "hanoi-shop: 2 sent")),
    NarrowCase(("push",), ("Stock push", "nothing to push")),
    NarrowCase(
        ("sync", "--once"),
        (
            "Order polls",
            "hanoi-shop orders",
            "saigon-shop orders",
            "Seen",
            "New",
            "Cursor",
            "Stock push",
            "Reconciliation",
            "Checked",
            "In sync",
        ),
        prepare=_orders,
    ),
    NarrowCase(
        ("stock", "show", "NON-LA-HUE"),
        (
            "Location",
            "On hand",
            "Reserved",
            "Available",
            "Channel",
            "Quota",
            "Listed now",
            "Unseen",
            "hanoi-shop",
            "saigon-shop",
        ),
    ),
    NarrowCase(
        ("orders", "list"),
        (
            "Channel",
            "Order",
            "Status",
            "Placed",
            "Customer",
            "hanoi-shop",
            "saigon-shop",
            "Nguyễn Thị Minh",
            "Trần Văn Bảo",
            "85,000 VND",
            "pending",
        ),
    ),
    NarrowCase(
        ("customers", "show", "0912000111"),
        ("Nguyễn Thị Minh Khai", "+84912000111", "1 order", "hanoi-shop"),
    ),
    NarrowCase(
        ("customers", "find", "84 912 000 111"),
        ("Nguyễn Thị Minh Khai", "1 order, last on example/hanoi-shop"),
    ),
    NarrowCase(
        ("report", "sales", "--by", "account"),
        ("Sales by account, VND", "Account", "Orders", "Units", "Gross", "Discounts",
         "Refunds", "Net", "hanoi-shop", "total"),
    ),
    NarrowCase(
        ("quarantine", "list"),
        (
            "Quarantine",
            "Account",
            "Kind",
            "Tries",
            "Reason",
            "hanoi-shop",
            "status is not",
        ),
    ),
    NarrowCase(("reconcile",), ("Reconciliation", "Account", "Checked", "In sync", "Drift")),
    NarrowCase(
        ("pull", "--channel", "hanoi-shop", "products"),
        ("Tranh sơn mài Hội An", "Áo thun cổ tròn", "2,400,000 VND", "TRANH-SON-MAI"),
    ),
    NarrowCase(
        ("channels", "remove", "saigon-shop", "--dry-run"),
        ("SKU", "Location", "Listed", "NON-LA-HUE", "TRANH-SON-MAI", "would drop"),
    ),
    NarrowCase(
        ("catalog", "import", "--channel", "saigon-shop"),
        ("Imported from saigon-shop", "Products seen", "Variants matched"),
    ),
    NarrowCase(
        ("demo", "--no-live", "--duration", "1", "--buyers", "2"),
        (
            "Orders per channel",
            "Units per product",
            "Sold out",
            "Stock shown",
            "Oversold",
            "Tranh sơn mài Hội An",
            "Safety buffer",
            "no unit sold twice",
        ),
    ),
    NarrowCase(
        ("promotions", "list"),
        ("Promotion", "Name", "Starts", "Ends", "State", "tet-2027", "Khuyến mãi Tết", "running"),
    ),
    NarrowCase(
        ("promotions", "plan"),
        ("Promotion tet-2027", "Account", "Action", "hanoi-shop", "NON-LA-HUE", "cannot",
         "Example has no way", "the channel cannot show"),
    ),
    NarrowCase(("promotions", "apply"), ("0 promoted, 0 restored, 0 refused",)),
    NarrowCase(("promotions", "end", "tet-2027"), ("0 promoted, 0 restored",)),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Two shops on loopback with the catalog imported, stock counted and one quarantined
    order (built in-process: one engine opening)."""
    tmp_path = tmp_path_factory.mktemp("narrow")
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(ExampleChannel), name="example")
    shops: list[Shop] = []
    try:
        for index, account in enumerate(("hanoi-shop", "saigon-shop")):
            sandbox = ExampleSandbox(seed=index)
            with sandbox.lock:
                sandbox.seed_products(CATALOG)
            shops.append(
                Shop(account=account, sandbox=sandbox, server=LoopbackServer(sandbox.app).start())
            )
        config_path = tmp_path / "omnisdk.toml"
        config_path.write_text(
            config_text(shops, tmp_path / "omnisdk.db") + PROMOTION, encoding="utf-8"
        )

        async def prepare() -> None:
            async with Engine(load_config(config_path, plugins=plugins), plugins=plugins) as e:
                for shop in shops:
                    await e.import_catalog(shop.account)
                for item in CATALOG:
                    await e.set_stock(item.sku, item.stock)
                await e.push()

        asyncio.run(prepare())
        store = open_store(f"sqlite:///{tmp_path / 'omnisdk.db'}")
        try:
            payload = {"id": "ord_hong", "status": "không rõ"}
            reason = "the order's status is not one the channel knows: 'không rõ'"
            store.quarantine("hanoi-shop", "order", "ord_hong", reason, payload)
        finally:
            store.close()
        yield World(shops[0], shops[1], config_path, plugins)
    finally:
        for shop in shops:
            shop.server.stop()
            shop.sandbox.close()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_command_reads_well_at_80_columns(world: World, case: NarrowCase) -> None:
    if case.prepare is not None:
        case.prepare(world)

    result = CliRunner().invoke(
        build_app(world.plugins),
        ["-c", str(world.config_path), *case.args],
        env={"COLUMNS": str(WIDTH)},
    )

    assert result.exit_code in case.exit_codes, result.output
    assert_reads_at(result.output, case.words, what=f"omnisdk {case.name}")


def test_promotions_print_their_results_as_json(world: World) -> None:
    """Ended (again: ending twice changes nothing), the promotion is listed as ended and
    nothing is left to write or restore; the JSON is the result models' own."""
    import json

    def run(*args: str) -> object:
        result = CliRunner().invoke(
            build_app(world.plugins), ["-c", str(world.config_path), "promotions", *args]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    ended = run("end", "tet-2027", "--json")
    assert isinstance(ended, dict) and ended["outcomes"] == []
    [entry] = run("list", "--json")  # type: ignore[misc]
    assert entry["promotion"]["id"] == "tet-2027" and entry["origin"] == "config"
    assert entry["promotion"]["name"] == "Khuyến mãi Tết Đinh Mùi"
    assert entry["ended_at"] is not None
    planned = run("plan", "--json")
    assert isinstance(planned, dict) and (planned["steps"], planned["ending"]) == ([], [])


def test_the_check_catches_a_word_split_by_wrapping() -> None:
    with pytest.raises(AssertionError, match="not whole on one line"):
        assert_reads_at("│ accou │\n│ nt    │\n", ["account"])
    with pytest.raises(AssertionError, match="wider than 80"):
        assert_reads_at("x" * 81, [])


def test_the_demos_live_view_fits_a_default_80x24_terminal() -> None:
    accounts = ["lazada-hanoi", "shopee-saigon", "shopify-danang", "tiki-hue"]
    snapshot = DemoSnapshot(
        elapsed=3.2,
        phase="buyers shopping",
        skus=[
            SkuSnapshot(
                sku=item.sku,
                title=item.title,
                start=item.stock,
                sold=1,
                on_hand=item.stock,
                reserved=1,
                listed={account: item.stock // 4 for account in accounts},
            )
            for item in DEMO_CATALOG
        ],
        accepted={account: 12 for account in accounts},
        refused={"shopee-saigon": 3},
        in_book={account: 12 for account in accounts},
    )
    buffer = io.StringIO()
    Console(file=buffer, width=WIDTH, color_system=None).print(snapshot_table(snapshot))
    text = buffer.getvalue()

    assert len(text.splitlines()) <= 24, text
    words = ["Product", "Start", "Sold", "Free", "lazada", "tiki", "Nón lá Huế"]
    assert_reads_at(text, [*words, "3 turned away (sold out)"], what="demo live view")
