"""Webhook delivery: signed, to the configured URL, with duplicate / reorder / delay / retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.testing import (
    BuyerLine,
    BuyerOrder,
    FaultSettings,
    LoopbackServer,
    SandboxControl,
    SeedProduct,
    WebhookRecorder,
)

Received = list[httpx.Request]


@pytest.fixture
def received() -> Received:
    return []


@pytest.fixture
def sandbox(received: Received) -> Iterator[ExampleSandbox]:
    """A sandbox delivering into an in-memory transport that records every request."""
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            received.append(request)
        return httpx.Response(200)

    with ExampleSandbox(seed=3, webhook_transport=httpx.MockTransport(answer)) as sandbox:
        sandbox.webhook_url = "http://receiver.test/hooks"
        seed(sandbox, "NON-LA", "Nón lá Huế")
        yield sandbox


def seed(sandbox: ExampleSandbox, sku: str, title: str) -> None:
    with sandbox.lock:
        sandbox.seed_products(
            [SeedProduct(sku=sku, title=title, price=85_000, currency="VND", stock=100)]
        )


def order(sandbox: ExampleSandbox, sku: str = "NON-LA") -> str:
    with sandbox.lock:
        return sandbox.place_order(BuyerOrder(lines=[BuyerLine(sku=sku, quantity=1)]))


def order_id_of(request: httpx.Request) -> str:
    return str(json.loads(request.content)["data"]["id"])


async def test_deliveries_are_signed_over_the_raw_body(
    sandbox: ExampleSandbox, received: Received
) -> None:
    order_id = order(sandbox)
    await sandbox.drain_webhooks()
    [request] = received
    assert str(request.url) == "http://receiver.test/hooks"
    assert request.headers["x-example-topic"] == "order.created"
    digest = hmac.new(sandbox.webhook_secret.encode(), request.content, hashlib.sha256).digest()
    assert request.headers["x-example-signature"] == base64.b64encode(digest).decode()
    payload = json.loads(request.content)
    assert payload["data"]["id"] == order_id
    assert "Nón lá Huế" in request.content.decode("utf-8")  # raw UTF-8, not \\u escapes
    [entry] = sandbox.state()["webhooks"]
    assert entry == {
        "topic": "order.created",
        "status": 200,
        "attempt": 1,
        "delivery_id": request.headers["x-example-delivery"],
        "url": "http://receiver.test/hooks",
        "duplicate": False,
        "error": None,
    }


async def test_no_url_means_no_delivery(sandbox: ExampleSandbox, received: Received) -> None:
    sandbox.webhook_url = None
    order(sandbox)
    await sandbox.drain_webhooks()
    assert received == [] and sandbox.webhook_log == []


async def test_duplicates_repeat_the_same_delivery_id(
    sandbox: ExampleSandbox, received: Received
) -> None:
    sandbox.faults = FaultSettings(webhook_duplicate_rate=1.0)
    order(sandbox)
    order(sandbox)
    await sandbox.drain_webhooks()
    ids = [r.headers["x-example-delivery"] for r in received]
    assert len(ids) == 4 and ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    assert received[0].content == received[1].content
    assert [e["duplicate"] for e in sandbox.webhook_log] == [False, True, False, True]


async def test_reorder_swaps_each_pair_and_drain_releases_the_last(
    sandbox: ExampleSandbox, received: Received
) -> None:
    sandbox.faults = FaultSettings(webhook_reorder=True)
    placed = [order(sandbox) for _ in range(3)]
    await sandbox.drain_webhooks()
    assert [order_id_of(r) for r in received] == [placed[1], placed[0], placed[2]]


async def test_delay_holds_deliveries_back(sandbox: ExampleSandbox, received: Received) -> None:
    sandbox.faults = FaultSettings(webhook_delay=0.3)
    order(sandbox)
    assert received == []
    await sandbox.drain_webhooks(timeout=5)
    assert len(received) == 1


async def test_drain_times_out_while_deliveries_are_pending(sandbox: ExampleSandbox) -> None:
    sandbox.faults = FaultSettings(webhook_delay=30)
    order(sandbox)
    with pytest.raises(TimeoutError, match="1 webhook deliveries still pending"):
        await sandbox.drain_webhooks(timeout=0.1)
    sandbox.reset()  # forgets pending deliveries
    await sandbox.drain_webhooks(timeout=1)


async def test_failed_deliveries_are_retried_and_every_attempt_logged() -> None:
    recorder = WebhookRecorder()
    recorder.fail_next(2, status=503)
    with ExampleSandbox() as sandbox, LoopbackServer(recorder.app) as receiver:
        sandbox.webhook_url = receiver.url("/hooks")
        seed(sandbox, "AM-TRA", "Ấm trà Bát Tràng")
        order(sandbox, "AM-TRA")
        await sandbox.drain_webhooks(timeout=10)
        log = sandbox.webhook_log
    assert [(e["attempt"], e["status"]) for e in log] == [(1, 503), (2, 503), (3, 200)]
    assert len({e["delivery_id"] for e in log}) == 1
    assert len(recorder.deliveries) == 3


async def test_a_receiver_that_is_down_is_logged_as_errors() -> None:
    with ExampleSandbox() as sandbox:
        sandbox.webhook_url = "http://127.0.0.1:9/unreachable"  # the discard port: refused
        sandbox.emit_webhook("order.created", {"data": {"id": "x"}})
        await sandbox.drain_webhooks(timeout=10)
        log = sandbox.webhook_log
    assert [e["attempt"] for e in log] == [1, 2, 3]
    assert all(e["status"] is None and "ConnectError" in e["error"] for e in log)


async def test_the_control_api_sets_the_url_and_drains() -> None:
    recorder = WebhookRecorder()
    with ExampleSandbox() as sandbox, LoopbackServer(recorder.app) as receiver:
        async with SandboxControl.for_sandbox(sandbox) as control:
            await control.set_webhook_url(receiver.url("/hooks/example"))
            await control.seed(
                [
                    {
                        "sku": "KHAN",
                        "title": "Khăn rằn",
                        "price": "45000",
                        "currency": "VND",
                        "stock": 2,
                    }
                ]
            )
            order_id = await control.place_order([("KHAN", 1)])
            await control.cancel_order(order_id)
            log = await control.drain_webhooks()
    assert [e["topic"] for e in log] == ["order.created", "order.cancelled"]
    assert [d.header("x-example-topic") for d in recorder.deliveries] == [
        "order.created",
        "order.cancelled",
    ]
    assert all(d.path == "/hooks/example" for d in recorder.deliveries)


class SubscribedSandbox(ExampleSandbox):
    """A sandbox whose platform API registered more URLs for ``order.created``."""

    erp_hooks: ClassVar[dict[str, list[str]]] = {
        "order.created": ["http://erp.test/hooks", "http://receiver.test/hooks"],
        "order.cancelled": ["http://erp.test/cancelled"],
    }

    def webhook_subscribers(self, topic: str) -> list[str]:
        return self.erp_hooks.get(topic, [])


def recording_transport(received: Received) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    return httpx.MockTransport(answer)


async def test_a_webhook_fans_out_to_every_subscriber_once() -> None:
    received: Received = []
    with SubscribedSandbox(seed=3, webhook_transport=recording_transport(received)) as sandbox:
        sandbox.webhook_url = "http://receiver.test/hooks"
        sandbox.emit_webhook("order.created", {"data": {"id": "1001"}})
        await sandbox.drain_webhooks()
        urls = [str(r.url) for r in received]
        assert urls == ["http://receiver.test/hooks", "http://erp.test/hooks"]  # each once
        assert received[0].content == received[1].content
        ids = {r.headers["x-example-delivery"] for r in received}
        assert len(ids) == 2  # one delivery per target, each signed on its own
        assert [e["url"] for e in sandbox.webhook_log] == urls


async def test_subscribers_get_webhooks_without_a_control_url() -> None:
    received: Received = []
    with SubscribedSandbox(seed=3, webhook_transport=recording_transport(received)) as sandbox:
        sandbox.emit_webhook("order.cancelled", {"data": {"id": "1001"}})
        sandbox.emit_webhook("order.updated", {"data": {"id": "1001"}})  # nobody listens
        await sandbox.drain_webhooks()
        assert [str(r.url) for r in received] == ["http://erp.test/cancelled"]
