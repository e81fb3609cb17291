"""Returns (``v2.returns``): the sandbox's endpoints, the channel's return book and the
mapping of what was paid back to ``Order.refund_total``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from omnisdk_shopee.mapping import order_from_shopee, refund_total
from shopee_testkit import channel, frozen_sandbox, order, requests_to, seed

from omnisdk import BadRequest, Money, PaymentStatus
from omnisdk.auth import MemoryTokenStore
from omnisdk.testing import NotRefundable, RefundRequest

RETURN_LIST = "/api/v2/returns/get_return_list"
STOCKED = [
    {"sku": "NUOC-MAM-PQ", "title": "Nước mắm Phú Quốc 500ml", "price": "89000", "stock": 50},
    {"sku": "BANH-TRANG", "title": "Bánh tráng Trảng Bàng", "price": "35000", "stock": 50},
]


def _refund(sandbox: Any, order_sn: str, lines: dict[str, int]) -> Any:
    request = RefundRequest.model_validate(
        {"lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
    )
    with sandbox.lock:
        return sandbox.refund_order(order_sn, request)


def _shipped(sandbox: Any, lines: dict[str, int]) -> str:
    order_sn = order(sandbox, lines)
    with sandbox.lock:
        while sandbox.orders[order_sn].status != "SHIPPED":
            sandbox.advance_order(order_sn)
    return order_sn


def test_a_return_is_taken_once_the_parcel_left_and_never_beyond_what_was_bought() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox, STOCKED)
    order_sn = order(sandbox, {"NUOC-MAM-PQ": 2})
    with pytest.raises(NotRefundable):
        _refund(sandbox, order_sn, {"NUOC-MAM-PQ": 1})
    with sandbox.lock:
        while sandbox.orders[order_sn].status != "SHIPPED":
            sandbox.advance_order(order_sn)
    assert _refund(sandbox, order_sn, {"NUOC-MAM-PQ": 1}) == 89000
    with pytest.raises(NotRefundable):
        _refund(sandbox, order_sn, {"NUOC-MAM-PQ": 2})
    assert sandbox.orders[order_sn].status == "SHIPPED", "the order keeps its own status"


async def test_a_return_long_after_the_order_last_changed_reaches_the_next_poll() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox, STOCKED)
    order_sn = _shipped(sandbox, {"NUOC-MAM-PQ": 2, "BANH-TRANG": 1})
    tokens = MemoryTokenStore()
    shop = channel(sandbox, clock_skew_seconds=0, tokens=tokens)
    before = await shop.get_order(order_sn)
    assert before.refund_total is None
    sandbox.clock.advance(3 * 3600)  # hours later; the order itself does not change
    cursor = sandbox.clock.now()
    assert [o async for o in shop.stream_orders(updated_since=cursor)] == []
    sandbox.clock.advance(60)
    _refund(sandbox, order_sn, {"BANH-TRANG": 1})
    [after] = [o async for o in shop.stream_orders(updated_since=cursor)]
    assert after.channel_ref.external_id == order_sn
    assert after.refund_total == Money.of(35000, "VND")
    assert after.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert after.updated_at > before.updated_at, "the refund is a newer version"
    assert after.quantities() == before.quantities(), "the lines are the platform's"
    # A restarted channel (an empty book) reads every return of history_days again.
    fresh = channel(sandbox, clock_skew_seconds=0, tokens=tokens)
    assert (await fresh.get_order(order_sn)).refund_total == Money.of(35000, "VND")
    await shop.aclose()
    await fresh.aclose()


async def test_the_return_list_pages_and_refuses_more_than_fifteen_days() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox, STOCKED)
    for _ in range(3):
        _refund(sandbox, _shipped(sandbox, {"NUOC-MAM-PQ": 1}), {"NUOC-MAM-PQ": 1})
    shop = channel(sandbox)
    now = int(sandbox.clock.time())
    pages = []
    for page_no in range(3):
        answer = await shop.client.get(
            RETURN_LIST,
            {"page_no": page_no, "page_size": 2, "update_time_from": now - 60,
             "update_time_to": now + 60},
        )
        pages.append(answer["response"])
    assert [len(p["return"]) for p in pages] == [2, 1, 0]
    assert [p["more"] for p in pages] == [True, False, False]
    entry = pages[0]["return"][0]
    assert entry["status"] == "REFUND_PAID" and entry["refund_amount"] == 89000
    assert entry["item"][0]["item_sku"] == "NUOC-MAM-PQ" and entry["item"][0]["amount"] == 1
    detail = await shop.client.get(
        "/api/v2/returns/get_return_detail", {"return_sn": entry["return_sn"]}
    )
    assert detail["response"]["order_sn"] == entry["order_sn"]
    with pytest.raises(BadRequest):
        await shop.client.get(
            RETURN_LIST,
            {"page_no": 0, "page_size": 10, "update_time_from": now - 16 * 86400,
             "update_time_to": now},
        )
    # The channel walks history_days in windows of 15 days at most.
    sandbox.requests.clear()
    await shop.get_order(entry["order_sn"])
    fresh = channel(sandbox)
    await fresh.get_order(entry["order_sn"])
    queries = [parse_qs(r.query) for r in requests_to(sandbox, RETURN_LIST)]
    windows = [(int(q["update_time_from"][0]), int(q["update_time_to"][0])) for q in queries]
    assert len(windows) >= 2, "history_days was not walked in windows"
    assert all(to - frm <= 15 * 86400 for frm, to in windows), windows
    await shop.aclose()
    await fresh.aclose()


def _detail(**extra: Any) -> dict[str, Any]:
    return {
        "order_sn": "261207ABCDEFGH",
        "order_status": "COMPLETED",
        "currency": "VND",
        "create_time": 1_796_000_000,
        "update_time": 1_796_000_500,
        "pay_time": 1_796_000_100,
        "total_amount": 213000,
        "item_list": [
            {"item_id": 1, "model_id": 0, "item_sku": "NUOC-MAM-PQ", "item_name": "Nước mắm",
             "model_quantity_purchased": 2, "model_original_price": 89000,
             "model_discounted_price": 89000},
            {"item_id": 2, "model_id": 0, "item_sku": "BANH-TRANG", "item_name": "Bánh tráng",
             "model_quantity_purchased": 1, "model_original_price": 35000,
             "model_discounted_price": 35000},
        ],
        **extra,
    }


def _return(status: str, amount: float, update_time: int, sn: str) -> dict[str, Any]:
    return {"return_sn": sn, "order_sn": "261207ABCDEFGH", "status": status,
            "refund_amount": amount, "update_time": update_time, "create_time": update_time}


def test_only_paid_refunds_count_and_a_refund_is_a_newer_version() -> None:
    returns = [
        _return("REFUND_PAID", 89000.0, 1_796_100_000, "1"),
        _return("REQUESTED", 35000.0, 1_796_200_000, "2"),
        _return("CANCELLED", 35000.0, 1_796_300_000, "3"),
    ]
    mapped = order_from_shopee(_detail(returns=returns), channel="shopee", account="hcm",
                               currency="VND")
    assert mapped.refund_total == Money.of(89000, "VND")
    assert mapped.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert int(mapped.updated_at.timestamp()) == 1_796_100_000
    plain = order_from_shopee(_detail(returns=[]), channel="shopee", account="hcm",
                              currency="VND")
    assert plain.refund_total is None and plain.payment_status is PaymentStatus.PAID
    total = Money.of(213000, "VND")
    assert refund_total({"returns": [_return("REFUND_PAID", 999999, 1, "9")]}, total) == total
    both = [
        _return("REFUND_PAID", 89000, 1_796_100_000, "1"),
        _return("REFUND_PAID", 124000, 1_796_200_000, "2"),
    ]
    full = order_from_shopee(_detail(returns=both), channel="shopee", account="hcm",
                             currency="VND")
    assert full.payment_status is PaymentStatus.REFUNDED
    assert full.updated_at - plain.updated_at > timedelta(0)
