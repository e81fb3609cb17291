"""How many calls does the first stock push of N SKUs make to one channel?

Serves the channel's sandbox on loopback, seeds N listings, imports them as the master
catalog, counts every SKU, then times ``engine.push()`` and counts its HTTP requests by kind
(method, path and GraphQL operation). The first push reads what each listing shows before it
writes, so the reads are what grows with N.

    python benchmarks/first_push.py                     # 2,000 SKUs on shopify
    python benchmarks/first_push.py --skus 500 --channel shopee
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from omnisdk.config import load_config
from omnisdk.demo import demo_channel_types, serve_sandboxes, write_demo_config
from omnisdk.plugins import default_plugins
from omnisdk.sync.engine import Engine
from omnisdk.testing.registration import unthrottled

OPERATION = re.compile(rb"(?:query|mutation)\s+(\w+)")


class CallCounter:
    """Counts the requests every httpx.AsyncClient sends while ``counting`` is on."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.counting = False
        self._send = httpx.AsyncClient.send

    def install(self) -> None:
        counter = self

        async def send(client: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
            if counter.counting:
                found = OPERATION.search(request.content[:300])
                operation = found.group(1).decode() if found else ""
                counter.calls[f"{request.method} {request.url.path} {operation}".strip()] += 1
            return await counter._send(client, request, **kw)

        httpx.AsyncClient.send = send  # type: ignore[method-assign]


async def first_push(channel_type: str, skus: int, counter: CallCounter) -> float:
    plugins = default_plugins()
    types = [t for t in demo_channel_types(plugins) if t[0] == channel_type]
    if not types:
        raise SystemExit(f"no sandbox for channel type {channel_type!r}")
    catalog = [
        {"sku": f"ÁO-{n:05d}", "title": f"Áo thun {n}", "price": "150000", "currency": "VND",
         "stock": 5}
        for n in range(skus)
    ]
    with tempfile.TemporaryDirectory() as folder:
        async with serve_sandboxes(types) as channels:
            await channels[0].control.seed(catalog)
            path = write_demo_config(
                Path(folder), channels, safety_buffer=0, poll_orders="1h", push_interval="1h"
            )
            config = load_config(path, plugins=plugins)
            async with Engine(config, plugins=plugins) as engine:
                for channel in engine.channels.values():
                    unthrottled(channel)
                await engine.import_catalog(channels[0].account)
                for item in catalog:
                    await engine.set_stock(item["sku"], 7)
                counter.counting = True
                started = time.perf_counter()
                await engine.push()
                elapsed = time.perf_counter() - started
                counter.counting = False
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--channel", default="shopify")
    args = parser.parse_args()
    counter = CallCounter()
    counter.install()
    elapsed = asyncio.run(first_push(args.channel, args.skus, counter))
    print(f"first push of {args.skus} SKUs to {args.channel}: "
          f"{sum(counter.calls.values())} requests in {elapsed:.1f} s")
    print(f"{'requests':>8}  kind")
    for kind, count in counter.calls.most_common():
        print(f"{count:>8}  {kind}")


if __name__ == "__main__":
    main()
