"""Push: signed deliveries verify on the raw body, parse into events, duplicates share an id."""

from __future__ import annotations

import json

import httpx
import pytest
from lazada_testkit import channel, frozen_sandbox, order, seed
from omnisdk_lazada.webhooks import delivery_id, events_from_push, parse_push

from omnisdk import EventKind, WebhookRequest, WebhookVerificationError

DOC_BODY = (
    b'{"seller_id":"1234567","message_type":0,"data":{"order_status":"pending",'
    b'"trade_order_id":"260422900198363","trade_order_line_id":"260422900298363",'
    b'"status_update_time":1700000000},"timestamp":1700000001234,"site":"lazada_vn"}'
)


async def test_sandbox_pushes_verify_and_name_the_order() -> None:
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    sandbox = frozen_sandbox(webhook_transport=httpx.MockTransport(answer))
    sandbox.webhook_url = "https://erp.example.vn/lazada/push"
    seed(sandbox)
    placed = order(sandbox, {"AO-DAI-DO": 2}, customer={"payment": "card", "name": "Đỗ Minh"})
    sandbox.clock.advance(30)
    sandbox.advance_order(placed)  # both units paid: unpaid -> pending
    await sandbox.drain_webhooks()
    seller = channel(sandbox)
    events = []
    for request in received:
        assert request.headers["content-type"] == "application/json"
        events += seller.receive_webhook(
            WebhookRequest(body=request.content, headers=dict(request.headers))
        )
    assert len(events) == 4  # one push per unit and status
    assert {e.external_id for e in events} == {placed}
    kinds = [e.kind for e in events]
    assert kinds[:2] == [EventKind.ORDER_CREATED] * 2
    assert kinds[2:] == [EventKind.ORDER_UPDATED] * 2
    assert len({e.delivery_id for e in events}) == 4
    with pytest.raises(WebhookVerificationError):
        seller.receive_webhook(
            WebhookRequest(body=received[0].content + b" ", headers=dict(received[0].headers))
        )
    with pytest.raises(WebhookVerificationError):
        seller.receive_webhook(WebhookRequest(body=received[0].content, headers={}))
    await seller.aclose()


async def test_pushes_of_another_seller_are_ignored() -> None:
    sandbox = frozen_sandbox()
    seller = channel(sandbox)
    body = json.dumps(
        {"seller_id": "999", "message_type": 0, "data": {"trade_order_id": "1"}, "timestamp": 1},
        separators=(",", ":"),
    ).encode()
    headers = sandbox.sign_webhook("trade_order", body)
    assert seller.receive_webhook(WebhookRequest(body=body, headers=headers)) == []
    await seller.aclose()


def test_the_documented_push_parses_and_a_redelivery_keeps_its_id() -> None:
    message = parse_push(DOC_BODY)
    assert (message.message_type, message.seller_id, message.topic) == (0, "1234567", "trade_order")
    [event] = events_from_push(message, DOC_BODY, channel="lazada", account="hn")
    assert event.kind is EventKind.ORDER_UPDATED and event.external_id == "260422900198363"
    assert event.occurred_at is not None and event.occurred_at.year == 2023
    # A retry carries the latest state and a new envelope timestamp: the same dedupe key.
    retried = DOC_BODY.replace(b"1700000001234", b"1700001801234")
    assert delivery_id(parse_push(retried), retried) == event.delivery_id


@pytest.mark.parametrize(
    ("kind", "data", "expected", "external"),
    [
        (3, {"item_id": 42, "sku_list": []}, EventKind.PRODUCT_UPDATED, "42"),
        (5, {"item_id": 42, "action": "DELETED"}, EventKind.PRODUCT_DELETED, "42"),
        (6, {"seller_sku": "NÓN-LÁ", "real_quantity": 3}, EventKind.STOCK_CHANGED, "NÓN-LÁ"),
        (
            10,
            {"trade_order_id": "77", "reverse_status": "CANCEL_INIT"},
            EventKind.ORDER_UPDATED,
            "77",
        ),
        (8, {"app_key": "1", "auth_expiry_time": 1}, EventKind.OTHER, None),
        (99, {}, EventKind.OTHER, None),
    ],
)
def test_message_types_map_to_events(
    kind: int, data: dict[str, object], expected: EventKind, external: str | None
) -> None:
    body = json.dumps(
        {"seller_id": "1", "message_type": kind, "data": data, "timestamp": 1700000000},
        ensure_ascii=False,
    ).encode()
    [event] = events_from_push(parse_push(body), body, channel="lazada", account="hn")
    assert (event.kind, event.external_id) == (expected, external)


@pytest.mark.parametrize(
    "body", [b"[]", b'{"data": {}}', b'{"message_type": "x"}', b'{"message_type": 0, "data": []}']
)
def test_malformed_pushes_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_push(body)
