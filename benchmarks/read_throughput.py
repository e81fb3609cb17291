"""How much client CPU and memory does reading a Shopify shop cost, per record?

For each size N (records: a tenth products of one variant, the rest orders of two lines, each
order from one of 5,000 buyers with Vietnamese names, ``+84`` phones and emails), a Shopify
sandbox (throttles lifted) runs in a process of its own, so nothing it does is counted
against a reader, and is filled through the bulk seed. Then each reader runs in a fresh
process against that sandbox and reads every product and every order:

- ``omnisdk``: ``ShopifyChannel.stream_products()`` and ``stream_orders()``, canonical
  models out (a list past ``bulk_threshold`` comes as one bulk export, JSONL streamed);
- ``tap`` (``--tap``): tap-shopify in its own virtualenv, as the tests run it, with its
  ``products`` and ``orders`` streams selected whole; Singer records out, counted;
- ``tap-narrow`` (``--narrow``): the same tap with a catalog that selects only the fields
  omnisdk's own queries read (the top-level fields of its bulk documents the tap's schema
  has), so the tap asks for and emits no more than omnisdk maps.

Printed per size and reader: records read, CPU seconds of the reader's process (user +
system; the sandbox excluded), CPU per record, peak resident set size (the process's own
``VmHWM``: ``ru_maxrss`` would count the RSS of the process that started it), wall time, and
the CPU per record as a multiple of omnisdk's at the same size.

    python benchmarks/read_throughput.py                             # 22,000 records, omnisdk
    python benchmarks/read_throughput.py --sizes 22000,220000 --tap --narrow
    python benchmarks/read_throughput.py --sizes 22000,220000 --tap --narrow --tap-up-to 22000
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


def _peak_rss_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident set size (``VmHWM``), in MB; None once it is gone.

    ``ru_maxrss`` is no use here: a process started by another inherits its starter's peak
    (Linux keeps the larger across ``exec``), so a reader started by the process that built
    the seed would report the seeder's memory.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _top_fields(document: str) -> set[str]:
    """The field names of the root objects a bulk document reads (``id name ... lineItems``):
    the names at the depth of ``node { ... }``, without arguments."""
    fields: set[str] = set()
    depth, node_depth = 0, None
    for token in document.replace("{", " { ").replace("}", " } ").split():
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if node_depth is not None and depth < node_depth:
                node_depth = None
        elif token == "node" and node_depth is None:
            node_depth = depth + 1
        elif node_depth is not None and depth == node_depth:
            name = token.split("(", 1)[0]
            if name.isidentifier():
                fields.add(name)
    return fields


def _narrowed_fields() -> dict[str, set[str]]:
    """Per tap stream, the top-level fields omnisdk's own bulk queries read."""
    from omnisdk_shopify import queries

    return {
        "orders": _top_fields(queries.bulk_orders_query(None)),
        "products": _top_fields(queries.BULK_PRODUCTS),
    }


def _read_tap(url: str, token: str, *, narrow: bool = False) -> dict[str, Any]:
    """The reader process (tap-shopify): run the tap as a child, count its records.

    With ``narrow`` only the fields omnisdk reads are selected (the tap leaves the others
    out of its queries and its records).
    """
    python = TAP_VENV / "bin" / "python"
    wanted = _narrowed_fields() if narrow else {}
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
            name = stream["tap_stream_id"]
            chosen = name in ("products", "orders")
            for entry in stream["metadata"]:
                crumb = entry["breadcrumb"]
                if crumb == []:
                    entry["metadata"]["selected"] = chosen
                elif entry["metadata"].get("inclusion") == "available":
                    field = crumb[-1] if len(crumb) == 2 else None
                    entry["metadata"]["selected"] = chosen and (
                        not narrow or field in wanted.get(name, set())
                    )
        (Path(work) / "catalog.json").write_text(json.dumps(catalog))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        records, peak = 0, 0.0
        with subprocess.Popen(
            [*base, "--catalog", str(Path(work) / "catalog.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=work,
            text=True,
        ) as tap:
            assert tap.stdout is not None
            for number, line in enumerate(tap.stdout):
                records += line.startswith('{"type":"RECORD"') or '"type": "RECORD"' in line[:30]
                if number % 500 == 0:
                    peak = max(peak, _peak_rss_mb(tap.pid) or 0.0)
            peak = max(peak, _peak_rss_mb(tap.pid) or 0.0)  # still there until it is waited
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"records": records, "cpu_s": cpu, "peak_rss_mb": peak}


READERS = {
    "omnisdk": lambda url, token: _read_omnisdk(url, token),
    "tap": lambda url, token: _read_tap(url, token),
    "tap-narrow": lambda url, token: _read_tap(url, token, narrow=True),
}


def _reader(kind: str, url: str, token: str) -> dict[str, Any]:
    """Run one reader in a fresh process; its records, CPU seconds, peak RSS and wall time."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, __file__, "--read", kind, "--url", url, "--token", token],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{kind} reader failed:\n{done.stderr[-3000:]}")
    result = dict(json.loads(done.stdout.splitlines()[-1]))
    result["wall_s"] = time.monotonic() - started
    return result


def _measure(size: int, readers: list[str], console: Console | None) -> list[dict[str, Any]]:
    """Serve and seed one sandbox of ``size`` records, run each reader against it."""
    products = max(size // 11, 1)
    orders = size - products
    with subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as server:
        assert server.stdout is not None and server.stdin is not None
        where = json.loads(server.stdout.readline())
        started = time.monotonic()
        _seed(where["url"], products, orders)
        if console is not None:
            console.log(
                f"{size:,}: seeded {products:,} products and {orders:,} orders "
                f"in {time.monotonic() - started:.1f} s"
            )
        results = []
        for kind in readers:
            result = {"size": size, "reader": kind, **_reader(kind, where["url"], where["token"])}
            results.append(result)
            if console is not None:
                console.log(
                    f"{size:,}: {kind}: {result['records']:,} records, "
                    f"{result['cpu_s']:.2f} s CPU, {result['wall_s']:.0f} s wall"
                )
        server.stdin.close()
    base = next((r for r in results if r["reader"] == "omnisdk"), None)
    for r in results:
        r["cpu_ms_per_record"] = 1000 * r["cpu_s"] / max(r["records"], 1)
        r["ratio"] = (
            r["cpu_ms_per_record"] / base["cpu_ms_per_record"]
            if base and base["cpu_ms_per_record"]
            else None
        )
    return results


def main() -> None:
    """Seed one sandbox per size, run each reader against it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="22000",
        help="records per run, comma separated (a tenth products, the rest orders)",
    )
    parser.add_argument("--tap", action="store_true", help="also run tap-shopify")
    parser.add_argument(
        "--narrow", action="store_true", help="also run tap-shopify narrowed to omnisdk's fields"
    )
    parser.add_argument(
        "--tap-up-to",
        type=int,
        default=None,
        help="run the tap readers only at sizes up to this many records",
    )
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
        result = READERS[args.read](args.url, args.token)
        result.setdefault("peak_rss_mb", _peak_rss_mb())
        print(json.dumps(result))
        return
    taps = [kind for kind, wanted in (("tap", args.tap), ("tap-narrow", args.narrow)) if wanted]
    if taps and not (TAP_VENV / "bin" / "tap-shopify").exists():
        raise SystemExit(f"no tap-shopify virtualenv at {TAP_VENV} (make tools creates it)")
    console = None if args.json else Console(stderr=True)
    results: list[dict[str, Any]] = []
    for size in (int(text) for text in args.sizes.split(",")):
        with_taps = args.tap_up_to is None or size <= args.tap_up_to
        results += _measure(size, ["omnisdk", *(taps if with_taps else [])], console)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title="Reading a Shopify shop: client CPU and memory per reader")
    columns = (
        "size",
        "reader",
        "records",
        "CPU s",
        "CPU ms/record",
        "peak RSS",
        "wall s",
        "x omnisdk",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "reader" else "right")
    for r in results:
        table.add_row(
            f"{r['size']:,}",
            r["reader"],
            f"{r['records']:,}",
            f"{r['cpu_s']:.2f}",
            f"{r['cpu_ms_per_record']:.3f}",
            f"{r['peak_rss_mb']:.0f} MB",
            f"{r['wall_s']:.0f}",
            f"{r['ratio']:.1f}" if r["ratio"] is not None else "",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
