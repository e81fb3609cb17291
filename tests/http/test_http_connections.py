"""Connection reuse over real loopback TCP, in-process ASGI apps, and the client's lifecycle."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from _http_testkit import AutoClock, LoopbackServer, Reply, Seen
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnisdk.errors import RateLimited
from omnisdk.http import HttpClient, Lane, RateBudget, RateLimiter


def stock_reply(seen: Seen) -> Reply:
    return Reply(200, body=json.dumps({"sku": "AO-THUN-CO-TRON-M", "stock": 12}).encode())


async def test_sequential_requests_share_one_tcp_connection() -> None:
    async with LoopbackServer(stock_reply) as server:
        http = HttpClient(base_url=server.url, channel="pos", account="cua-hang-q1")
        async with http:
            for _ in range(50):
                response = await http.get("/stock/AO-THUN-CO-TRON-M", lane=Lane.STOCK)
                assert response.json()["stock"] == 12
    assert len(server.requests) == 50
    assert server.connections == 1
    assert server.requests[0].headers["user-agent"].startswith("omnisdk")


async def test_concurrent_requests_stay_within_max_connections() -> None:
    async def slow_reply(seen: Seen) -> Reply:
        await asyncio.sleep(0.01)
        return stock_reply(seen)

    async with LoopbackServer(slow_reply) as server:
        http = HttpClient(base_url=server.url, channel="pos", account="q1", max_connections=3)
        async with http:
            await asyncio.gather(*(http.get(f"/stock/{n}") for n in range(30)))
    assert len(server.requests) == 30
    assert 1 < server.connections <= 3


async def test_asgi_app_in_process_with_a_rate_limit_answer() -> None:
    calls = 0

    async def orders(request: Request) -> JSONResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return JSONResponse(
                {"errors": "Throttled"}, status_code=429, headers={"Retry-After": "2.0"}
            )
        return JSONResponse(
            {
                "orders": [{"id": 1, "note": "Giao hàng giờ hành chính"}],
                "token_seen": request.headers["x-shopify-access-token"] != "",
            }
        )

    app = Starlette(routes=[Route("/admin/api/2025-07/orders.json", orders)])
    clock = AutoClock()
    async with HttpClient(
        base_url="http://shop.test",
        channel="shopify",
        account="q1",
        rate=RateBudget(requests_per_second=2, burst=40),
        headers={"X-Shopify-Access-Token": "shpat_abc123"},
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        sleep=clock.sleep,
    ) as http:
        response = await http.get(
            "/admin/api/2025-07/orders.json", lane=Lane.ORDERS, params={"status": "any"}
        )
    assert response.json()["orders"][0]["note"] == "Giao hàng giờ hành chính"
    assert response.json()["token_seen"] is True
    assert calls == 2
    assert clock.sleeps == [2.0]


async def test_two_clients_can_share_one_account_limiter() -> None:
    clock = AutoClock()
    shared = RateLimiter(RateBudget(requests_per_second=1, burst=1), clock=clock, sleep=clock.sleep)

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/throttled":
            return httpx.Response(429, headers={"Retry-After": "30"})
        return httpx.Response(200)

    transport = httpx.MockTransport(respond)
    orders = HttpClient(
        base_url="https://x.test",
        channel="lazada",
        account="vn",
        limiter=shared,
        transport=transport,
        max_attempts=1,
        clock=clock,
        sleep=clock.sleep,
    )
    catalog = HttpClient(
        base_url="https://x.test",
        channel="lazada",
        account="vn",
        limiter=shared,
        transport=transport,
        clock=clock,
        sleep=clock.sleep,
    )
    async with orders, catalog:
        with pytest.raises(RateLimited):
            await orders.get("/throttled")
        await catalog.get("/products/get")  # held back by the pause the other client set
    assert clock.elapsed == pytest.approx(30.0)


async def test_repr_shows_only_where_and_who() -> None:
    http = HttpClient(
        base_url="https://user:hunter22@shop.myshopify.com",
        channel="shopify",
        account="q1",
        headers={"Authorization": "Bearer sekrit-token"},
        secrets=["partner-key-1"],
    )
    async with http:
        assert repr(http) == (
            "HttpClient(base_url='https://user:***@shop.myshopify.com', "
            "channel='shopify', account='q1')"
        )
        assert http.secret_values() >= {"Bearer sekrit-token", "sekrit-token", "partner-key-1"}


async def test_a_closed_client_refuses_requests() -> None:
    http = HttpClient(
        base_url="https://x.test",
        channel="pos",
        account="q1",
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
    )
    await http.aclose()
    with pytest.raises(RuntimeError):
        await http.get("/x")
