"""Meta's webhook handshake and signatures, and the chat-order example run end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from facebook_testkit import channel_on, seeded
from omnisdk_facebook.webhooks import answer_challenge, messages, signature, verify_signature

from omnisdk import WebhookRequest
from omnisdk.errors import WebhookBodyError, WebhookVerificationError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_orders.py"
BODY = (b'{"object":"page","entry":[{"id":"1234567890","time":1700000000,"changes":[{"field":'
        b'"feed","value":{"item":"status","verb":"add"}}]}]}')


def test_the_signature_is_metas_worked_example() -> None:
    assert len(BODY) == 133
    expected = "sha256=f2b0769d86aaf73f3f5fa4c969f7f0433ac68c6c910fed1841d9eaba883e7aee"
    assert signature("fb_app_secret_123", BODY) == expected
    assert verify_signature("fb_app_secret_123", BODY, expected)
    assert not verify_signature("fb_app_secret_123", BODY + b" ", expected)
    legacy = "sha1=96bfce1e5f99e559d73a18f8e2322db2522f87e0"
    assert not verify_signature("fb_app_secret_123", BODY, legacy)
    assert not verify_signature("fb_app_secret_123", BODY, None)


def test_the_handshake_echoes_the_challenge_only_for_our_token() -> None:
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "tok"}
    assert answer_challenge(query, "tok") == "1158201444"
    for wrong in ({**query, "hub.verify_token": "other"}, {**query, "hub.mode": "unsubscribe"},
                  {k: v for k, v in query.items() if k != "hub.challenge"}):
        with pytest.raises(WebhookVerificationError):
            answer_challenge(wrong, "tok")
    with pytest.raises(WebhookVerificationError, match="verify_token"):
        answer_challenge(query, None)


async def test_a_delivery_the_sandbox_signs_verifies_and_a_reserialised_one_does_not() -> None:
    sandbox = seeded()
    delivery = json.dumps({"object": "page", "entry": [{"id": sandbox.page_id, "messaging": [{
        "sender": {"id": "42"}, "timestamp": 1764840600000,
        "message": {"mid": "m_1", "text": "Cho mình đặt 2 áo dài đỏ",
                    "quick_reply": {"payload": json.dumps(
                        {"order": [{"retailer_id": "AO-DAI-DO", "quantity": 2}]})}}}]}]},
        ensure_ascii=False, separators=(",", ":")).encode()
    headers = sandbox.sign_webhook("messages", delivery)
    async with channel_on(sandbox) as channel:
        channel.verify_webhook(WebhookRequest(body=delivery, headers=headers))
        again = json.dumps(json.loads(delivery), indent=1).encode()
        with pytest.raises(WebhookVerificationError):
            channel.verify_webhook(WebhookRequest(body=again, headers=headers))
        query = {"hub.mode": "subscribe", "hub.challenge": "77",
                 "hub.verify_token": sandbox.verify_token}
        assert channel.answer_subscription(query) == "77"
    [message] = messages(delivery)
    assert message.order_lines() == [("AO-DAI-DO", 2)]
    assert message.text == "Cho mình đặt 2 áo dài đỏ" and message.sent_at.year == 2025
    assert messages(b'{"object":"instagram","entry":[]}') == []
    with pytest.raises(WebhookBodyError):
        messages(b"\xff not json")


async def test_the_chat_order_example_runs() -> None:
    spec = importlib.util.spec_from_file_location("chat_orders_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    said = await module.main()
    assert said[0].startswith("1. the catalog lists 5")
    assert said[2] == "3. 1 signed delivery verified"
    assert said[3].startswith("4. recorded messenger:m_")
    assert said[-1] == "5. 2 reserved; the catalog now lists 3"
