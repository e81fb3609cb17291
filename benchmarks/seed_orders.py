"""How fast do the sandboxes take a shop's order history?

For each sandbox (Shopify, Shopee) and each N: a fresh sandbox gets a catalog of 5,000
products, then N orders of two lines each (5,000 distinct buyers with Vietnamese names,
``+84`` phones and emails, one order every 37 s from 2025-01-01) in one
``POST /_sandbox/seed/orders`` call through :class:`~omnisdk.testing.SandboxControl`
(in-process, so the figures include building and parsing the JSON body and validating it).
Printed: wall-clock seconds, CPU seconds of the process (client and sandbox alike: a shared
machine disturbs it far less than the wall clock) and orders per wall-clock second.

``--one-by-one N`` also places N buyer orders one call each (``POST /_sandbox/buyer/orders``,
the only way before the bulk seed), for comparison.

    python benchmarks/seed_orders.py                       # N = 20,000 / 200,000
    python benchmarks/seed_orders.py -n 50000 --one-by-one 2000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from omnisdk_shopee.sandbox.app import ShopeeSandbox
from omnisdk_shopify.sandbox.app import ShopifySandbox
from rich.console import Console
from rich.table import Table

from omnisdk.testing import Sandbox, SandboxControl

DEFAULT_COUNTS = (20_000, 200_000)
PRODUCTS = 5_000
BUYERS = 5_000
START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
SANDBOXES: dict[str, type[Sandbox]] = {"shopify": ShopifySandbox, "shopee": ShopeeSandbox}


def _catalog() -> list[dict[str, Any]]:
    return [
        {"sku": f"SP-{i:05d}", "title": f"Sản phẩm {i}", "price": "125000", "stock": 1_000}
        for i in range(PRODUCTS)
    ]


def _orders(count: int) -> list[dict[str, Any]]:
    return [
        {
            "lines": [
                {"sku": f"SP-{i % PRODUCTS:05d}", "quantity": 1},
                {"sku": f"SP-{(i * 7 + 3) % PRODUCTS:05d}", "quantity": 2},
            ],
            "customer": {
                "name": f"Nguyễn Thị Hương {i % BUYERS}",
                "phone": f"+84 90 {i % BUYERS:07d}",
                "email": f"huong{i % BUYERS}@example.vn",
                "address": {"ward": "Phường Bến Nghé", "district": "Quận 1", "province": "HCM"},
            },
            "created_at": (START + timedelta(seconds=37 * i)).isoformat(),
        }
        for i in range(count)
    ]


async def _measure(name: str, count: int, one_by_one: bool) -> dict[str, Any]:
    sandbox = SANDBOXES[name]()
    try:
        async with SandboxControl.for_sandbox(sandbox) as control:
            await control.seed(_catalog())
            orders = _orders(count)
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            if one_by_one:
                for order in orders:
                    lines = [(line["sku"], line["quantity"]) for line in order["lines"]]
                    await control.place_order(lines, customer=order["customer"])
                created = count
            else:
                created = len(await control.seed_orders(orders))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        sandbox.close()
    assert created == count
    return {
        "sandbox": name,
        "how": "one by one" if one_by_one else "bulk seed",
        "orders": count,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "orders_per_s": round(count / wall),
    }


def main() -> None:
    """Seed each sandbox at each N and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, action="append", help="orders to seed (repeatable)")
    parser.add_argument("--one-by-one", type=int, help="also place this many orders one by one")
    parser.add_argument("--sandbox", choices=sorted(SANDBOXES), action="append")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    runs = [
        (name, n, False) for name in args.sandbox or SANDBOXES for n in args.n or DEFAULT_COUNTS
    ]
    if args.one_by_one:
        runs += [(name, args.one_by_one, True) for name in args.sandbox or SANDBOXES]
    results = [asyncio.run(_measure(*run)) for run in runs]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title=f"Seeding order history ({PRODUCTS:,} products, {BUYERS:,} buyers)")
    for column in ("sandbox", "how", "orders", "wall s", "CPU s", "orders/s"):
        table.add_column(column, justify="left" if column in ("sandbox", "how") else "right")
    for r in results:
        table.add_row(
            r["sandbox"],
            r["how"],
            f"{r['orders']:,}",
            f"{r['wall_s']:.1f}",
            f"{r['cpu_s']:.1f}",
            f"{r['orders_per_s']:,}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
