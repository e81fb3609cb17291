"""How long does one request take on a reused connection to a loopback server?

Sends N sequential GET and N sequential POST requests on one ``httpx.Client`` connection to
an ``omnisdk.testing.LoopbackServer`` and prints the median, the slowest and the total. A
median near 40 ms means the server's accepted connections lack ``TCP_NODELAY`` (Nagle's
algorithm waiting for the client's delayed ACK); about 1 ms is the loopback's own cost.

    python benchmarks/loopback_latency.py          # 50 requests of each kind
    python benchmarks/loopback_latency.py -n 200
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from omnisdk.testing import LoopbackServer


async def reply(request: Request) -> PlainTextResponse:
    """A small body, so the response is a header write and a body write."""
    await request.body()
    return PlainTextResponse("x" * 200)


APP = Starlette(routes=[Route("/", reply, methods=["GET", "POST"])])


def timed_requests(client: httpx.Client, url: str, method: str, count: int) -> list[float]:
    """Milliseconds of each of ``count`` sequential requests."""
    spans = []
    for _ in range(count):
        start = time.perf_counter()
        if method == "GET":
            client.get(url).raise_for_status()
        else:
            client.post(url, json={"sku": "NON-LA-HUE", "quantity": 1}).raise_for_status()
        spans.append((time.perf_counter() - start) * 1000)
    return spans


def main() -> None:
    """Parse the arguments, run the requests, print one line per method."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=50, help="requests of each kind")
    args = parser.parse_args()
    with LoopbackServer(APP) as server, httpx.Client() as client:
        client.get(server.url("/")).raise_for_status()  # open the connection
        for method in ("GET", "POST"):
            spans = timed_requests(client, server.url("/"), method, args.requests)
            print(
                f"{method:<4} {args.requests} requests on one connection: "
                f"p50 {statistics.median(spans):.2f} ms, max {max(spans):.2f} ms, "
                f"total {sum(spans):.0f} ms"
            )


if __name__ == "__main__":
    main()
