"""The webhook receiver: valid, forged, redelivered and unknown-account deliveries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk import ChannelEvent, EventKind, Plugins
from omnisdk.store import Store, open_store
from omnisdk.testing import BuyerLine, BuyerOrder, ContributeChannels, SeedProduct
from omnisdk.testing.sandbox import dumps
from omnisdk.webhooks import WebhookBatch, WebhookReceiver

ACCOUNT = "hanoi-shop"


@pytest.fixture
def sandbox() -> Iterator[ExampleSandbox]:
    emulator = ExampleSandbox()
    with emulator.lock:
        emulator.seed_products(
            [SeedProduct(sku="AO-DAI-LUA", title="Áo dài lụa tơ tằm", price=1850000, stock=5)]
        )
    yield emulator
    emulator.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'omnisdk.db'}")
    opened.ensure_account(ACCOUNT, "example")
    yield opened
    opened.close()


@pytest.fixture
def receiver(sandbox: ExampleSandbox, store: Store) -> WebhookReceiver:
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(ExampleChannel), name="example")
    channel = ExampleChannel(
        sandbox.channel_settings("http://sandbox.test"), account=ACCOUNT, plugins=plugins
    )
    return WebhookReceiver({ACCOUNT: channel}, store, queue_size=2)


@pytest.fixture
async def client(receiver: WebhookReceiver) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=receiver.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as http:
        yield http


def signed_delivery(
    sandbox: ExampleSandbox, topic: str = "order.created"
) -> tuple[bytes, dict[str, str]]:
    """An order placed on the sandbox, as the platform would deliver it (signed)."""
    with sandbox.lock:
        order_id = sandbox.place_order(
            BuyerOrder(
                lines=[BuyerLine(sku="AO-DAI-LUA", quantity=1)],
                customer={"name": "Nguyễn Thị Hoa", "phone": "+84912345678"},
            )
        )
        payload = {
            "topic": topic,
            "created_at": sandbox.clock.now(),
            "data": sandbox.orders[order_id],
        }
        body = dumps(payload)
        return body, sandbox.sign_webhook(topic, body)


async def test_a_valid_delivery_is_verified_parsed_and_queued(
    sandbox: ExampleSandbox, receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    body, headers = signed_delivery(sandbox)

    response = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)

    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "events": 1}
    assert receiver.pending() == 1
    batch = receiver.next_batch_nowait()
    assert batch is not None
    assert batch.account == ACCOUNT
    assert batch.delivery_ids == (headers["X-Example-Delivery"],)
    [event] = batch.events
    assert event.kind is EventKind.ORDER_CREATED
    assert event.order is not None
    assert event.order.customer is not None
    assert event.order.customer.full_name == "Nguyễn Thị Hoa"
    assert event.order.lines[0].sku == "AO-DAI-LUA"


def remembering(store: Store, handled: list[str]) -> Any:
    """A handler that, like the engine, remembers each delivery id once it processed it."""

    async def handle(account: str, events: list[ChannelEvent]) -> None:
        for event in events:
            assert event.delivery_id is not None
            store.remember_delivery(account, event.delivery_id)
            handled.append(event.delivery_id)

    return handle


async def test_a_redelivery_is_answered_200_and_changes_nothing(
    sandbox: ExampleSandbox, store: Store, receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    body, headers = signed_delivery(sandbox)
    handled: list[str] = []

    first = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)
    while_queued = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)
    await receiver.drain(remembering(store, handled))
    after_processing = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)

    assert first.json()["status"] == "accepted"
    for again in (while_queued, after_processing):
        assert again.status_code == 200
        assert again.json() == {"status": "duplicate", "events": 0}
    assert handled == [headers["X-Example-Delivery"]]
    assert receiver.pending() == 0
    assert receiver.duplicates == 2


async def test_a_delivery_that_failed_is_processed_when_the_platform_retries(
    sandbox: ExampleSandbox, store: Store, receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    body, headers = signed_delivery(sandbox)

    async def failing(account: str, events: list[ChannelEvent]) -> None:
        raise RuntimeError("database is locked")

    await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)
    await receiver.drain(failing)
    retry = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)

    assert retry.json()["status"] == "accepted"
    assert receiver.pending() == 1


async def test_a_forged_delivery_is_refused_401_without_echoing_secrets(
    sandbox: ExampleSandbox,
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, headers = signed_delivery(sandbox)
    tampered = body.replace(b'"quantity":1', b'"quantity":9')
    assert tampered != body

    with caplog.at_level(logging.DEBUG):
        forged = await client.post(f"/webhooks/{ACCOUNT}", content=tampered, headers=headers)
        unsigned = await client.post(
            f"/webhooks/{ACCOUNT}",
            content=body,
            headers={k: v for k, v in headers.items() if k != "X-Example-Signature"},
        )

    assert forged.status_code == 401
    assert unsigned.status_code == 401
    assert forged.json()["error"] == "invalid_webhook"
    assert receiver.pending() == 0
    assert receiver.rejected == 2
    for secret in (sandbox.webhook_secret, headers["X-Example-Signature"]):
        assert secret not in caplog.text
        assert secret not in forged.text


async def test_a_forged_delivery_does_not_burn_the_delivery_id(
    sandbox: ExampleSandbox, receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    body, headers = signed_delivery(sandbox)
    await client.post(f"/webhooks/{ACCOUNT}", content=body + b" ", headers=headers)

    genuine = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)

    assert genuine.json()["status"] == "accepted"


async def test_an_unknown_account_is_404(
    sandbox: ExampleSandbox, receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    body, headers = signed_delivery(sandbox)

    response = await client.post("/webhooks/da-nang-shop", content=body, headers=headers)

    assert response.status_code == 404
    assert response.json()["error"] == "unknown_account"
    assert receiver.pending() == 0


async def test_only_post_is_served(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/webhooks/{ACCOUNT}")).status_code == 405
    assert (await client.get("/healthz")).json()["status"] == "ok"


async def test_an_oversized_body_is_413(
    sandbox: ExampleSandbox, store: Store, receiver: WebhookReceiver
) -> None:
    small = WebhookReceiver(receiver.channels, store, max_body=64)
    body, headers = signed_delivery(sandbox)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=small.app), base_url="http://receiver.test"
    ) as http:
        response = await http.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)
    assert response.status_code == 413


async def test_a_full_queue_asks_for_a_retry_and_the_retry_is_not_a_duplicate(
    sandbox: ExampleSandbox, receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    for _ in range(2):
        body, headers = signed_delivery(sandbox)
        assert (await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)).json()[
            "status"
        ] == "accepted"
    body, headers = signed_delivery(sandbox)

    busy = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)
    handled: list[tuple[str, list[ChannelEvent]]] = []

    async def handle(account: str, events: list[ChannelEvent]) -> None:
        handled.append((account, events))

    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    assert await receiver.drain(handle) == 2
    retry = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)
    assert retry.json()["status"] == "accepted"
    assert [account for account, _ in handled] == [ACCOUNT, ACCOUNT]


async def test_the_consumer_hands_events_on_and_reports_failures(
    sandbox: ExampleSandbox, receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    seen: list[str | None] = []
    failed: list[tuple[WebhookBatch, Exception]] = []

    async def handle(account: str, events: list[ChannelEvent]) -> None:
        for event in events:
            seen.append(event.external_id)
        if len(seen) == 1:
            raise RuntimeError("the database is briefly unavailable")

    async def report(batch: WebhookBatch, exc: Exception) -> None:
        failed.append((batch, exc))

    consumer = asyncio.create_task(receiver.consume(handle, on_error=report))
    for _ in range(2):
        body, headers = signed_delivery(sandbox)
        await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)
    await asyncio.wait_for(receiver.join(), 5)
    consumer.cancel()

    assert len(seen) == 2
    assert len(failed) == 1
    assert failed[0][0].account == ACCOUNT
    assert "briefly unavailable" in str(failed[0][1])


async def test_a_slow_account_does_not_hold_up_the_others(
    receiver: WebhookReceiver,
) -> None:
    def batch(account: str, number: int) -> WebhookBatch:
        event = ChannelEvent(
            kind=EventKind.ORDER_CREATED, channel="example", account=account, topic="order.created"
        )
        return WebhookBatch(account=account, events=[event], delivery_ids=(f"{account}-{number}",))

    release = asyncio.Event()
    fast_done = asyncio.Event()
    handled: list[str] = []

    async def handle(account: str, events: list[ChannelEvent]) -> None:
        if account == "shopee-slow":
            await release.wait()  # e.g. a bare hint that needs a fetch from the platform
        handled.append(account)
        if account == ACCOUNT:
            fast_done.set()

    consumer = asyncio.create_task(receiver.consume(handle))
    receiver.enqueue(batch("shopee-slow", 1))
    receiver.enqueue(batch("shopee-slow", 2))
    receiver.enqueue(batch(ACCOUNT, 1))
    try:
        await asyncio.wait_for(fast_done.wait(), 5)
        assert handled == [ACCOUNT]
        assert receiver.pending() == 1  # the slow account's second batch waits its turn
        release.set()
        await asyncio.wait_for(receiver.join(), 5)
    finally:
        consumer.cancel()
    assert handled == [ACCOUNT, "shopee-slow", "shopee-slow"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"topic": "order.created", "created_at": 1e999999, "data": {}}',
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ],
    ids=["not-json", "overflowing-number", "nested-100000-deep"],
)
async def test_a_signed_body_that_cannot_be_read_is_a_400_not_a_forgery(
    sandbox: ExampleSandbox, receiver: WebhookReceiver, client: httpx.AsyncClient, body: bytes
) -> None:
    headers = sandbox.sign_webhook("order.created", body)

    answer = await client.post(f"/webhooks/{ACCOUNT}", content=body, headers=headers)

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_body"
    assert receiver.pending() == 0
    assert receiver.rejected == 1
