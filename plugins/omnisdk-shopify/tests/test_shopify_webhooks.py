"""Webhook signatures, de-duplication and topic mapping, and the sandbox's delivery knobs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from shopify_helpers import make_channel

from omnisdk.channel import WebhookRequest
from omnisdk.errors import WebhookVerificationError
from omnisdk.hookspecs import hookimpl
from omnisdk.models import EventKind, OrderStatus
from omnisdk.plugins import Plugins
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.receiver import WebhookRecorder
from omnisdk.testing.server import LoopbackServer
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox
from omnisdk_shopify.webhooks import RecentDeliveries, sign, verify_signature

# The worked example of shopify.md section 1: secret "hush", these exact 95 bytes.
EXAMPLE_BODY = (
    b'{"id":820982911946154508,"email":"jon@example.com",'
    b'"line_items":[{"sku":"SKU-1","quantity":2}]}'
)
EXAMPLE_SIGNATURE = "hG9cvc2I7eGHzqmRaeHsDtXBr/TsfBbVYgmFgUuEBi8="


def test_signature_matches_the_worked_example() -> None:
    """base64 HMAC-SHA256 of the raw bytes, as in the platform notes."""
    assert len(EXAMPLE_BODY) == 95
    assert sign(EXAMPLE_BODY, "hush") == EXAMPLE_SIGNATURE
    verify_signature(EXAMPLE_BODY, EXAMPLE_SIGNATURE, "hush")
    assert base64.b64decode(EXAMPLE_SIGNATURE).hex().startswith("846f5cbdcd88ede1")


@pytest.mark.parametrize(
    ("body", "signature", "why"),
    [
        (
            json.dumps(json.loads(EXAMPLE_BODY), separators=(", ", ": ")).encode(),
            EXAMPLE_SIGNATURE,
            "re-serialised",
        ),
        (EXAMPLE_BODY.replace(b'"quantity":2', b'"quantity":9'), EXAMPLE_SIGNATURE, "altered"),
        (EXAMPLE_BODY, sign(EXAMPLE_BODY, "another-app"), "another secret"),
        (EXAMPLE_BODY, base64.b64decode(EXAMPLE_SIGNATURE).hex(), "hex, not base64"),
        (EXAMPLE_BODY, "", "missing"),
        (EXAMPLE_BODY, "%%%not-base64%%%", "garbage"),
    ],
)
def test_forged_or_reserialised_bodies_are_rejected(body: bytes, signature: str, why: str) -> None:
    """Anything but the exact bytes under the right secret fails."""
    with pytest.raises(WebhookVerificationError):
        verify_signature(body, signature, "hush")


def test_recent_deliveries_forget_the_oldest() -> None:
    """A bounded memory: a redelivery is caught, the oldest ids are dropped past capacity."""
    seen = RecentDeliveries(capacity=2)
    assert seen.first_time("a") and seen.first_time("b")
    assert not seen.first_time("a")
    assert seen.first_time("c")  # "b" is now the least recently seen: forgotten
    assert not seen.first_time("a")
    assert seen.first_time("b")


def _request(
    channel: ShopifyChannel,
    topic: str,
    payload: Any,
    *,
    delivery: str = "d-1",
    raw: bytes | None = None,
) -> WebhookRequest:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    secret = channel.settings.client_secret
    assert secret is not None
    return WebhookRequest(
        body=body,
        headers={
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, secret.get_secret_value()),
            "X-Shopify-Webhook-Id": delivery,
            "X-Shopify-Shop-Domain": "demo-shop.myshopify.com",
            "X-Shopify-Triggered-At": "2026-11-20T03:00:00.000Z",
        },
    )


async def test_order_webhooks_become_events_once(
    channel: ShopifyChannel, control: SandboxControl, sandbox: ShopifySandbox
) -> None:
    """Real deliveries: orders/create maps to a canonical order; a redelivery gives nothing."""
    recorder = WebhookRecorder()
    with LoopbackServer(recorder.app) as receiver:
        await control.set_webhook_url(receiver.url("/hooks/shopify"))
        await control.seed(
            [{"sku": "AT-M", "title": "Áo thun", "price": "199000", "currency": "VND", "stock": 5}]
        )
        order_id = await control.place_order([("AT-M", 2)])
        await control.cancel_order(order_id.rsplit("/", 1)[-1])
        await control.drain_webhooks(10)
        deliveries = recorder.wait_for(5, timeout=10)
    await channel.check()
    events = [e for d in deliveries for e in channel.receive_webhook(d.as_request())]
    kinds = [e.kind for e in events]
    assert EventKind.ORDER_CREATED in kinds and EventKind.ORDER_CANCELLED in kinds
    assert EventKind.STOCK_CHANGED in kinds
    created = next(e for e in events if e.kind is EventKind.ORDER_CREATED)
    assert created.external_id == order_id and created.order is not None
    assert created.order.quantities() == {"AT-M": 2}
    assert created.order.total.amount == 398000 and created.order.currency == "VND"
    cancelled = next(e for e in events if e.kind is EventKind.ORDER_CANCELLED)
    assert cancelled.order is not None and cancelled.order.status is OrderStatus.CANCELLED
    assert all(e.delivery_id for e in events)
    headers = {k.lower() for k in deliveries[0].headers}
    assert {
        "x-shopify-topic",
        "x-shopify-hmac-sha256",
        "x-shopify-shop-domain",
        "x-shopify-api-version",
        "x-shopify-webhook-id",
        "x-shopify-event-id",
        "x-shopify-triggered-at",
    } <= headers
    assert channel.receive_webhook(deliveries[0].as_request()) == []  # redelivered


async def test_sandbox_knobs_duplicate_and_reorder(
    sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """Duplicated deliveries keep their webhook id; reordering still delivers everything."""
    recorder = WebhookRecorder()
    with LoopbackServer(recorder.app) as receiver:
        await control.set_webhook_url(receiver.url("/hooks"))
        await control.set_faults(webhook_duplicate_rate=1.0, webhook_reorder=True, seed=5)
        await control.seed(
            [{"sku": "NL-1", "title": "Nón lá", "price": "50000", "currency": "VND", "stock": 9}]
        )
        await control.place_order([("NL-1", 1)])
        await control.drain_webhooks(10)
        deliveries = recorder.wait_for(4, timeout=10)
    ids = [d.headers["x-shopify-webhook-id"] for d in deliveries]
    assert len(ids) == 4 and len(set(ids)) == 2  # each delivery sent twice, same id


async def test_failed_deliveries_are_retried(
    sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """A receiver answering 500 gets the same delivery again (Shopify retries)."""
    recorder = WebhookRecorder()
    recorder.fail_next(2)
    with LoopbackServer(recorder.app) as receiver:
        await control.set_webhook_url(receiver.url("/hooks"))
        await control.seed(
            [{"sku": "NL-1", "title": "Nón lá", "price": "50000", "currency": "VND", "stock": 9}]
        )
        await control.place_order([("NL-1", 1)])
        await control.drain_webhooks(10)
    attempts = [e for e in sandbox.webhook_log if e["topic"] == "orders/create"]
    assert [e["status"] for e in attempts][-1] == 200 and len(attempts) >= 2
    assert len({e["delivery_id"] for e in attempts}) == 1


class _Quarantine:
    """Records what the channel sets aside."""

    def __init__(self) -> None:
        self.rejected: list[tuple[str, str]] = []

    @hookimpl
    def omnisdk_record_rejected(
        self, channel: Any, kind: str, external_id: str | None, raw: dict[str, Any], reason: str
    ) -> None:
        """Keep the kind and reason."""
        self.rejected.append((kind, reason))


async def test_bad_payloads_never_crash(sandbox: ShopifySandbox, plugins: Plugins) -> None:
    """Malformed bodies are refused clearly; an unmappable order is quarantined, the hint
    survives; unknown topics are kept as OTHER; app/uninstalled means re-authorisation."""
    quarantine = _Quarantine()
    plugins.register(quarantine, name="quarantine")
    async with make_channel(sandbox, plugins) as channel:
        await channel.check()
        deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000  # RecursionError in json.loads
        for raw in (b"{not json", b"[1, 2]", b'{"id": "x"}', deep):
            with pytest.raises(WebhookVerificationError):
                channel.receive_webhook(
                    _request(
                        channel,
                        "orders/create",
                        None,
                        raw=raw,
                        delivery=raw[:40].decode(errors="replace"),
                    )
                )
        order = {
            "id": 7,
            "admin_graphql_api_id": "gid://shopify/Order/7",
            "name": "#1007",
            "financial_status": "mystery",
            "fulfillment_status": None,
            "currency": "VND",
            "total_price": "10000.00",
            "subtotal_price": "10000.00",
            "created_at": "2026-11-20T10:00:00+07:00",
            "updated_at": "2026-11-20T10:00:00+07:00",
            "line_items": [{"id": 1, "sku": "X", "quantity": 1, "price": "10000.00"}],
        }
        [event] = channel.receive_webhook(_request(channel, "orders/updated", order))
        assert event.kind is EventKind.ORDER_UPDATED and event.order is None
        assert event.external_id == "gid://shopify/Order/7"
        assert quarantine.rejected and "unknown financial status" in quarantine.rejected[0][1]
        [other] = channel.receive_webhook(
            _request(channel, "shop/update", {"id": 1}, delivery="d-2")
        )
        assert other.kind is EventKind.OTHER
        [gone] = channel.receive_webhook(
            _request(channel, "app/uninstalled", {"id": 1}, delivery="d-3")
        )
        assert gone.kind is EventKind.CHANNEL_DEAUTHORISED
        no_topic = _request(channel, "orders/create", order, delivery="d-4")
        headers = {k: v for k, v in no_topic.headers.items() if k != "x-shopify-topic"}
        with pytest.raises(WebhookVerificationError, match="Topic"):
            channel.receive_webhook(WebhookRequest(body=no_topic.body, headers=headers))
        elsewhere = dict(_request(channel, "orders/create", order, delivery="d-5").headers)
        elsewhere["x-shopify-shop-domain"] = "other-shop.myshopify.com"
        with pytest.raises(WebhookVerificationError, match="other-shop"):
            channel.receive_webhook(WebhookRequest(body=no_topic.body, headers=elsewhere))
