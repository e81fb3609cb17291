"""Writes whose answer is lost after Shopify acted: none is repeated blind, none is doubled.

Every test injects the kit's ``timeout_after_acting`` fault on one mutation: the sandbox
carries it out, then the client times out not knowing. A mutation that is unsafe to repeat
(``bulkOperationRunQuery``, ``fulfillmentCreate``, ``orderCancel``, ``orderClose``) is sent
once and its effect read back; one that is safe (``inventorySetQuantities`` under its
``@idempotent`` key, absolute prices, a webhook subscription that answers "taken", a
deletion that answers "does not exist") is
repeated by the HTTP layer and still lands exactly once.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from shopify_helpers import make_channel

from omnisdk.channel import OrderUpdate
from omnisdk.models import Money, OrderStatus, PriceUpdate, StockUpdate
from omnisdk.plugins import Plugins
from omnisdk.testing import FaultSettings, LoopbackServer
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.faults import FaultKind
from omnisdk_shopify import queries
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox

SEEDS: list[dict[str, Any]] = [
    {"sku": "AT-M", "title": "Áo thun cổ tròn", "price": "199000", "stock": 50},
    {"sku": "NL-3", "title": "Nón lá Huế", "price": "85000", "stock": 50},
]
CUSTOMER = {
    "name": "Nguyễn Thị Hồng",
    "phone": "+84 90 123 4567",
    "email": "hong.nguyen@example.vn",
    "address": {"ward": "Phường Bến Nghé", "district": "Quận 1", "province": "Hồ Chí Minh"},
}


def _lose_the_answer_of(sandbox: ShopifySandbox, operation: str) -> None:
    sandbox.faults = FaultSettings(timeout_after_acting=1, timeout_operations=[operation])


def _lost(sandbox: ShopifySandbox) -> list[str | None]:
    return [r.operation for r in sandbox.requests if r.fault is FaultKind.TIMEOUT_AFTER_ACTING]


@pytest.mark.parametrize("lose_the_start", [False, True])
async def test_a_bulk_read_longer_than_the_timeout_starts_one_operation(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins, lose_the_start: bool
) -> None:
    """The export runs longer than the client's HTTP timeout, and the start's answer may be
    lost on the way: every order arrives exactly once and only one operation was started."""
    await control.seed(SEEDS)
    placed = [
        await control.place_order([("AT-M", 1 + i % 2), ("NL-3", 1)], customer=CUSTOMER)
        for i in range(12)
    ]
    sandbox.bulk.duration = 1.2  # the export outlasts the 0.4 s timeout three times over
    if lose_the_start:
        _lose_the_answer_of(sandbox, "bulk.start")
    with LoopbackServer(sandbox.app) as server:
        settings = {
            **sandbox.channel_settings(server.base_url),
            "timeout": 0.4,
            "bulk_threshold": 0,
            "bulk_poll_interval": 0.05,
        }
        async with ShopifyChannel(settings, account="hcm", plugins=plugins) as channel:
            orders = [o async for o in channel.stream_orders()]
    ids = Counter(o.channel_ref.external_id for o in orders)
    assert sorted(ids) == sorted(placed) and set(ids.values()) == {1}
    assert all(sum(o.quantities().values()) in (2, 3) for o in orders)
    assert len(sandbox.operations("bulk.start")) == 1
    assert _lost(sandbox) == (["bulk.start"] if lose_the_start else [])
    current = sandbox.bulk.current()
    assert current is not None and current.status == "COMPLETED"


async def test_a_bulk_read_adopts_the_same_export_already_running(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """An export of the same query left running (an earlier read that crashed) is adopted:
    not waited out and started a second time."""
    await control.seed(SEEDS)
    placed = {await control.place_order([("AT-M", 1)]) for _ in range(3)}
    sandbox.bulk.duration = 0.6
    async with make_channel(sandbox, plugins, bulk_threshold=0, bulk_poll_interval=0.05) as channel:
        left = await channel.client.graphql(
            queries.BULK_RUN, {"query": queries.bulk_orders_query(None)}
        )
        assert left["bulkOperationRunQuery"]["userErrors"] == []
        orders = [o.channel_ref.external_id async for o in channel.stream_orders()]
    assert sorted(orders) == sorted(placed)
    assert len(sandbox.operations("bulk.start")) == 1


async def test_shipping_whose_answer_is_lost_ships_once(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """fulfillmentCreate is sent once; the order read back shows it shipped: success."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 2), ("NL-3", 1)], customer=CUSTOMER)
    _lose_the_answer_of(sandbox, "orders.fulfil")
    update = OrderUpdate(
        external_id=order_id,
        status=OrderStatus.SHIPPED,
        tracking_number="GHN8420VN",
        carrier="Giao Hàng Nhanh",
    )
    result = await channel.update_order(update)
    assert result.ok, result
    assert _lost(sandbox) == ["orders.fulfil"]
    assert len(sandbox.operations("orders.fulfil")) == 1
    [order] = (await control.state())["orders"]
    assert order["tracking_numbers"] == ["GHN8420VN"] and order["status"] == "fulfilled"


async def test_cancelling_whose_answer_is_lost_cancels_once(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """orderCancel is sent once; the cancelled order read back makes it a success."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 3)])
    _lose_the_answer_of(sandbox, "orders.cancel")
    result = await channel.update_order(
        OrderUpdate(external_id=order_id, status=OrderStatus.CANCELLED, note="Khách đổi ý")
    )
    assert result.ok, result
    assert _lost(sandbox) == ["orders.cancel"]
    assert len(sandbox.operations("orders.cancel")) == 1
    assert (await control.listed_stock())["AT-M"] == 50  # restocked once, not twice


async def test_closing_whose_answer_is_lost_closes_once(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """orderClose is sent once; the closed order read back makes it a success."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("NL-3", 1)])
    shipped = await channel.update_order(
        OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED, tracking_number="VN-1")
    )
    assert shipped.ok
    _lose_the_answer_of(sandbox, "orders.close")
    result = await channel.update_order(
        OrderUpdate(external_id=order_id, status=OrderStatus.COMPLETED)
    )
    assert result.ok, result
    assert _lost(sandbox) == ["orders.close"]
    assert len(sandbox.operations("orders.close")) == 1


async def test_an_unanswered_write_that_did_not_take_fails_retryably(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """A shipment whose connection drops before Shopify acted: not repeated blind, failed
    retryably; the next attempt reads the order first and ships it, once."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 1)])
    update = OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED, tracking_number="T-9")
    send = channel.client.graphql

    async def drop_the_fulfilment(document: str, *args: Any, **kwargs: Any) -> Any:
        if "fulfillmentCreate" in document:
            sandbox.faults = FaultSettings(drop_first=1)  # this very request is dropped
        return await send(document, *args, **kwargs)

    channel.client.graphql = drop_the_fulfilment  # type: ignore[method-assign]
    failed = await channel.update_order(update)
    assert not failed.ok and failed.retryable, failed
    dropped = [r for r in sandbox.requests if r.fault is FaultKind.DROP]
    assert len(dropped) == 1 and sandbox.operations("orders.fulfil") == []
    channel.client.graphql = send  # type: ignore[method-assign]
    assert (await channel.update_order(update)).ok
    assert len(sandbox.operations("orders.fulfil")) == 1


async def test_a_keyed_stock_set_whose_answer_is_lost_lands_once(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """inventorySetQuantities is safe to repeat: the HTTP layer sends it again under the same
    ``@idempotent`` key and Shopify answers with the first result, so the compare-and-swap
    that already moved 50 -> 40 is not refused as stale, and nothing is applied twice."""
    await control.seed(SEEDS)
    _lose_the_answer_of(sandbox, "stock.write")
    [result] = await channel.write_stock([StockUpdate(sku="AT-M", quantity=40, expected=50)])
    assert result.ok, result
    assert _lost(sandbox) == ["stock.write"]
    assert len(sandbox.operations("stock.write")) == 2  # repeated, replayed by its key
    assert (await control.listed_stock())["AT-M"] == 40


async def test_a_price_write_whose_answer_is_lost_lands_once(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """productVariantsBulkUpdate carries absolute prices: repeating it is harmless."""
    await control.seed(SEEDS)
    _lose_the_answer_of(sandbox, "price.write")
    [result] = await channel.write_prices([PriceUpdate(sku="NL-3", price=Money.of(89_000, "VND"))])
    assert result.ok, result
    assert _lost(sandbox) == ["price.write"]
    [listing] = [e for e in (await control.state())["listings"] if e["sku"] == "NL-3"]
    assert Decimal(listing["price"]) == 89_000


async def test_a_webhook_subscription_whose_answer_is_lost_is_kept_once(
    sandbox: ShopifySandbox, channel: ShopifyChannel
) -> None:
    """webhookSubscriptionCreate repeated answers "already taken", which counts as done."""
    _lose_the_answer_of(sandbox, "webhooks.subscribe")
    url = "https://omnisdk.example.vn/hooks/shopify"
    topics = await channel.register_webhooks(url)
    assert _lost(sandbox) == ["webhooks.subscribe"]
    subscriptions = Counter(s.topic for s in sandbox.shop.webhook_subscriptions.values())
    assert sorted(subscriptions) == sorted(topics) and set(subscriptions.values()) == {1}


async def test_a_webhook_deletion_whose_answer_is_lost_still_removes_every_subscription(
    sandbox: ShopifySandbox, channel: ShopifyChannel
) -> None:
    """webhookSubscriptionDelete repeated answers "does not exist": the subscription is gone
    either way, so unregistering ends with none left and no error."""
    url = "https://omnisdk.example.vn/hooks/shopify"
    topics = await channel.register_webhooks(url)
    assert len(sandbox.shop.webhook_subscriptions) == len(topics) >= 2
    _lose_the_answer_of(sandbox, "webhooks.unsubscribe")
    await channel.unregister_webhooks(url)
    assert _lost(sandbox) == ["webhooks.unsubscribe"]
    assert sandbox.shop.webhook_subscriptions == {}
