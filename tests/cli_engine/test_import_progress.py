"""``catalog import`` counts listings as they arrive: the engine reports the running figures
after each listing, and the terminal line says them in words."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from _engine_cli_testkit import CATALOG, Shop
from rich.console import Console

from omnisdk import Plugins
from omnisdk.cli.import_progress import ImportProgress
from omnisdk.config import load_config
from omnisdk.sync import Engine
from omnisdk.sync.catalog import ImportStats


def test_the_engine_reports_the_figures_after_each_listing(
    plugins: Plugins, config_path: Path, shops: list[Shop]
) -> None:
    seen: list[tuple[int, int]] = []

    async def run() -> ImportStats:
        config = load_config(config_path, plugins=plugins)
        async with Engine(config, plugins=plugins) as engine:
            return await engine.import_catalog(
                shops[0].account,
                progress=lambda stats: seen.append((stats.products_seen, stats.variants_created)),
            )

    final = asyncio.run(run())

    assert [count for count, _ in seen] == list(range(1, len(CATALOG) + 1))
    assert seen[-1] == (final.products_seen, final.variants_created)


def test_the_terminal_line_counts_listings_and_skus_in_words() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, color_system=None)
    with ImportProgress("hanoi-shop", console) as bar:
        bar.update(ImportStats(account="hanoi-shop", products_seen=12, variants_created=30))
        bar.progress.refresh()
        shown = out.getvalue()
    assert "importing hanoi-shop: 12 listings, 30 new SKUs, 0 matched" in shown
