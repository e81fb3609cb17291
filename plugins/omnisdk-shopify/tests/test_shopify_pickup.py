"""Buy online, pick up in store: Shopify pick-up orders as FulfilmentMode.PICKUP at the
store's location code, from GraphQL, bulk and REST/webhook payloads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from shopify_helpers import make_channel

from omnisdk.channel import OrderUpdate, WebhookRequest
from omnisdk.models import FulfilmentMode, OrderStatus, StockUpdate
from omnisdk.plugins import Plugins
from omnisdk.testing.control import SandboxControl, SandboxRefused
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.locations import LocationCodes
from omnisdk_shopify.mapping import Origin, order_from_graphql, order_from_rest
from omnisdk_shopify.sandbox.api.rest_views import order_json
from omnisdk_shopify.sandbox.app import ShopifySandbox
from omnisdk_shopify.sandbox.state.records import Location

STORE = "Cửa hàng Hà Nội"


async def _shop_with_store(sandbox: ShopifySandbox, control: SandboxControl) -> Location:
    """AT-M: 5 at the primary warehouse, 3 in the Hà Nội store."""
    await control.seed(
        [
            {
                "sku": "AT-M",
                "title": "Áo thun cổ tròn",
                "price": "199000",
                "currency": "VND",
                "stock": 5,
            }
        ]
    )
    with sandbox.lock:
        store = sandbox.shop.add_location(STORE, city="Hà Nội")
        variant = sandbox.shop.variant_for_sku("AT-M")
        sandbox.shop.connect(
            sandbox.shop.inventory_items[variant.inventory_item_id], store, available=3
        )
    return store


async def _pickup(control: SandboxControl, location: str, quantity: int = 2, **extra: Any) -> str:
    body = {"lines": [{"sku": "AT-M", "quantity": quantity}], "pickup_location": location, **extra}
    answer = await control.call("POST", "/buyer/orders", body)
    return str(answer["id"])


def _levels(sandbox: ShopifySandbox, location_id: int) -> dict[str, int]:
    variant = sandbox.shop.variant_for_sku("AT-M")
    item = sandbox.shop.inventory_items[variant.inventory_item_id]
    return dict(item.levels[location_id].quantities)


# -- the sandbox's buyer ------------------------------------------------------------------


async def test_a_pickup_order_commits_the_stores_units(
    sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """The units are committed in the store (not the warehouse); one PICK_UP fulfillment
    order there; REST shows Shopify's pick-up shipping line (the store's name)."""
    store = await _shop_with_store(sandbox, control)
    order_id = await _pickup(
        control,
        STORE.upper(),  # names compare case-insensitively
        customer={"name": "Lê Thị Hoa", "phone": "0912 345 678", "email": "hoa@example.vn"},
    )
    order = sandbox.shop.orders[int(order_id.rsplit("/", 1)[-1])]
    assert _levels(sandbox, store.id)["committed"] == 2
    assert _levels(sandbox, sandbox.shop.primary_location.id)["committed"] == 0
    [fulfillment_order] = order.fulfillment_orders
    assert (fulfillment_order.location_id, fulfillment_order.delivery_method) == (
        store.id,
        "PICK_UP",
    )
    rest = order_json(sandbox.shop, order)
    assert [(line["code"], line["source"]) for line in rest["shipping_lines"]] == [
        (STORE, "shopify")
    ]
    assert rest["customer"]["phone"] == "+84912345678"
    state = await control.state()
    assert state["orders"][0]["pickup_location"] == f"gid://shopify/Location/{store.id}"


async def test_a_store_short_of_stock_refuses_pickup_and_unknown_stores_are_404(
    sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """4 wanted, the store has 3 (the warehouse's 5 do not count): 409; a store that does
    not exist: 404; an invalid body: 422; the common body without pick-up still works."""
    store = await _shop_with_store(sandbox, control)
    with pytest.raises(SandboxRefused) as short:
        await _pickup(control, str(store.id), quantity=4)
    assert short.value.status == 409 and short.value.body["available"] == 3
    with pytest.raises(SandboxRefused) as unknown:
        await _pickup(control, "Cửa hàng Cần Thơ")
    assert unknown.value.status == 404
    with pytest.raises(SandboxRefused) as invalid:
        await control.call("POST", "/buyer/orders", {"lines": [], "pickup_location": STORE})
    assert invalid.value.status == 422
    shipped = await control.place_order([("AT-M", 4)])
    assert shipped.startswith("gid://shopify/Order/")
    assert (await control.listed_stock())["AT-M"] == 4


# -- GraphQL reads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ({}, None),  # default: the numeric location id
        ({STORE: "hn-01"}, "hn-01"),  # mapped by name
        ({"ID": "hn-hbt"}, "hn-hbt"),  # mapped by id (filled in below)
    ],
)
async def test_pickup_orders_read_by_graphql_and_bulk(
    sandbox: ShopifySandbox,
    control: SandboxControl,
    plugins: Plugins,
    codes: dict[str, str],
    expected: str | None,
) -> None:
    """Paged, single and bulk reads all give PICKUP at the store's code; a shipped order
    stays SHIP."""
    store = await _shop_with_store(sandbox, control)
    codes = {(str(store.id) if key == "ID" else key): code for key, code in codes.items()}
    code = expected or str(store.id)
    pickup_id = await _pickup(control, f"gid://shopify/Location/{store.id}")
    shipped_id = await control.place_order([("AT-M", 1)])
    for bulk in (None, 0):
        async with make_channel(
            sandbox, plugins, location_codes=codes, bulk_threshold=bulk, bulk_poll_interval=0.01
        ) as channel:
            orders = {o.channel_ref.external_id: o async for o in channel.stream_orders()}
            assert orders[pickup_id].fulfilment is FulfilmentMode.PICKUP
            assert orders[pickup_id].pickup_location == code
            assert orders[shipped_id].fulfilment is FulfilmentMode.SHIP
            assert orders[shipped_id].pickup_location is None
            single = await channel.get_order(pickup_id)
            assert (single.fulfilment, single.pickup_location) == (FulfilmentMode.PICKUP, code)
            locations = {loc.name: loc.code async for loc in channel.stream_locations()}
            assert locations[STORE] == code  # one code for the store everywhere
            levels = {lv.location: lv.on_hand async for lv in channel.stream_stock(["AT-M"])}
            assert levels[code] == 1


async def test_stock_writes_take_the_merchants_code(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """A StockUpdate names the store by its code; an unknown code fails alone."""
    store = await _shop_with_store(sandbox, control)
    async with make_channel(sandbox, plugins, location_codes={STORE: "hn-01"}) as channel:
        results = await channel.write_stock(
            [
                StockUpdate(sku="AT-M", quantity=9, expected=3, location="hn-01"),
                StockUpdate(sku="AT-M", quantity=1, expected=None, location="ct-99"),
            ]
        )
    assert [r.ok for r in results] == [True, False]
    assert results[1].code == "UNKNOWN_LOCATION"
    assert _levels(sandbox, store.id)["available"] == 9


async def test_collecting_a_pickup_order_fulfils_it_at_the_store(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """SHIPPED with the pick-up location (as the engine sends it) fulfils the store's
    fulfillment order; another location has nothing to fulfil."""
    store = await _shop_with_store(sandbox, control)
    order_id = await _pickup(control, STORE)
    async with make_channel(sandbox, plugins, location_codes={STORE: "hn-01"}) as channel:
        order = await channel.get_order(order_id)
        assert order.pickup_location == "hn-01"
        wrong = await channel.update_order(
            OrderUpdate(
                external_id=order_id,
                status=OrderStatus.SHIPPED,
                location=str(sandbox.shop.primary_location.id),
            )
        )
        assert not wrong.ok and wrong.code == "NO_FULFILLMENT_ORDER"
        unknown = await channel.update_order(
            OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED, location="ct-99")
        )
        assert not unknown.ok and unknown.code == "UNKNOWN_LOCATION"
        collected = await channel.update_order(
            OrderUpdate(external_id=order_id, status=OrderStatus.SHIPPED, location="hn-01")
        )
        assert collected.ok, collected
        after = await channel.get_order(order_id)
    assert (after.status, after.fulfilment, after.pickup_location) == (
        OrderStatus.SHIPPED,
        FulfilmentMode.PICKUP,
        "hn-01",
    )
    assert after.tracking_number is None
    assert _levels(sandbox, store.id)["on_hand"] == 1


# -- REST / webhooks -----------------------------------------------------------------------


def _signed(
    channel: ShopifyChannel, sandbox: ShopifySandbox, topic: str, payload: Any
) -> WebhookRequest:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return WebhookRequest(body=body, headers=sandbox.sign_webhook(topic, body))


async def test_pickup_orders_from_webhooks(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """orders/create of a pick-up order: PICKUP when the store's name is known (mapped by
    name, or learnt by check()); a channel that knows no location cannot tell it apart from
    a local delivery and says SHIP (polling corrects it)."""
    store = await _shop_with_store(sandbox, control)
    order_id = await _pickup(control, STORE)
    payload = order_json(sandbox.shop, sandbox.shop.orders[int(order_id.rsplit("/", 1)[-1])])

    async with make_channel(sandbox, plugins, location_codes={STORE: "hn-01"}) as mapped:
        [event] = mapped.receive_webhook(_signed(mapped, sandbox, "orders/create", payload))
    assert event.order is not None
    assert (event.order.fulfilment, event.order.pickup_location) == (FulfilmentMode.PICKUP, "hn-01")

    async with make_channel(sandbox, plugins) as learnt:
        await learnt.check()
        [event] = learnt.receive_webhook(_signed(learnt, sandbox, "orders/create", payload))
    assert event.order is not None and event.order.pickup_location == str(store.id)

    async with make_channel(sandbox, plugins) as unaware:
        [event] = unaware.receive_webhook(_signed(unaware, sandbox, "orders/create", payload))
    assert event.order is not None and event.order.fulfilment is FulfilmentMode.SHIP


# -- pure mapping --------------------------------------------------------------------------


def _bag(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "VND"}}


NODE: dict[str, Any] = {
    "id": "gid://shopify/Order/9001",
    "name": "#1042",
    "createdAt": "2026-11-20T03:00:00Z",
    "updatedAt": "2026-11-20T03:05:00Z",
    "displayFinancialStatus": "PAID",
    "displayFulfillmentStatus": "UNFULFILLED",
    "currencyCode": "VND",
    "totalPriceSet": _bag("398000.00"),
    "subtotalPriceSet": _bag("398000.00"),
    "lineItems": {
        "nodes": [
            {
                "id": "gid://shopify/LineItem/1",
                "sku": "AT-M",
                "title": "Áo thun cổ tròn",
                "quantity": 2,
                "originalUnitPriceSet": _bag("199000.00"),
            }
        ]
    },
    "fulfillmentOrders": {
        "nodes": [
            {
                "id": "gid://shopify/FulfillmentOrder/7",
                "status": "OPEN",
                "deliveryMethod": {"methodType": "PICK_UP"},
                "assignedLocation": {
                    "location": {"id": "gid://shopify/Location/655441491", "name": STORE}
                },
            }
        ]
    },
}


def _with_methods(*methods: tuple[str, str]) -> dict[str, Any]:
    node = copy.deepcopy(NODE)
    node["fulfillmentOrders"]["nodes"] = [
        {
            "id": f"gid://shopify/FulfillmentOrder/{index}",
            "status": "OPEN",
            "deliveryMethod": {"methodType": method},
            "assignedLocation": {"location": {"id": f"gid://shopify/Location/{location}"}},
        }
        for index, (method, location) in enumerate(methods)
    ]
    return node


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (NODE, (FulfilmentMode.PICKUP, "655441491")),
        (_with_methods(("PICK_UP", "1"), ("NONE", "2")), (FulfilmentMode.PICKUP, "1")),
        (_with_methods(("PICK_UP", "1"), ("SHIPPING", "2")), (FulfilmentMode.SHIP, None)),
        (_with_methods(("PICK_UP", "1"), ("PICK_UP", "2")), (FulfilmentMode.SHIP, None)),
        (_with_methods(("LOCAL", "1")), (FulfilmentMode.SHIP, None)),
        (_with_methods(("SHIPPING", "1")), (FulfilmentMode.SHIP, None)),
        ({k: v for k, v in NODE.items() if k != "fulfillmentOrders"}, (FulfilmentMode.SHIP, None)),
    ],
    ids=["pick-up", "pick-up+digital", "split-cart", "two-stores", "local", "ship", "no-fo"],
)
def test_graphql_pickup_mapping(
    node: dict[str, Any], expected: tuple[FulfilmentMode, str | None]
) -> None:
    """Every handed-over fulfillment order PICK_UP at one location is a pick-up."""
    order = order_from_graphql(node, Origin("shopify", "hcm", "VND"))
    assert (order.fulfilment, order.pickup_location) == expected


def test_graphql_pickup_uses_the_merchants_code() -> None:
    """A code mapped by id wins over one mapped by name; the name comes with the node."""
    by_name = Origin("shopify", "hcm", "VND", LocationCodes({STORE: "hn-01"}))
    by_id = Origin(
        "shopify",
        "hcm",
        "VND",
        LocationCodes({"gid://shopify/Location/655441491": "hn-id", STORE: "hn-01"}),
    )
    assert order_from_graphql(NODE, by_name).pickup_location == "hn-01"
    assert order_from_graphql(NODE, by_id).pickup_location == "hn-id"


def _rest(shipping_lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": 9001,
        "admin_graphql_api_id": "gid://shopify/Order/9001",
        "name": "#1042",
        "created_at": "2026-11-20T10:00:00+07:00",
        "updated_at": "2026-11-20T10:05:00+07:00",
        "currency": "VND",
        "financial_status": "paid",
        "fulfillment_status": None,
        "total_price": "398000.00",
        "subtotal_price": "398000.00",
        "line_items": [
            {"id": 1, "sku": "AT-M", "title": "Áo thun", "quantity": 2, "price": "199000.00"}
        ],
        "shipping_lines": shipping_lines,
    }


def _line(code: str, source: str = "shopify", **extra: Any) -> dict[str, Any]:
    return {"code": code, "title": code, "source": source, "price": "0.00", **extra}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([_line(STORE)], (FulfilmentMode.PICKUP, "hn-01")),
        ([_line("cửa hàng hà nội")], (FulfilmentMode.PICKUP, "hn-01")),
        ([_line("Kho HCM")], (FulfilmentMode.PICKUP, "1001")),  # learnt, not mapped
        ([_line("Giao trong ngày nội thành")], (FulfilmentMode.SHIP, None)),  # local delivery
        ([_line(STORE, source="ghn-carrier-service")], (FulfilmentMode.SHIP, None)),
        ([_line(STORE, is_removed=True)], (FulfilmentMode.SHIP, None)),
        ([], (FulfilmentMode.SHIP, None)),
    ],
    ids=["store", "case", "learnt", "local-delivery", "carrier", "removed", "none"],
)
def test_rest_pickup_mapping(
    lines: list[dict[str, Any]], expected: tuple[FulfilmentMode, str | None]
) -> None:
    """Shopify's own shipping line named after a known location is a pick-up there."""
    codes = LocationCodes({STORE: "hn-01"})
    codes.learn("gid://shopify/Location/1001", "Kho HCM")
    order = order_from_rest(_rest(lines), Origin("shopify", "hcm", "VND", codes))
    assert (order.fulfilment, order.pickup_location) == expected
