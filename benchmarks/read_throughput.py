"""How much client CPU and memory does reading a Shopify shop cost, per record?

A Shopify sandbox (throttles lifted) runs in a process of its own, so nothing it does is
counted against a reader. It gets P products (one variant each) and O orders of two lines,
each from one of 5,000 buyers with Vietnamese names, ``+84`` phones and emails, through the
bulk seed. Then each reader runs in a fresh process and reads every product and every order:

- ``omnisdk``: ``ShopifyChannel.stream_products()`` and ``stream_orders()``, canonical
  models out (orders past ``bulk_threshold`` come as one bulk export, JSONL streamed);
- ``tap-shopify`` (with ``--tap``, in its own virtualenv as the tests run it): its
  ``products`` and ``orders`` streams, Singer records out to /dev/null.

Printed per reader: records read, CPU seconds of the reader's process (user + system, the
sandbox excluded), CPU per record, peak resident set size, and the ratio to omnisdk.

    python benchmarks/read_throughput.py                        # 2,000 + 20,000 records
    python benchmarks/read_throughput.py --orders 200000 --tap --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
TAP_VENV = next(
    (
        venv
        for venv in (
            Path(os.environ.get("OMNISDK_TAP_SHOPIFY_VENV", "/nonexistent")),
            ROOT / "plugins" / "omnisdk-shopify" / ".venv-tools" / "tap-shopify",
            ROOT / ".venv-tools" / "tap-shopify",  # where ``make tools`` puts it
        )
        if (venv / "bin" / "tap-shopify").exists()
    ),
    ROOT / ".venv-tools" / "tap-shopify",
)
"""tap-shopify's own virtualenv: ``$OMNISDK_TAP_SHOPIFY_VENV`` as the tests read it, else the
plugin's or the checkout's ``.venv-tools`` (``make tools``)."""
LAUNCHER = ROOT / "plugins" / "omnisdk-shopify" / "tests" / "tools" / "tap_shopify_launcher.py"
BUYERS = 5_000
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=9)
SPREAD = 8 * 86_400
"""Seconds the orders' timestamps spread over (all in the past)."""


def _serve() -> None:
    """The sandbox process: serve until stdin closes; print the base URL and the token."""
    from omnisdk_shopify.sandbox.app import ShopifySandbox

    from omnisdk.testing import LoopbackServer

    sandbox = ShopifySandbox()
    sandbox.lift_throttles()
    with LoopbackServer(sandbox.app) as server:
        print(json.dumps({"url": server.base_url, "token": sandbox.access_token}), flush=True)
        sys.stdin.read()
    sandbox.close()


def _seed(url: str, products: int, orders: int) -> None:
    control = f"{url}/_sandbox"
    catalog = [
        {"sku": f"SP-{i:05d}", "title": f"Nón lá Huế {i}", "price": "125000", "stock": 1_000}
        for i in range(products)
    ]
    with httpx.Client(timeout=3600) as client:
        client.post(f"{control}/seed", json={"products": catalog}).raise_for_status()
        step = 20_000
        for first in range(0, orders, step):
            batch = [
                {
                    "lines": [
                        {"sku": f"SP-{i % products:05d}", "quantity": 1},
                        {"sku": f"SP-{(i * 7 + 3) % products:05d}", "quantity": 2},
                    ],
                    "customer": {
                        "name": f"Nguyễn Thị Hương {i % BUYERS}",
                        "phone": f"+84 90 {i % BUYERS:07d}",
                        "email": f"huong{i % BUYERS}@example.vn",
                        "address": {
                            "ward": "Phường Bến Nghé",
                            "district": "Quận 1",
                            "province": "Hồ Chí Minh",
                        },
                    },
                    "created_at": (START + timedelta(seconds=i * SPREAD / orders)).isoformat(),
                }
                for i in range(first, min(first + step, orders))
            ]
            client.post(f"{control}/seed/orders", json={"orders": batch}).raise_for_status()


def _read_omnisdk(url: str, token: str) -> dict[str, Any]:
    """The reader process (omnisdk): every product and order as canonical models."""
    from omnisdk_shopify import plugin
    from omnisdk_shopify.channel import ShopifyChannel

    from omnisdk.plugins import Plugins

    plugins = Plugins(entry_points=False)
    plugins.register(plugin, name="shopify")
    settings = {
        "shop": "demo-shop",
        "base_url": url,
        "access_token": token,
        "api_version": "2026-10",
        "bulk_poll_interval": 0.2,
    }

    async def read() -> int:
        count = 0
        async with ShopifyChannel(settings, account="bench", plugins=plugins) as channel:
            async for _ in channel.stream_products():
                count += 1
            async for _ in channel.stream_orders():
                count += 1
        return count

    cpu = time.process_time()
    records = asyncio.run(read())
    return {"records": records, "cpu_s": time.process_time() - cpu}


def _read_tap(url: str, token: str) -> dict[str, Any]:
    """The reader process (tap-shopify): run the tap as a child, count its records."""
    python = TAP_VENV / "bin" / "python"
    with tempfile.TemporaryDirectory() as work:
        config = Path(work) / "config.json"
        config.write_text(
            json.dumps(
                {
                    "shop": "127",
                    "access_token": token,
                    "start_date": (START - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "results_per_page": 250,
                }
            )
        )
        base = [str(python), str(LAUNCHER), url, "--config", str(config)]
        found = subprocess.run([*base, "--discover"], capture_output=True, check=True, cwd=work)
        catalog = json.loads(found.stdout)
        for stream in catalog["streams"]:
            chosen = stream["tap_stream_id"] in ("products", "orders")
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == [] or entry["metadata"].get("inclusion") == "available":
                    entry["metadata"]["selected"] = chosen
        (Path(work) / "catalog.json").write_text(json.dumps(catalog))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        records = 0
        with subprocess.Popen(
            [*base, "--catalog", str(Path(work) / "catalog.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=work,
            text=True,
        ) as tap:
            assert tap.stdout is not None
            for line in tap.stdout:
                records += line.startswith('{"type":"RECORD"') or '"type": "RECORD"' in line[:30]
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"records": records, "cpu_s": cpu, "peak_rss_mb": after.ru_maxrss / 1024}


def _reader(kind: str, url: str, token: str) -> dict[str, Any]:
    """Run one reader in a fresh process; its records, CPU seconds and peak RSS."""
    done = subprocess.run(
        [sys.executable, __file__, "--read", kind, "--url", url, "--token", token],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{kind} reader failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    """Seed one sandbox, run each reader against it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--tap", action="store_true", help="also run tap-shopify")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--read", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve()
        return
    if args.read:
        result = (_read_omnisdk if args.read == "omnisdk" else _read_tap)(args.url, args.token)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result.setdefault("peak_rss_mb", own)
        print(json.dumps(result))
        return
    if args.tap and not (TAP_VENV / "bin" / "tap-shopify").exists():
        raise SystemExit(f"no tap-shopify virtualenv at {TAP_VENV} (make tools creates it)")
    with subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as server:
        assert server.stdout is not None and server.stdin is not None
        where = json.loads(server.stdout.readline())
        _seed(where["url"], args.products, args.orders)
        results = [{"reader": "omnisdk", **_reader("omnisdk", where["url"], where["token"])}]
        if args.tap:
            results.append(
                {"reader": "tap-shopify", **_reader("tap", where["url"], where["token"])}
            )
        server.stdin.close()
    base = results[0]["cpu_s"] / max(results[0]["records"], 1)
    for r in results:
        r["cpu_ms_per_record"] = 1000 * r["cpu_s"] / max(r["records"], 1)
        r["ratio"] = r["cpu_ms_per_record"] / (1000 * base) if base else None
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title=f"Reading {args.products:,} products and {args.orders:,} orders")
    for column in ("reader", "records", "CPU s", "CPU ms/record", "peak RSS", "x omnisdk"):
        table.add_column(column, justify="left" if column == "reader" else "right")
    for r in results:
        table.add_row(
            r["reader"],
            f"{r['records']:,}",
            f"{r['cpu_s']:.2f}",
            f"{r['cpu_ms_per_record']:.3f}",
            f"{r['peak_rss_mb']:.0f} MB",
            f"{r['ratio']:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
