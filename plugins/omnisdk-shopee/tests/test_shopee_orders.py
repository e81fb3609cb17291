"""Orders: 15-day windows walked without gaps or duplicates, cursor paging, detail batches,
token expiry in the middle of a backfill."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st
from omnisdk_shopee.channel import ORDER_WINDOW_SECONDS, time_windows
from shopee_testkit import START, channel, frozen_sandbox, order, requests_to, seed

from omnisdk import BadRequest, NotFound, Order, OrderStatus

ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
STOCKED = [
    {**p, "stock": 10_000}
    for p in (
        {"sku": "CA-PHE-SUA", "title": "Cà phê sữa đá đóng lon", "price": "15000"},
        {"sku": "BANH-PIA", "title": "Bánh pía sầu riêng Sóc Trăng", "price": "62000"},
    )
]


@given(
    start=st.integers(0, 2_000_000_000),
    length=st.integers(-5, 90 * 86400),
    size=st.integers(600, 20 * 86400),
)
def test_windows_cover_every_second_once(start: int, length: int, size: int) -> None:
    end = start + length
    windows = list(time_windows(start, end, size))
    if end < start:
        assert windows == []
        return
    assert windows[0][0] == start and windows[-1][1] == end
    for (_, a_to), (b_from, _) in itertools.pairwise(windows):
        assert b_from == a_to + 1, "no gap and no overlap between windows"
    assert all(0 <= to - frm <= size for frm, to in windows)


def _listed_windows(sandbox: object) -> list[tuple[int, int]]:
    windows = []
    for record in requests_to(sandbox, ORDER_LIST):  # type: ignore[arg-type]
        query = parse_qs(record.query)
        if "cursor" not in query:  # only first pages of each window
            windows.append((int(query["time_from"][0]), int(query["time_to"][0])))
    return sorted(set(windows))


async def test_a_forty_day_backfill_crosses_the_windows_without_gaps_or_duplicates() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox, STOCKED)
    since = START - timedelta(days=40)
    placed: list[str] = []
    for hour in range(0, 40 * 24, 11):  # every 11 hours over 40 days
        placed.append(
            order(sandbox, {"CA-PHE-SUA": 1 + hour % 3}, when=since + timedelta(hours=hour))
        )
    for edge in (ORDER_WINDOW_SECONDS, ORDER_WINDOW_SECONDS + 1, 2 * ORDER_WINDOW_SECONDS + 1):
        placed.append(order(sandbox, {"BANH-PIA": 1}, when=since + timedelta(seconds=edge)))
    shop = channel(sandbox, clock_skew_seconds=0)
    orders = [o async for o in shop.stream_orders(updated_since=since)]

    seen = Counter(o.channel_ref.external_id for o in orders)
    assert max(seen.values()) == 1, "an order came back twice"
    assert set(seen) == set(placed), "an order was missed"
    windows = _listed_windows(sandbox)
    assert len(windows) == 3
    for (_, a_to), (b_from, _) in itertools.pairwise(windows):
        assert b_from == a_to + 1
    assert all(to - frm <= ORDER_WINDOW_SECONDS for frm, to in windows)
    assert all(r.status == 200 for r in requests_to(sandbox, ORDER_LIST))
    assert [o.created_at for o in orders] == sorted(o.created_at for o in orders)
    await shop.aclose()


async def test_the_sandbox_refuses_a_window_over_fifteen_days() -> None:
    sandbox = frozen_sandbox()
    shop = channel(sandbox)
    now = int(sandbox.clock.time())
    with pytest.raises(BadRequest) as refused:
        await shop.client.get(
            ORDER_LIST,
            {
                "time_range_field": "update_time",
                "time_from": now - ORDER_WINDOW_SECONDS - 1,
                "time_to": now,
                "page_size": 10,
            },
        )
    assert refused.value.code == "order.order_list_invalid_time"
    assert "15days" in str(refused.value)
    await shop.aclose()


async def test_cursor_paging_and_detail_batches_of_fifty() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox, STOCKED)
    placed = {
        order(sandbox, {"BANH-PIA": 1, "CA-PHE-SUA": 2}, when=START - timedelta(minutes=5 * i))
        for i in range(230)
    }
    shop = channel(sandbox)
    orders = [o async for o in shop.stream_orders(updated_since=START - timedelta(days=1))]
    assert {o.channel_ref.external_id for o in orders} == placed and len(orders) == 230
    pages = requests_to(sandbox, ORDER_LIST)
    assert len(pages) == 3 and sum(1 for p in pages if "cursor=&" not in p.query) == 2
    batches = [
        len(parse_qs(r.query)["order_sn_list"][0].split(","))
        for r in requests_to(sandbox, ORDER_DETAIL)
    ]
    assert max(batches) == 50 and sum(batches) == 230
    for one in orders:
        assert one.quantities() == {"BANH-PIA": 1, "CA-PHE-SUA": 2}
        assert one.total.amount == 62000 + 2 * 15000 and one.currency == "VND"
    await shop.aclose()


@pytest.mark.parametrize("expiry", ["clock", "server"])
async def test_token_expiry_mid_backfill_refreshes_once_and_every_order_arrives_once(
    expiry: str,
) -> None:
    """``clock``: four hours pass mid-backfill (the keeper refreshes before the next call);
    ``server``: Shopee drops the token while the keeper still trusts it (refused, refreshed,
    retried)."""
    sandbox = frozen_sandbox()
    seed(sandbox, STOCKED)
    since = START - timedelta(days=35)
    placed = {
        order(sandbox, {"CA-PHE-SUA": 1}, when=since + timedelta(hours=6 * i)) for i in range(140)
    }
    shop = channel(sandbox)
    seen: Counter[str] = Counter()
    async for one in shop.stream_orders(updated_since=since):
        seen[one.channel_ref.external_id] += 1
        if sum(seen.values()) == 30:
            if expiry == "clock":
                sandbox.clock.advance(4 * 3600 + 5)
            else:
                sandbox.expire_access_tokens()
    assert set(seen) == placed and max(seen.values()) == 1
    assert sandbox.grants.refreshes == 1
    assert shop.token_keeper.refreshes == 1
    await shop.aclose()


async def test_statuses_move_and_map_as_the_order_advances() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    number = order(sandbox, {"AO-DAI-DO": 1, "NON-LA-HUE": 2})
    shop = channel(sandbox)
    seen = []
    for _ in range(6):
        fetched = await shop.get_order(number)
        seen.append((fetched.channel_status, fetched.status, fetched.payment_status.value))
        with sandbox.lock:
            if fetched.channel_status != "COMPLETED":
                sandbox.advance_order(number)
        sandbox.clock.advance(60)
    assert seen == [
        ("UNPAID", OrderStatus.PENDING, "unpaid"),
        ("READY_TO_SHIP", OrderStatus.CONFIRMED, "paid"),
        ("PROCESSED", OrderStatus.READY_TO_SHIP, "paid"),
        ("SHIPPED", OrderStatus.SHIPPED, "paid"),
        ("TO_CONFIRM_RECEIVE", OrderStatus.DELIVERED, "paid"),
        ("COMPLETED", OrderStatus.COMPLETED, "paid"),
    ]
    cancelled = order(
        sandbox,
        {"NON-LA-HUE": 1},
        customer={"name": "Lê Văn Tám", "phone": "0903 123 456", "payment": "cod"},
    )
    first = await shop.get_order(cancelled)
    assert (first.channel_status, first.payment_status.value) == ("READY_TO_SHIP", "unpaid")
    with sandbox.lock:
        sandbox.cancel_order(cancelled)
    after = await shop.get_order(cancelled)
    assert after.status is OrderStatus.CANCELLED and after.updated_at > first.updated_at
    with pytest.raises(NotFound):
        await shop.get_order("250101NOTHERE1")
    await shop.aclose()


async def test_a_cursor_after_an_update_finds_the_order_again() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    number = order(sandbox, {"NON-LA-HUE": 1})
    sandbox.clock.advance(600)
    cursor = sandbox.clock.now()
    shop = channel(sandbox)
    assert [o async for o in shop.stream_orders(updated_since=cursor)] == []
    sandbox.clock.advance(60)
    with sandbox.lock:
        sandbox.advance_order(number)
    again: list[Order] = [o async for o in shop.stream_orders(updated_since=cursor)]
    assert [o.channel_status for o in again] == ["READY_TO_SHIP"]
    await shop.aclose()


async def test_a_shopee_clock_ahead_of_ours_loses_no_order() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    number = order(sandbox, {"NON-LA-HUE": 1})  # stamped by Shopee's clock

    def behind() -> datetime:
        return sandbox.clock.now() - timedelta(seconds=120)  # ours runs two minutes late

    since = START - timedelta(hours=1)
    strict = channel(sandbox, clock_skew_seconds=0)
    strict.clock = behind
    assert [o async for o in strict.stream_orders(updated_since=since)] == []
    tolerant = channel(sandbox)
    tolerant.clock = behind
    assert [o.number async for o in tolerant.stream_orders(updated_since=since)] == [number]
    await strict.aclose()
    await tolerant.aclose()
