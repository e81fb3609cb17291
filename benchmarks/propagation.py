"""How fast does a sale on one channel reach every other channel's listing?

For N orders, one at a time, round-robin over the channels: a buyer orders one unit on one
channel's sandbox; the clock stops when every *other* channel lists one unit fewer of that
SKU. That span is the whole path: the platform's webhook, the receiver, ingestion (ledger,
customer, outbox mark), the pushers waking, the pushes over HTTP. Channels are not rate
limited (the declared budgets are lifted), so this measures the engine, not the platforms.

Everything runs on loopback: every installed channel's sandbox in a process of its own (as
in ``omnisdk demo``), the engine in this one, in the local runtime, on SQLite in a
temporary directory. The clock starts just before the buyer's order is sent and stops when
a read of the listing (every 5 ms, through the sandbox's control API) shows the new figure,
so the numbers include a few milliseconds of measuring.

    python benchmarks/propagation.py              # 100 orders
    python benchmarks/propagation.py -n 300 --json

Prints a table: p50/p95/p99/max of the time until every other channel shows the new
figure, overall and per receiving channel. The target is p99 < 1 s.

The engine runs with ``[engine] allocation = "shared"``: every channel lists the whole pool,
so every sale changes every other channel's figure, which is the path measured. Under the
default quota allocation a sale moves another channel's figure only when units move to where
they sell (``benchmarks/flash_sale.py`` measures that).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from omnisdk.config import load_config
from omnisdk.demo import DemoChannel, demo_channel_types, serve_sandboxes, write_demo_config
from omnisdk.plugins import default_plugins
from omnisdk.runtime.local import LocalRuntime
from omnisdk.sync.engine import Engine
from omnisdk.testing.registration import unthrottled

STOCK = 100_000
"""Plenty of stock: no order is ever refused, every order moves every listing by one."""
SKUS = [f"CA-PHE-{n:02d}" for n in range(1, 9)]
CATALOG: list[dict[str, Any]] = [
    {
        "sku": sku,
        "title": f"Cà phê Buôn Ma Thuột gói {n}",
        "price": "165000",
        "currency": "VND",
        "stock": STOCK,
    }
    for n, sku in enumerate(SKUS, start=1)
]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def _until_listed(
    channels: list[DemoChannel], sku: str, expected: dict[str, int], deadline: float
) -> dict[str, float]:
    """Per channel, when it first listed ``expected[account]`` of ``sku`` (monotonic time)."""
    reached: dict[str, float] = {}

    async def watch(channel: DemoChannel) -> None:
        while time.monotonic() < deadline:
            if (await channel.listed()).get(sku) == expected[channel.account]:
                reached[channel.account] = time.monotonic()
                return
            await asyncio.sleep(0.005)

    await asyncio.gather(*(watch(channel) for channel in channels))
    return reached


async def measure(orders: int, gap: float, give_up: float) -> dict[str, Any]:
    """Run the benchmark; returns the raw latencies and the summary."""
    plugins = default_plugins()
    types = demo_channel_types(plugins)
    if len(types) < 2:
        raise SystemExit("the benchmark needs at least two channel types with a sandbox")
    with tempfile.TemporaryDirectory() as directory:
        async with serve_sandboxes(types) as channels:
            for channel in channels:
                await channel.control.seed(CATALOG)
            path = write_demo_config(
                Path(directory),
                channels,
                safety_buffer=0,
                poll_orders="1m",
                push_interval="5s",
                allocation="shared",
            )
            config = load_config(path, plugins=plugins)
            async with Engine(config, plugins=plugins) as engine:
                for account_channel in engine.channels.values():
                    unthrottled(account_channel)
                for channel in channels:
                    await engine.import_catalog(channel.account)
                for sku in SKUS:
                    await engine.set_stock(sku, STOCK)
                runtime = LocalRuntime(engine, port=0, initial_poll=False, reconcile=False)
                await runtime.start()
                try:
                    for channel in channels:
                        await channel.control.set_webhook_url(runtime.webhook_url(channel.account))
                    await engine.push()
                    latencies: list[float] = []
                    per_target: dict[str, list[float]] = {c.channel_type: [] for c in channels}
                    missed = 0
                    for number in range(orders):
                        source = channels[number % len(channels)]
                        others = [c for c in channels if c is not source]
                        sku = SKUS[number % len(SKUS)]
                        expected = {c.account: (await c.listed())[sku] - 1 for c in others}
                        started = time.monotonic()
                        await source.control.place_order([(sku, 1)])
                        reached = await _until_listed(others, sku, expected, started + give_up)
                        if len(reached) < len(others):
                            missed += 1
                            continue
                        latencies.append(max(reached.values()) - started)
                        for channel in others:
                            per_target[channel.channel_type].append(
                                reached[channel.account] - started
                            )
                        await asyncio.sleep(gap)
                finally:
                    for channel in channels:
                        await channel.control.set_webhook_url(None)
                    await runtime.stop()
    return {
        "orders": orders,
        "channels": [name for name, _ in types],
        "missed": missed,
        "all_channels": latencies,
        "per_channel": per_target,
    }


def summarise(values: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max of ``values``, in milliseconds."""
    if not values:
        return {}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000, 1),
        "p95_ms": round(percentile(values, 0.95) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the table (or JSON); exit 1 when p99 misses 1 s."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--orders", type=int, default=100, help="orders to place")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between orders")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="give up on one order after this many seconds"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    raw = asyncio.run(measure(options.orders, options.gap, options.timeout))
    rows = {"every other channel": summarise(raw["all_channels"])}
    for name, values in raw["per_channel"].items():
        rows[f"to {name}"] = summarise(values)
    if options.json:
        print(
            json.dumps(
                {"channels": raw["channels"], "missed": raw["missed"], "latency": rows}, indent=2
            )
        )
    else:
        table = Table(
            title=f"Propagation of a sale ({options.orders} orders over "
            f"{', '.join(raw['channels'])}; not rate limited)"
        )
        for column in ("until", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms"):
            table.add_column(column, justify="left" if column == "until" else "right")
        for label, stats in rows.items():
            table.add_row(
                label,
                *(
                    str(stats.get(k, "-"))
                    for k in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")
                ),
            )
        Console().print(table)
        if raw["missed"]:
            Console().print(
                f"{raw['missed']} orders did not reach every channel within {options.timeout:g} s"
            )
    p99 = rows["every other channel"].get("p99_ms")
    return 0 if p99 is not None and p99 < 1000 and not raw["missed"] else 1


if __name__ == "__main__":
    sys.exit(main())
