"""Push: signed deliveries verify, codes map to canonical events, duplicates share a delivery
id, late pushes change nothing (the order is re-read), lost pushes are recovered."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from omnisdk_shopee import ShopeeChannel
from omnisdk_shopee.client import push_signature
from omnisdk_shopee.sandbox import ShopeeSandbox
from shopee_testkit import channel, frozen_sandbox, order, seed

from omnisdk import (
    ChannelEvent,
    EventKind,
    OrderStatus,
    WebhookRequest,
    WebhookVerificationError,
)
from omnisdk.store import open_store
from omnisdk.testing.faults import FaultSettings
from omnisdk.webhooks import WebhookReceiver

CALLBACK = "https://cua-hang.example.vn/webhooks/shopee?shop=hcm"


class Inbox:
    """A webhook endpoint as an httpx transport: keeps every delivery."""

    def __init__(self) -> None:
        self.received: list[WebhookRequest] = []
        self._lock = threading.Lock()
        self.transport = httpx.MockTransport(self._receive)

    def _receive(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.received.append(
                WebhookRequest(
                    body=request.content, headers=dict(request.headers), url=str(request.url)
                )
            )
        return httpx.Response(200)


def _sandbox_with_inbox(**kwargs: object) -> tuple[ShopeeSandbox, Inbox]:
    inbox = Inbox()
    sandbox = frozen_sandbox(webhook_transport=inbox.transport, **kwargs)
    seed(sandbox)
    return sandbox, inbox


async def test_registered_pushes_arrive_signed_and_map_to_events() -> None:
    sandbox, inbox = _sandbox_with_inbox()
    shop = channel(sandbox, push_callback_url=CALLBACK)
    topics = await shop.register_webhooks(CALLBACK)
    assert "order_status_push" in topics and sandbox.webhook_url == CALLBACK
    number = order(sandbox, {"AO-DAI-DO": 1})
    with sandbox.lock:
        sandbox.advance_order(number)  # paid
        sandbox.advance_order(number)  # shipment arranged: tracking number push too
    await sandbox.drain_webhooks()
    events = [e for request in inbox.received for e in shop.receive_webhook(request)]
    assert [(e.topic, e.kind, e.external_id) for e in events] == [
        ("order_status_push", EventKind.ORDER_CREATED, number),
        ("order_status_push", EventKind.ORDER_UPDATED, number),
        ("order_status_push", EventKind.ORDER_UPDATED, number),
        ("order_trackingno_push", EventKind.ORDER_UPDATED, number),
    ]
    assert all((e.channel, e.account) == ("shopee", "hcm") for e in events)
    assert events[0].raw is not None and events[0].raw["data"]["status"] == "UNPAID"
    assert len({e.delivery_id for e in events}) == 4
    await shop.aclose()


async def test_forged_or_misaddressed_pushes_are_refused() -> None:
    sandbox, inbox = _sandbox_with_inbox()
    shop = channel(sandbox, push_callback_url=CALLBACK)
    await shop.register_webhooks(CALLBACK)
    order(sandbox, {"NON-LA-HUE": 1})
    await sandbox.drain_webhooks()
    [real] = inbox.received
    shop.verify_webhook(real)
    tampered = real.body.replace(b"UNPAID", b"COMPLETED")
    for forged in (
        WebhookRequest(body=tampered, headers=real.headers),
        WebhookRequest(body=real.body, headers={}),
        WebhookRequest(
            body=real.body,
            headers={"authorization": push_signature("wrong-key", CALLBACK, real.body)},
        ),
    ):
        with pytest.raises(WebhookVerificationError):
            shop.receive_webhook(forged)
    elsewhere = channel(sandbox, push_callback_url="https://other.example.vn/hook")
    with pytest.raises(WebhookVerificationError, match="does not match"):
        elsewhere.receive_webhook(real)
    no_url = channel(sandbox)
    with pytest.raises(WebhookVerificationError, match="callback URL"):
        no_url.receive_webhook(WebhookRequest(body=real.body, headers=real.headers))
    # The URL the request states (from its Host header) is never trusted, even when it is
    # the registered one: only a configured callback URL is.
    assert real.url == CALLBACK
    with pytest.raises(WebhookVerificationError, match="callback URL"):
        no_url.receive_webhook(real)
    configured = WebhookRequest(body=real.body, headers=real.headers, callback_url=CALLBACK)
    assert no_url.receive_webhook(configured)
    await shop.aclose()


def _receiver_client(receiver: WebhookReceiver, host: str) -> httpx.AsyncClient:
    """A client of ``receiver`` whose requests say ``Host: host``."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app), base_url=host)


async def test_receiver_refuses_a_push_signed_for_the_host_the_client_names(
    tmp_path: Path,
) -> None:
    """Issue #10 item 5: a push signed for ``http://evil.example/...`` and sent with
    ``Host: evil.example`` verified, since the URL was built from the Host header."""
    sandbox, inbox = _sandbox_with_inbox()
    shop = channel(sandbox)  # no push_callback_url: the receiver's configured URL is used
    await shop.register_webhooks(CALLBACK)
    order(sandbox, {"NON-LA-HUE": 1})
    await sandbox.drain_webhooks()
    [delivery] = inbox.received
    body = delivery.body
    store = open_store(f"sqlite:///{tmp_path / 'omnisdk.db'}")
    store.ensure_account("hcm", "shopee")
    public = "https://cua-hang.example.vn"
    evil_url = "http://evil.example/webhooks/hcm"
    try:
        for receiver in (
            WebhookReceiver({"hcm": shop}, store, public_url=public),
            WebhookReceiver({"hcm": shop}, store),  # no configured URL at all
        ):
            evil = {"authorization": sandbox.signer.push_signature(evil_url, body)}
            async with _receiver_client(receiver, "http://evil.example") as client:
                answer = await client.post("/webhooks/hcm", content=body, headers=evil)
            assert answer.status_code == 401, answer.text
            assert receiver.pending() == 0 and receiver.rejected == 1
        accepted = WebhookReceiver({"hcm": shop}, store, public_url=public + "/")
        good = {"authorization": sandbox.signer.push_signature(f"{public}/webhooks/hcm", body)}
        # Whatever Host the proxy in front passes on, the configured URL is what is signed.
        async with _receiver_client(accepted, "http://127.0.0.1:8787") as client:
            answer = await client.post("/webhooks/hcm", content=body, headers=good)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "accepted", "events": 1}
    finally:
        store.close()
        await shop.aclose()


async def _status_events(
    *, duplicate: float, reorder: bool
) -> tuple[ShopeeSandbox, ShopeeChannel, str, list[ChannelEvent]]:
    sandbox, inbox = _sandbox_with_inbox()
    shop = channel(sandbox, push_callback_url=CALLBACK)
    await shop.register_webhooks(CALLBACK)
    sandbox.faults = FaultSettings(webhook_duplicate_rate=duplicate, webhook_reorder=reorder)
    number = order(sandbox, {"AO-THUN-TRANG-M": 2})
    for _ in range(3):
        sandbox.clock.advance(30)
        with sandbox.lock:
            sandbox.advance_order(number)
    await sandbox.drain_webhooks()
    events = [e for request in inbox.received for e in shop.receive_webhook(request)]
    return sandbox, shop, number, [e for e in events if e.topic == "order_status_push"]


async def _apply(shop: ShopeeChannel, events: list[ChannelEvent]) -> dict[str, OrderStatus]:
    """What the engine does with pushes: skip a delivery id seen before, re-read the order."""
    applied: dict[str, OrderStatus] = {}
    done: set[str | None] = set()
    for event in events:
        if event.delivery_id in done or event.external_id is None:
            continue
        done.add(event.delivery_id)
        applied[event.external_id] = (await shop.get_order(event.external_id)).status
    return applied


async def test_a_redelivered_push_has_the_same_delivery_id() -> None:
    _, shop, number, events = await _status_events(duplicate=1.0, reorder=False)
    assert len(events) == 8, "four pushes, each delivered twice"
    ids = [e.delivery_id for e in events]
    assert len(set(ids)) == 4 and all(ids.count(i) == 2 for i in ids)
    assert await _apply(shop, events) == {number: OrderStatus.SHIPPED}
    await shop.aclose()


async def test_pushes_out_of_order_leave_the_latest_state() -> None:
    _, shop, number, events = await _status_events(duplicate=0.0, reorder=True)
    times = [e.occurred_at for e in events if e.occurred_at is not None]
    assert len(events) == 4 and times != sorted(times), "the sandbox delivered out of order"
    assert await _apply(shop, events) == {number: OrderStatus.SHIPPED}
    await shop.aclose()


async def test_cancel_and_deauthorisation_pushes() -> None:
    sandbox, inbox = _sandbox_with_inbox()
    shop = channel(sandbox, push_callback_url=CALLBACK)
    await shop.register_webhooks(CALLBACK)
    number = order(sandbox, {"NON-LA-HUE": 1})
    with sandbox.lock:
        sandbox.cancel_order(number)
    sandbox.revoke_authorisation()
    await sandbox.drain_webhooks()
    events = [e for request in inbox.received for e in shop.receive_webhook(request)]
    kinds = [e.kind for e in events]
    assert kinds == [
        EventKind.ORDER_CREATED,
        EventKind.ORDER_CANCELLED,
        EventKind.CHANNEL_DEAUTHORISED,
    ]
    assert events[-1].topic == "shop_authorization_canceled_push"
    await shop.aclose()


async def test_pushes_for_another_shop_yield_nothing() -> None:
    sandbox, inbox = _sandbox_with_inbox(shop_id=411122233)
    shop = channel(sandbox, push_callback_url=CALLBACK)
    await shop.register_webhooks(CALLBACK)
    order(sandbox, {"NON-LA-HUE": 1})
    await sandbox.drain_webhooks()
    [delivery] = inbox.received
    other_shop = channel(sandbox, push_callback_url=CALLBACK, shop_id=322300222)
    assert other_shop.receive_webhook(delivery) == []
    assert shop.receive_webhook(delivery)
    await shop.aclose()


async def test_lost_pushes_are_recovered_and_confirmed() -> None:
    sandbox, inbox = _sandbox_with_inbox()
    shop = channel(sandbox)
    first = order(sandbox, {"NON-LA-HUE": 1})  # no callback URL yet: the push is lost
    second = order(sandbox, {"AO-DAI-DO": 1})
    assert inbox.received == []
    events = await shop.lost_push_events()
    assert [(e.kind, e.external_id) for e in events] == [
        (EventKind.ORDER_CREATED, first),
        (EventKind.ORDER_CREATED, second),
    ]
    assert await shop.lost_push_events() == [], "confirmed messages are not returned again"
    await shop.aclose()


async def test_unregistering_switches_every_topic_off() -> None:
    sandbox, inbox = _sandbox_with_inbox()
    shop = channel(sandbox)
    await shop.register_webhooks(CALLBACK)
    await shop.unregister_webhooks(CALLBACK)
    order(sandbox, {"NON-LA-HUE": 1})
    await sandbox.drain_webhooks()
    assert inbox.received == []
    assert sandbox.push_config["push_config_on_list"] == [5, 9, 10, 11, 13]
    await shop.aclose()
