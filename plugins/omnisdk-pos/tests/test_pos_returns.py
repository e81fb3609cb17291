"""Returns (trả hàng) against KiotViet invoices: the sandbox's ``/returns``, the channel's
return book, and what was paid back as ``Order.refund_total``, by poll and by webhook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from omnisdk_pos import PosChannel
from omnisdk_pos.mapping import refund_total
from omnisdk_pos.sandbox import KiotVietSandbox

from omnisdk.channel import WebhookRequest
from omnisdk.models import Money, OrderStatus, PaymentStatus
from omnisdk.testing import NotRefundable, RefundRequest
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.sandbox import SeedProduct

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[KiotVietSandbox]:
    """A frozen-clock retailer selling tea and conical hats."""
    box = KiotVietSandbox(seed=16, clock=SandboxClock(START, frozen=True))
    with box.lock:
        box.seed_products(
            [
                SeedProduct(sku="TRA-THAI-NGUYEN", title="Trà Thái Nguyên", price=120000, stock=10),
                SeedProduct(sku="NON-LA-HUE", title="Nón lá Huế", price=85000, stock=10),
            ]
        )
    yield box
    box.close()


def _channel(sandbox: KiotVietSandbox) -> PosChannel:
    channel = PosChannel(
        sandbox.channel_settings(IN_PROCESS_URL),
        account="cua-hang",
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now,
    )
    unthrottled(channel)
    return channel


def _return(sandbox: KiotVietSandbox, code: str, lines: dict[str, int]) -> Decimal:
    request = RefundRequest.model_validate(
        {"lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
    )
    return sandbox.refund_order(code, request)


def _on_hand(sandbox: KiotVietSandbox, sku: str) -> int:
    return int(sandbox.listing(sku)["stock"])


async def test_a_return_days_after_the_sale_reaches_the_next_poll(
    sandbox: KiotVietSandbox,
) -> None:
    code = sandbox.counter_sale({"TRA-THAI-NGUYEN": 2, "NON-LA-HUE": 1})
    async with _channel(sandbox) as channel:
        before = await channel.get_order(code)
        assert before.refund_total is None
        sandbox.clock.advance(3 * 86400)  # three days on, the invoice untouched since
        cursor = sandbox.clock.now()
        assert [o async for o in channel.stream_orders(updated_since=cursor)] == []
        sandbox.clock.advance(60)
        shelf = _on_hand(sandbox, "TRA-THAI-NGUYEN")
        assert _return(sandbox, code, {"TRA-THAI-NGUYEN": 1}) == Decimal(120000)
        assert _on_hand(sandbox, "TRA-THAI-NGUYEN") == shelf + 1, "the goods are back on hand"
        [after] = [o async for o in channel.stream_orders(updated_since=cursor)]
    assert after.channel_ref.external_id == code
    assert after.refund_total == Money.of(120000, "VND")
    assert after.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert after.status is OrderStatus.COMPLETED, "the invoice keeps its status"
    assert after.quantities() == before.quantities()
    assert after.updated_at > before.updated_at


async def test_an_invoice_delivery_after_a_return_still_carries_it(
    sandbox: KiotVietSandbox,
) -> None:
    code = sandbox.counter_sale({"NON-LA-HUE": 2})
    _return(sandbox, code, {"NON-LA-HUE": 1})
    captured: list[WebhookRequest] = []

    def keep(request: httpx.Request) -> httpx.Response:
        captured.append(WebhookRequest(body=request.content, headers=dict(request.headers)))
        return httpx.Response(200)

    async with _channel(sandbox) as channel:
        await channel.get_order(code)  # the channel has read the return
        sandbox.webhook_transport = httpx.MockTransport(keep)
        sandbox.webhook_url = "http://receiver.test/hooks/pos"
        sandbox.clock.advance(60)
        with sandbox.lock:
            invoice = sandbox.shop.document_by_code(code)
            invoice.modified = sandbox.clock.now()
            sandbox.document_changed(invoice)  # e.g. the cashier edits the note
        await sandbox.drain_webhooks()
        events = [e for d in captured for e in channel.receive_webhook(d)]
    [sale] = [e for e in events if e.topic == "invoice.update"]
    assert sale.order is not None
    assert sale.order.refund_total == Money.of(85000, "VND"), "the delivery undid the refund"


def test_a_return_is_against_a_completed_invoice_and_never_beyond_it(
    sandbox: KiotVietSandbox,
) -> None:
    code = sandbox.counter_sale({"NON-LA-HUE": 1})
    with pytest.raises(NotRefundable):
        _return(sandbox, code, {"NON-LA-HUE": 2})
    _return(sandbox, code, {"NON-LA-HUE": 1})
    with pytest.raises(NotRefundable):
        _return(sandbox, code, {"NON-LA-HUE": 1})
    with sandbox.lock:
        sandbox.cancel_document(sandbox.shop.document_by_code(code))
    other = sandbox.counter_sale({"TRA-THAI-NGUYEN": 1})
    with sandbox.lock:
        sandbox.cancel_document(sandbox.shop.document_by_code(other))
    with pytest.raises(NotRefundable):
        _return(sandbox, other, {"TRA-THAI-NGUYEN": 1})


def _done(total: int, *, discount: int = 0, fee: int = 0, status: int = 1) -> dict[str, Any]:
    return {"returnTotal": total, "returnDiscount": discount, "returnFee": fee, "status": status}


def test_what_was_paid_back_is_the_goods_less_the_return_discount_and_fee() -> None:
    goods = Money.of(325000, "VND")
    raw = {"returns": [_done(120000, discount=5000, fee=10000), _done(85000, status=2)]}
    assert refund_total(raw, goods) == Money.of(105000, "VND")
    assert refund_total({"returns": [_done(999000)]}, goods) == goods
    assert refund_total({"returns": []}, goods) is None
    assert refund_total({}, goods) is None
