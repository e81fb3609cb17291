"""Fuzzing (hypothesis): broken Shopify records and webhooks never crash, never answer 500.

The valid records are what the channel really gets from the sandbox: GraphQL order and
product nodes (polling) and the REST JSON of ``orders/create`` and ``products/update``
deliveries (webhooks). :mod:`omnisdk.testing.fuzz` breaks them: every broken record maps or
is a :class:`MappingError` (quarantined, the rest of the batch goes on), every signed
delivery is accepted, ignored or refused with a 4xx.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shopify_helpers import make_channel

from omnisdk import Order
from omnisdk.channel import WebhookRequest
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.testing.fuzz import (
    FUZZ_SETTINGS,
    check_mapping,
    malformed_bodies,
    mutations,
    post_to_receiver,
    webhook_refusal,
)
from omnisdk.testing.sandbox import BuyerLine, BuyerOrder, SeedProduct
from omnisdk.webhooks import WebhookReceiver
from omnisdk_shopify import plugin
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox


class Fetched:
    """A sandbox, a channel on it, what the channel fetched and the deliveries it sent."""

    def __init__(self) -> None:
        self.deliveries: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.delivered = threading.Event()
        self.sandbox = ShopifySandbox(webhook_transport=httpx.MockTransport(self._keep))
        self.sandbox.webhook_url = "https://shop.example.vn/webhooks/hcm"
        with self.sandbox.lock:
            self.sandbox.seed_products(
                [
                    SeedProduct(sku="AO-DAI-DO", title="Áo dài lụa đỏ", price="650000", stock=5),
                    SeedProduct(sku="NON-LA-HUE", title="Nón lá Huế", price="85000", stock=7),
                ]
            )
            self.order_id = self.sandbox.place_order(
                BuyerOrder(
                    lines=[BuyerLine(sku="AO-DAI-DO", quantity=1)],
                    customer={"name": "Trần Văn Hùng", "phone": "+84912345678"},
                )
            )
        plugins = Plugins(entry_points=False)
        plugins.register(plugin, name="shopify")
        self.channel: ShopifyChannel = make_channel(self.sandbox, plugins)
        self.orders, self.products = asyncio.run(self._fetch())
        assert self.delivered.wait(10), "the sandbox sent no orders/create"

    def _keep(self, request: httpx.Request) -> httpx.Response:
        topic = request.headers.get("x-shopify-topic", "")
        self.deliveries.setdefault(topic, (request.content, dict(request.headers)))
        if topic == "orders/create":
            self.delivered.set()
        return httpx.Response(200)

    async def _fetch(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        await self.channel.check()
        orders = [raw async for raw in self.channel.fetch_orders()]
        products = [raw async for raw in self.channel.fetch_products()]
        assert orders and products
        return orders, products

    def request(self, topic: str, body: bytes) -> WebhookRequest:
        """``body`` delivered on ``topic`` with Shopify's headers, signed by the sandbox."""
        headers = {**self.sandbox.sign_webhook(topic, body), "Content-Type": "application/json"}
        return WebhookRequest(body=body, headers=headers)


@pytest.fixture(scope="module")
def fetched() -> Iterator[Fetched]:
    """Fetched once for the module (hypothesis runs each test many times)."""
    made = Fetched()
    yield made
    made.sandbox.close()


@pytest.fixture(scope="module")
def receiver(fetched: Fetched) -> Iterator[WebhookReceiver]:
    """The engine's webhook receiver with the Shopify account ``hcm``, over HTTP."""
    store = Store("sqlite://")
    store.migrate()
    app = WebhookReceiver({"hcm": fetched.channel}, store, max_body=4 * 1024 * 1024)
    yield app
    store.close()


@FUZZ_SETTINGS
@given(data=st.data())
def test_broken_graphql_orders_map_or_are_quarantined(
    fetched: Fetched, data: st.DataObject
) -> None:
    check_mapping(fetched.channel, "order", data.draw(mutations(fetched.orders[0])))


@FUZZ_SETTINGS
@given(data=st.data())
def test_broken_graphql_products_map_or_are_quarantined(
    fetched: Fetched, data: st.DataObject
) -> None:
    check_mapping(fetched.channel, "product", data.draw(mutations(fetched.products[0])))


@FUZZ_SETTINGS
@given(data=st.data())
def test_broken_rest_orders_of_webhooks_map_or_are_quarantined(
    fetched: Fetched, data: st.DataObject
) -> None:
    valid = json.loads(fetched.deliveries["orders/create"][0])
    check_mapping(fetched.channel, "order", data.draw(mutations(valid)))


@FUZZ_SETTINGS
@given(data=st.data())
def test_a_broken_order_never_stops_the_rest_of_its_page(
    fetched: Fetched, data: st.DataObject
) -> None:
    good = fetched.orders[0]
    page = [good, data.draw(mutations(good)), good]
    shop = make_channel(fetched.sandbox, fetched.channel.plugins)  # type: ignore[arg-type]

    async def fetch_orders(**_: Any) -> Any:
        for raw in page:
            yield raw

    shop.fetch_orders = fetch_orders  # type: ignore[method-assign]

    async def stream() -> list[Order]:
        try:
            return [mapped async for mapped in shop.stream_orders()]
        finally:
            await shop.aclose()

    mapped = asyncio.run(stream())
    stats = shop.mapping_stats.of("order")
    assert stats.mapped + stats.rejected == 3
    assert len(mapped) == stats.mapped >= 2
    assert mapped[0].channel_ref.external_id == mapped[-1].channel_ref.external_id


@FUZZ_SETTINGS
@given(data=st.data(), topic=st.sampled_from(["orders/create", "orders/cancelled"]))
def test_signed_broken_order_webhooks_are_refused_or_ignored_never_500(
    fetched: Fetched, receiver: WebhookReceiver, data: st.DataObject, topic: str
) -> None:
    valid = json.loads(fetched.deliveries["orders/create"][0])
    body = data.draw(malformed_bodies(valid))
    request = fetched.request(topic, body)
    refused = webhook_refusal(fetched.channel, request)
    assert refused is None or "hcm" in refused
    request = fetched.request(topic, body)  # a fresh delivery id
    answer = post_to_receiver(receiver, "hcm", body, request.headers)
    assert answer.status_code in (200, 400, 401), (answer.status_code, answer.text, body[:200])


@FUZZ_SETTINGS
@given(data=st.data())
def test_signed_broken_stock_webhooks_are_refused_or_ignored_never_500(
    fetched: Fetched, receiver: WebhookReceiver, data: st.DataObject
) -> None:
    valid = json.loads(fetched.deliveries["inventory_levels/update"][0])
    body = data.draw(malformed_bodies(valid))
    request = fetched.request("inventory_levels/update", body)
    answer = post_to_receiver(receiver, "hcm", body, request.headers)
    assert answer.status_code in (200, 400, 401), (answer.status_code, answer.text, body[:200])
