"""Orders: one item per unit, statuses per item, time windows over the offset ceiling."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from lazada_testkit import BUYER, START, channel, frozen_sandbox, order, requests_to, seed

from omnisdk import OrderStatus, PaymentStatus
from omnisdk.errors import BadRequest
from omnisdk.models import Money


async def test_units_become_lines_and_the_buyer_is_masked() -> None:
    sandbox = frozen_sandbox(seed=1)
    seed(sandbox)
    placed = order(sandbox, {"AO-DAI-DO": 2, "NON-LA-HUE": 1}, customer=BUYER)
    shop = channel(sandbox)
    [got] = [o async for o in shop.stream_orders(updated_since=START - timedelta(minutes=1))]
    assert got.channel_ref.external_id == placed
    assert got.quantities() == {"AO-DAI-DO": 2, "NON-LA-HUE": 1}
    assert got.status is OrderStatus.CONFIRMED  # COD: the units are "pending"
    assert got.payment_status is PaymentStatus.UNPAID
    assert got.total == Money.of(2 * 650000 + 85000, "VND")
    address = got.shipping_address
    assert address is not None
    assert (address.ward, address.district, address.province) == (
        "Phường Hàng Bài",
        "Quận Hoàn Kiếm",
        "Hà Nội",
    )
    assert address.phone is not None and address.phone.masked
    assert got.created_at == START
    await shop.aclose()


async def test_a_cancelled_unit_drops_out_and_the_rest_keeps_the_order_alive() -> None:
    sandbox = frozen_sandbox(seed=2)
    seed(sandbox)
    placed = order(sandbox, {"AO-DAI-DO": 3})
    shop = channel(sandbox)
    with sandbox.lock:
        items = sandbox.flow.get(placed).items
    sandbox.clock.advance(60)
    sandbox.cancel_items(placed, [items[0].order_item_id])
    got = await shop.get_order(placed)
    assert got.quantities() == {"AO-DAI-DO": 2}
    assert got.status is OrderStatus.CONFIRMED
    assert "canceled:1" in (got.channel_status or "")
    assert sandbox.listing("AO-DAI-DO")["stock"] == 5 - 2  # the cancelled unit is sellable again
    sandbox.cancel_order(placed)
    gone = await shop.get_order(placed)
    assert gone.status is OrderStatus.CANCELLED
    assert sandbox.listing("AO-DAI-DO")["stock"] == 5
    await shop.aclose()


async def test_the_least_advanced_live_unit_sets_the_status_and_returns_count_back() -> None:
    sandbox = frozen_sandbox(seed=3)
    seed(sandbox)
    placed = order(sandbox, {"NON-LA-HUE": 2})
    shop = channel(sandbox)
    for expected in ("packed", "ready_to_ship", "shipped"):
        sandbox.clock.advance(60)
        assert sandbox.advance_order(placed) == expected
    assert (await shop.get_order(placed)).status is OrderStatus.SHIPPED
    assert sandbox.listing("NON-LA-HUE")["quantity"] == 5  # the units left the total
    with sandbox.lock:
        items = sandbox.flow.get(placed).items
    sandbox.clock.advance(60)
    sandbox.advance_order(placed)  # delivered
    sandbox.return_items(placed, [items[1].order_item_id])
    partly = await shop.get_order(placed)
    assert partly.status is OrderStatus.DELIVERED and partly.quantities() == {"NON-LA-HUE": 1}
    assert partly.payment_status is PaymentStatus.PAID  # COD, delivered
    sandbox.return_items(placed, [items[0].order_item_id])
    assert (await shop.get_order(placed)).status is OrderStatus.RETURNED
    await shop.aclose()


async def test_items_are_fetched_fifty_orders_a_call() -> None:
    sandbox = frozen_sandbox(seed=4)
    seed(sandbox, [{"sku": "CA-PHE", "title": "Cà phê", "price": "120000", "stock": 500}])
    for index in range(120):
        order(sandbox, {"CA-PHE": 1}, when=START + timedelta(seconds=index), push=False)
    sandbox.clock.advance(200)
    shop = channel(sandbox)
    got = [o async for o in shop.stream_orders(updated_since=START)]
    assert len(got) == 120
    calls = requests_to(sandbox, "/orders/items/get")
    assert len(calls) == 3
    assert [r.items for r in calls] == [50, 50, 20]
    await shop.aclose()


async def test_a_12000_order_backfill_crosses_the_offset_ceiling_without_gaps() -> None:
    """12,000 orders over 40 days: more than twice the 5,000 ceiling; every order once."""
    sandbox = frozen_sandbox(seed=5)
    seed(
        sandbox,
        [{"sku": "NUOC-MAM", "title": "Nước mắm Phú Quốc", "price": "95000", "stock": 20000}],
    )
    first = START - timedelta(days=40)
    spacing = timedelta(days=40) / 12_000
    placed = {
        order(sandbox, {"NUOC-MAM": 1}, when=first + spacing * i, push=False) for i in range(12_000)
    }
    # A burst of 300 orders in one second sits on a window edge.
    burst = START - timedelta(days=20)
    placed |= {order(sandbox, {"NUOC-MAM": 1}, when=burst, push=False) for _ in range(300)}
    shop = channel(sandbox, history_days=60)
    # Raw records (the walk is under test; the mapping of each is tested above).
    got = [raw async for raw in shop.fetch_orders(updated_since=first)]
    ids = Counter(str(raw["order_id"]) for raw in got)
    assert all(len(raw["order_items"]) == 1 for raw in got)
    assert not [i for i, n in ids.items() if n > 1], "orders seen twice"
    assert set(ids) == placed and len(got) == 12_300
    listing_calls = requests_to(sandbox, "/orders/get")
    assert all("offset=" in r.query for r in listing_calls)
    offsets = [
        int(part.split("=")[1])
        for r in listing_calls
        for part in r.query.split("&")
        if part.startswith("offset=")
    ]
    assert max(offsets) <= 5_000
    assert len(listing_calls) >= 12_300 / 100
    await shop.aclose()


async def test_more_than_the_ceiling_within_one_second_is_a_clear_error() -> None:
    sandbox = frozen_sandbox(seed=6, order_offset_ceiling=10)
    seed(sandbox, [{"sku": "CA-PHE", "title": "Cà phê", "price": "120000", "stock": 50}])
    for _ in range(20):
        order(sandbox, {"CA-PHE": 1}, push=False)
    shop = channel(sandbox)
    shop.order_offset_ceiling = 10
    with pytest.raises(BadRequest, match="within one second"):
        _ = [o async for o in shop.stream_orders(updated_since=START - timedelta(hours=1))]
    await shop.aclose()


async def test_the_sandbox_refuses_an_offset_past_its_ceiling() -> None:
    sandbox = frozen_sandbox(seed=7, order_offset_ceiling=100)
    seed(sandbox, [{"sku": "CA-PHE", "title": "Cà phê", "price": "120000", "stock": 500}])
    for index in range(250):
        order(sandbox, {"CA-PHE": 1}, when=START - timedelta(minutes=index), push=False)
    shop = channel(sandbox)
    shop.order_offset_ceiling = 10_000  # pretend not to know: the sandbox says no
    with pytest.raises(BadRequest) as refused:
        _ = [o async for o in shop.stream_orders(updated_since=START - timedelta(days=1))]
    assert refused.value.code == "14"
    shop.order_offset_ceiling = 100
    got = [o async for o in shop.stream_orders(updated_since=START - timedelta(days=1))]
    assert len({o.channel_ref.external_id for o in got}) == len(got) == 250
    await shop.aclose()


async def test_history_seeded_in_bulk_is_read_back_and_holds_no_stock() -> None:
    from omnisdk.testing.sandbox import BuyerLine, SeedOrder

    sandbox = frozen_sandbox(seed=8)
    seed(sandbox)
    history = [
        SeedOrder(
            lines=[BuyerLine(sku="NON-LA-HUE", quantity=2)],
            customer={"name": "Vũ Thị Thu", "phone": "0903 111 222"},
            created_at=START - timedelta(days=3, minutes=i),
        )
        for i in range(5)
    ]
    with sandbox.lock:
        ids = sandbox.seed_orders(history)
    assert sandbox.listing("NON-LA-HUE")["stock"] == 7  # history takes no listed stock
    shop = channel(sandbox)
    got = [o async for o in shop.stream_orders(updated_since=START - timedelta(days=4))]
    assert {o.channel_ref.external_id for o in got} == set(ids)
    assert all(o.quantities() == {"NON-LA-HUE": 2} for o in got)
    with pytest.raises(Exception, match="KHONG-CO"), sandbox.lock:
        sandbox.seed_orders([SeedOrder(lines=[BuyerLine(sku="KHONG-CO", quantity=1)])])
    await shop.aclose()
