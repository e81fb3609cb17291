"""The generated sandbox on the kit's helpers: one token check, one webhook fan-out, paging."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from omnisdk_example.sandbox import ExampleSandbox
from starlette.routing import Route

from omnisdk.testing import BuyerLine, BuyerOrder, SeedProduct


@pytest.fixture
def sandbox() -> Iterator[ExampleSandbox]:
    """An Example sandbox whose webhook receivers all answer 200, with three listings."""
    receivers = httpx.MockTransport(lambda request: httpx.Response(200))
    with ExampleSandbox(seed=5, webhook_transport=receivers) as sandbox:
        with sandbox.lock:
            sandbox.seed_products(
                [
                    SeedProduct(sku=f"AO-{n}", title=f"Áo {n}", price=450_000, stock=5)
                    for n in range(3)
                ]
            )
        yield sandbox


def delivered(sandbox: ExampleSandbox) -> list[tuple[str, str]]:
    """``(url, topic)`` of every delivery so far, once the queue is drained."""
    asyncio.run(sandbox.drain_webhooks())
    return sorted((entry["url"], entry["topic"]) for entry in sandbox.webhook_log)


def call(
    sandbox: ExampleSandbox, method: str, path: str, *, token: str | None, **kwargs: Any
) -> httpx.Response:
    """One platform call through the ASGI app (``token`` None: no Authorization header)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=sandbox.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(send())


def test_every_platform_endpoint_refuses_a_request_without_the_token(
    sandbox: ExampleSandbox,
) -> None:
    routes = [r for r in sandbox.platform_routes() if isinstance(r, Route)]
    assert len(routes) >= 10
    for found in routes:
        path = found.path.replace("{order_id}", "ord_00001")
        for method in sorted((found.methods or set()) - {"HEAD"}):
            for token in (None, "tok_forged"):
                answer = call(sandbox, method, path, token=token)
                assert answer.status_code == 401, (method, path, token)
                assert answer.json()["error"] == "unauthorized"
    assert call(sandbox, "GET", "/shop", token=sandbox.api_token).status_code == 200


def test_each_subscriber_gets_the_topics_it_subscribed_to(sandbox: ExampleSandbox) -> None:
    token = sandbox.api_token
    everything = {"url": "http://all.test/hooks"}
    created_only = {"url": "http://new.test/hooks", "topics": ["order.created"]}
    for body in (everything, created_only):
        assert call(sandbox, "POST", "/webhooks", token=token, json=body).status_code == 201
    with sandbox.lock:
        order_id = sandbox.place_order(BuyerOrder(lines=[BuyerLine(sku="AO-0", quantity=1)]))
        sandbox.advance_order(order_id)
    assert delivered(sandbox) == [
        ("http://all.test/hooks", "order.created"),
        ("http://all.test/hooks", "order.updated"),
        ("http://new.test/hooks", "order.created"),
    ]

    gone = call(sandbox, "DELETE", "/webhooks", token=token, params={"url": everything["url"]})
    assert gone.json() == {"url": everything["url"], "deleted": True}
    with sandbox.lock:
        sandbox.cancel_order(order_id)
    assert len(delivered(sandbox)) == 3
    listed = call(sandbox, "GET", "/webhooks", token=token).json()
    assert listed == {"webhooks": [{"url": created_only["url"], "topics": ["order.created"]}]}


def test_numbered_pages_cover_every_product_once(sandbox: ExampleSandbox) -> None:
    token = sandbox.api_token
    first = call(sandbox, "GET", "/products", token=token, params={"limit": 2}).json()
    second = call(sandbox, "GET", "/products", token=token, params={"page": 2, "limit": 2}).json()
    assert (first["page"], first["limit"], first["total"], first["has_more"]) == (1, 2, 3, True)
    assert (second["page"], second["has_more"]) == (2, False)
    skus = [v["sku"] for p in first["products"] + second["products"] for v in p["variants"]]
    assert skus == ["AO-0", "AO-1", "AO-2"]
    too_big = call(sandbox, "GET", "/customers", token=token, params={"limit": 101})
    assert too_big.status_code == 400 and too_big.json()["field"] == "limit"
