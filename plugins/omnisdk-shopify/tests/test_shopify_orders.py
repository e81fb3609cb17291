"""Order writes: ship with tracking, cancel (restock or not), close, and what Shopify refuses."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest
from shopify_helpers import make_channel

from omnisdk.channel import Capability, OrderUpdate, WebhookRequest
from omnisdk.errors import ConfigError
from omnisdk.models import EventKind, Money, OrderStatus, PaymentStatus
from omnisdk.plugins import Plugins
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.sandbox import SandboxError
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox

SEEDS = [
    {"sku": "AT-M", "title": "Áo thun cổ tròn", "price": "199000", "currency": "VND", "stock": 5},
    {"sku": "NL-3", "title": "Nón lá Huế", "price": "85000", "currency": "VND", "stock": 10},
]


class Hooks:
    """Webhook deliveries captured in memory (the sandbox's webhook transport)."""

    def __init__(self) -> None:
        self.requests: list[WebhookRequest] = []
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(WebhookRequest(body=request.content, headers=request.headers))
        return httpx.Response(200)

    def topics(self) -> list[str]:
        with self._lock:
            return [r.header("x-shopify-topic") or "" for r in self.requests]

    def of(self, topic: str) -> list[WebhookRequest]:
        with self._lock:
            return [r for r in self.requests if r.header("x-shopify-topic") == topic]


async def _hooks(sandbox: ShopifySandbox, control: SandboxControl) -> Hooks:
    hooks = Hooks()
    sandbox.webhook_transport = httpx.MockTransport(hooks.handle)
    await control.set_webhook_url("https://omnisdk.example.vn/hooks/shopify")
    return hooks


def _level(sandbox: ShopifySandbox, sku: str) -> dict[str, int]:
    variant = sandbox.shop.variant_for_sku(sku)
    item = sandbox.shop.inventory_items[variant.inventory_item_id]
    return dict(item.levels[sandbox.shop.primary_location.id].quantities)


def test_the_channel_declares_order_writes() -> None:
    """WRITE_ORDERS is a capability, and orders/fulfilled a webhook topic."""
    assert Capability.WRITE_ORDERS in ShopifyChannel.capabilities
    assert "orders/fulfilled" in ShopifyChannel.limits.webhook_topics


async def test_ship_with_tracking_then_read_back(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """fulfillmentCreate over the open fulfillment order: shipped, tracking number on the
    order, units off on_hand (listed stock untouched), Shopify's webhooks sent."""
    await control.seed(SEEDS)
    hooks = await _hooks(sandbox, control)
    order_id = await control.place_order([("AT-M", 2), ("NL-3", 1)])
    result = await channel.update_order(
        OrderUpdate(
            external_id=order_id,
            status=OrderStatus.SHIPPED,
            tracking_number="GHN8420VN",
            carrier="Giao Hàng Nhanh",
        )
    )
    assert result.ok, result
    assert result.key == order_id
    assert (result.external_id or "").startswith("gid://shopify/Fulfillment/")
    order = await channel.get_order(order_id)
    assert order.status is OrderStatus.SHIPPED
    assert order.tracking_number == "GHN8420VN"
    assert order.channel_status == "paid/fulfilled"
    assert _level(sandbox, "AT-M")["committed"] == 0
    assert _level(sandbox, "AT-M")["on_hand"] == 3
    assert (await control.listed_stock())["AT-M"] == 3
    await sandbox.drain_webhooks()
    topics = hooks.topics()
    assert {"fulfillments/create", "orders/fulfilled", "orders/updated"} <= set(topics)
    [fulfilled] = hooks.of("orders/fulfilled")
    [event] = channel.receive_webhook(fulfilled)
    assert event.kind is EventKind.ORDER_UPDATED and event.order is not None
    assert event.order.status is OrderStatus.SHIPPED
    assert event.order.tracking_number == "GHN8420VN"
    assert len(sandbox.operations("orders.fulfil")) == 1


async def test_shipping_again_is_harmless_but_another_tracking_number_is_refused(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """A retried shipment changes nothing; a different tracking number is reported."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 1)])
    update = OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED, tracking_number="T-1")
    assert (await channel.update_order(update)).ok
    again = await channel.update_order(update)
    assert again.ok
    other = await channel.update_order(update.model_copy(update={"tracking_number": "T-2"}))
    assert not other.ok and other.code == "ALREADY_FULFILLED" and "T-1" in (other.error or "")
    assert len(sandbox.operations("orders.fulfil")) == 1
    assert (await control.state())["orders"][0]["tracking_numbers"] == ["T-1"]


async def test_an_order_stocked_at_two_locations_ships_from_both(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """One fulfillment order per location; Shopify takes one location per fulfillment, so
    the channel makes one fulfillmentCreate per location."""
    await control.seed([SEEDS[0]])
    with sandbox.lock:
        store = sandbox.shop.add_location("Cửa hàng Đà Nẵng", city="Đà Nẵng")
        variant = sandbox.shop.variant_for_sku("AT-M")
        sandbox.shop.connect(
            sandbox.shop.inventory_items[variant.inventory_item_id], store, available=4
        )
    order_id = await control.place_order([("AT-M", 7)])  # 5 at the primary, 2 in Đà Nẵng
    placed = sandbox.shop.orders[int(order_id.rsplit("/", 1)[-1])]
    assert sorted(fo.location_id for fo in placed.fulfillment_orders) == sorted(
        [sandbox.shop.primary_location.id, store.id]
    )
    result = await channel.update_order(
        OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED, tracking_number="VN-77")
    )
    assert result.ok, result
    assert len(placed.fulfillments) == 2 and placed.fulfillment_status == "fulfilled"
    assert len(sandbox.operations("orders.fulfil")) == 2
    assert (await channel.get_order(order_id)).status is OrderStatus.SHIPPED


async def test_cancel_with_restock_releases_listed_stock(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """orderCancel restocks: the listed stock comes back; the job is polled; refunded."""
    await control.seed(SEEDS)
    hooks = await _hooks(sandbox, control)
    order_id = await control.place_order([("AT-M", 2)])
    assert (await control.listed_stock())["AT-M"] == 3
    sent: list[str] = []
    graphql = channel.client.graphql

    async def recording(document: str, variables: Any = None, **options: Any) -> Any:
        sent.append(document.split("(")[0].split()[-1])
        return await graphql(document, variables, **options)

    channel.client.graphql = recording  # type: ignore[method-assign]
    result = await channel.update_order(
        OrderUpdate(external_id=order_id, status=OrderStatus.CANCELLED, note="Khách đổi ý")
    )
    assert result.ok, result
    assert sent == ["OrderForUpdate", "OrderCancel", "JobPoll", "OrderForUpdate"]
    assert (await control.listed_stock())["AT-M"] == 5
    assert _level(sandbox, "AT-M")["committed"] == 0 and _level(sandbox, "AT-M")["on_hand"] == 5
    order = await channel.get_order(order_id)
    assert order.status is OrderStatus.CANCELLED
    assert order.payment_status is PaymentStatus.REFUNDED
    placed = sandbox.shop.orders[int(order_id.rsplit("/", 1)[-1])]
    assert placed.cancel_reason == "other"
    await sandbox.drain_webhooks()
    assert {"orders/cancelled", "orders/updated", "inventory_levels/update"} <= set(hooks.topics())
    [cancelled] = hooks.of("orders/cancelled")
    [event] = channel.receive_webhook(cancelled)
    assert event.kind is EventKind.ORDER_CANCELLED
    assert event.order is not None and event.order.status is OrderStatus.CANCELLED
    again = OrderUpdate(external_id=order_id, status=OrderStatus.CANCELLED)
    assert (await channel.update_order(again)).ok  # already cancelled: nothing sent
    assert len(sandbox.operations("orders.cancel")) == 1


async def test_cancel_without_restock_writes_the_units_off(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """restock_on_cancel=false: the listed stock stays down, on_hand drops; no refund."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 2)])
    async with make_channel(
        sandbox, plugins, restock_on_cancel=False, refund_on_cancel=False
    ) as channel:
        result = await channel.update_order(
            OrderUpdate(external_id=order_id, status=OrderStatus.CANCELLED)
        )
        assert result.ok, result
        order = await channel.get_order(order_id)
    assert order.status is OrderStatus.CANCELLED
    assert order.payment_status is PaymentStatus.PAID
    assert (await control.listed_stock())["AT-M"] == 3
    assert _level(sandbox, "AT-M")["on_hand"] == 3 and _level(sandbox, "AT-M")["committed"] == 0


async def test_cancelling_a_fulfilled_order_is_shopifys_user_error(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """Shopify refuses to cancel an order with fulfillments: a failed result with its code
    and message, not an exception, and nothing changes."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("NL-3", 3)])
    number = order_id.rsplit("/", 1)[-1]
    assert await control.advance_order(number) == "fulfilled"
    result = await channel.update_order(
        OrderUpdate(external_id=order_id, status=OrderStatus.CANCELLED)
    )
    assert not result.ok
    assert result.code == "INVALID" and not result.retryable
    assert "fulfillments" in (result.error or "")
    assert (await channel.get_order(order_id)).status is OrderStatus.SHIPPED
    assert (await control.listed_stock())["NL-3"] == 7
    assert len(sandbox.operations("orders.cancel")) == 1


async def test_a_cancellation_job_still_running_is_a_retryable_failure(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """Shopify's job not done within job_timeout: retryable JOB_PENDING; a retry then sees
    the order cancelled and succeeds without cancelling twice."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 1)])
    async with make_channel(sandbox, plugins, job_poll_interval=0.01, job_timeout=0.05) as channel:
        graphql = channel.client.graphql

        async def job_never_done(document: str, variables: Any = None, **options: Any) -> Any:
            data = await graphql(document, variables, **options)
            if "JobPoll" in document:
                data = {"job": {**data["job"], "done": False}}
            return data

        channel.client.graphql = job_never_done  # type: ignore[method-assign]
        update = OrderUpdate(external_id=order_id, status=OrderStatus.CANCELLED)
        pending = await channel.update_order(update)
        assert not pending.ok and pending.code == "JOB_PENDING" and pending.retryable
        assert (await channel.update_order(update)).ok
    assert len(sandbox.operations("orders.cancel")) == 1


async def test_complete_closes_a_fulfilled_order_only(
    control: SandboxControl, channel: ShopifyChannel
) -> None:
    """COMPLETED is orderClose, for a shipped order; an unshipped one is refused first."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 1)])
    complete = OrderUpdate(external_id=order_id, status=OrderStatus.COMPLETED)
    early = await channel.update_order(complete)
    assert not early.ok and early.code == "NOT_FULFILLED"
    ship = OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED)
    assert (await channel.update_order(ship)).ok
    assert (await channel.update_order(complete)).ok
    assert (await channel.get_order(order_id)).status is OrderStatus.COMPLETED


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.PENDING,
        OrderStatus.CONFIRMED,
        OrderStatus.READY_TO_SHIP,
        OrderStatus.DELIVERED,
        OrderStatus.RETURNED,
    ],
)
async def test_statuses_shopify_has_no_write_for_fail_clearly(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel, status: OrderStatus
) -> None:
    """No request is made; the failure names the status and why."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 1)])
    before = len(sandbox.requests)
    result = await channel.update_order(OrderUpdate(external_id=order_id, status=status))
    assert not result.ok and result.code == "UNSUPPORTED_TRANSITION" and not result.retryable
    assert status.value in (result.error or "")
    assert len(sandbox.requests) == before


async def test_an_unknown_order_and_a_failing_platform_are_results_not_exceptions(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """A missing order is NOT_FOUND; a platform down after retries is a retryable failure."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("AT-M", 1)])
    async with make_channel(sandbox, plugins, max_attempts=1) as channel:
        missing = await channel.update_order(
            OrderUpdate(external_id="gid://shopify/Order/42", status=OrderStatus.SHIPPED)
        )
        assert not missing.ok and missing.code == "NOT_FOUND"
        await control.set_faults(error_rate=1.0, error_statuses=[503], retry_after=0, seed=3)
        down = await channel.update_order(
            OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED)
        )
    assert not down.ok and down.retryable


async def test_settings_refuse_one_code_for_two_locations(sandbox: ShopifySandbox) -> None:
    """A location code must name one location, or writes could not tell where to go."""
    with pytest.raises(ConfigError, match="location_codes"):
        ShopifyChannel(
            {
                **sandbox.channel_settings("http://127.0.0.1:1"),
                "location_codes": {"1001": "hcm", "Kho HCM": "hcm"},
            }
        )


# -- the sandbox's GraphQL order writes, beyond what the channel sends -----------------------

FULFILMENT_ORDERS = """
query FOs($id: ID!) {
  order(id: $id) {
    displayFulfillmentStatus
    fulfillmentOrders(first: 10) {
      nodes {
        id status deliveryMethod { methodType } assignedLocation { location { id } }
        supportedActions { action }
        lineItems(first: 10) { nodes { id totalQuantity remainingQuantity lineItem { sku } } }
      }
    }
  }
}
"""

CREATE = """
mutation Create($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status totalQuantity fulfillmentLineItems(first: 5) { nodes { quantity } } }
    userErrors { field message }
  }
}
"""


async def _graphql(
    sandbox: ShopifySandbox, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox"
    ) as client:
        response = await client.post(
            "/admin/api/2026-10/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": sandbox.access_token},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_sandbox_partial_fulfilment_and_shopifys_refusals(
    sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """Line quantities fulfil part of a fulfillment order (IN_PROGRESS, partially
    fulfilled, orders/partially_fulfilled); too many units, fulfillment orders of two
    locations in one call and a closed fulfillment order are userErrors that change nothing."""
    await control.seed([SEEDS[0]])
    with sandbox.lock:
        store = sandbox.shop.add_location("Cửa hàng Đà Nẵng", city="Đà Nẵng")
        variant = sandbox.shop.variant_for_sku("AT-M")
        sandbox.shop.connect(
            sandbox.shop.inventory_items[variant.inventory_item_id], store, available=4
        )
    hooks = await _hooks(sandbox, control)
    order_id = await control.place_order([("AT-M", 7)])
    data = await _graphql(sandbox, FULFILMENT_ORDERS, {"id": order_id})
    primary, other = data["order"]["fulfillmentOrders"]["nodes"]
    assert primary["deliveryMethod"]["methodType"] == "SHIPPING"
    assert {"action": "CREATE_FULFILLMENT"} in primary["supportedActions"]
    [line] = primary["lineItems"]["nodes"]
    assert (line["totalQuantity"], line["remainingQuantity"]) == (5, 5)

    too_many = {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": primary["id"],
                "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 6}],
            }
        ]
    }
    refused = (await _graphql(sandbox, CREATE, {"fulfillment": too_many}))["fulfillmentCreate"]
    assert refused["fulfillment"] is None
    assert "quantity" in refused["userErrors"][0]["message"]
    both = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": primary["id"]},
            {"fulfillmentOrderId": other["id"]},
        ]
    }
    refused = (await _graphql(sandbox, CREATE, {"fulfillment": both}))["fulfillmentCreate"]
    assert "same location" in refused["userErrors"][0]["message"]
    missing = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/9"}]
    }
    refused = (await _graphql(sandbox, CREATE, {"fulfillment": missing}))["fulfillmentCreate"]
    assert refused["userErrors"][0]["field"][-1] == "fulfillmentOrderId"

    part = {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": primary["id"],
                "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 2}],
            }
        ],
        "trackingInfo": {"number": "VN-1", "company": "Viettel Post"},
    }
    created = (await _graphql(sandbox, CREATE, {"fulfillment": part}))["fulfillmentCreate"]
    assert created["userErrors"] == []
    assert created["fulfillment"]["totalQuantity"] == 2
    data = await _graphql(sandbox, FULFILMENT_ORDERS, {"id": order_id})
    assert data["order"]["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    primary_now = data["order"]["fulfillmentOrders"]["nodes"][0]
    assert primary_now["status"] == "IN_PROGRESS"
    assert primary_now["lineItems"]["nodes"][0]["remainingQuantity"] == 3

    rest = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": primary["id"]}],
    }
    assert (await _graphql(sandbox, CREATE, {"fulfillment": rest}))["fulfillmentCreate"][
        "userErrors"
    ] == []
    closed = (await _graphql(sandbox, CREATE, {"fulfillment": rest}))["fulfillmentCreate"]
    assert "unfulfillable status= closed" in closed["userErrors"][0]["message"]
    await sandbox.drain_webhooks()
    assert hooks.topics().count("orders/partially_fulfilled") == 2
    assert hooks.topics().count("fulfillments/create") == 2
    assert _level(sandbox, "AT-M")["on_hand"] == 0  # the primary's 5 all left


async def test_sandbox_order_cancel_answers_like_shopify(
    sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """Unknown order: NOT_FOUND (and the deprecated userErrors); a staff note over 255
    characters: INVALID; a cancel answers a job not yet done that job(id:) reports done."""
    await control.seed(SEEDS)
    order_id = await control.place_order([("NL-3", 1)])
    cancel = """
    mutation C($id: ID!, $note: String) {
      orderCancel(orderId: $id, reason: CUSTOMER, restock: true, staffNote: $note,
                  refundMethod: {originalPaymentMethodsRefund: true}) {
        job { id done }
        jobResult { status done }
        orderCancelUserErrors { code field message }
        userErrors { field message }
      }
    }
    """
    data = await _graphql(sandbox, cancel, {"id": "gid://shopify/Order/1"})
    answer = data["orderCancel"]
    assert answer["orderCancelUserErrors"][0]["code"] == "NOT_FOUND"
    assert answer["userErrors"][0]["field"] == ["orderId"]
    answer = (await _graphql(sandbox, cancel, {"id": order_id, "note": "x" * 256}))["orderCancel"]
    assert answer["orderCancelUserErrors"][0]["code"] == "INVALID"
    answer = (await _graphql(sandbox, cancel, {"id": order_id, "note": "Hết hàng"}))["orderCancel"]
    assert answer["orderCancelUserErrors"] == []
    assert answer["job"]["done"] is False and answer["jobResult"]["status"] == "STARTED"
    polled = await _graphql(
        sandbox, "query J($id: ID!) { job(id: $id) { done } }", {"id": answer["job"]["id"]}
    )
    assert polled["job"]["done"] is True
    assert sandbox.shop.orders[int(order_id.rsplit("/", 1)[-1])].cancel_reason == "customer"
    assert (await control.listed_stock())["NL-3"] == 10


async def test_partial_refunds_are_read_by_graphql_and_from_webhooks(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """Two refunds, one with shipping: the goods refunded add up, shipping left out."""
    await control.seed(SEEDS)
    hooks = await _hooks(sandbox, control)
    order_id = await control.place_order([("AT-M", 2)])
    placed = sandbox.shop.orders[int(order_id.rsplit("/", 1)[-1])]
    placed.shipping_price = Decimal(30000)  # 398,000 of goods + 30,000 shipping
    if placed.financial_status != "paid":
        sandbox.advance_order(order_id)
    assert (await channel.get_order(order_id)).refund_total is None  # nothing given back
    sandbox.refund(order_id, "150000")
    sandbox.refund(order_id, "80000", shipping="30000")  # 50,000 of goods and the shipping
    order = await channel.get_order(order_id)
    assert order.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert order.refund_total == Money.of(200000, "VND")
    await sandbox.drain_webhooks()
    assert len(hooks.of("refunds/create")) == 2
    [*_, updated] = channel.receive_webhook(hooks.of("orders/updated")[-1])
    assert updated.order is not None
    assert updated.order.refund_total == Money.of(200000, "VND")
    with pytest.raises(SandboxError, match="is left to refund"):
        sandbox.refund(order_id, "300000")
