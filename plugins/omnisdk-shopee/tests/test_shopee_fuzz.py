"""Fuzzing (hypothesis): broken Shopee records and pushes never crash, never answer 500.

The valid records are the ones the channel really fetches from the sandbox (an item with two
colours, an order with a Vietnamese buyer); :mod:`omnisdk.testing.fuzz` breaks them. Every
broken record maps or is a :class:`MappingError` (quarantined, the rest of the batch goes on);
every signed push body is accepted, ignored or refused with a 4xx.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from omnisdk_shopee import ShopeeChannel
from omnisdk_shopee.sandbox import ShopeeSandbox
from shopee_testkit import channel, frozen_sandbox, order, seed

from omnisdk import Order
from omnisdk.channel import WebhookRequest
from omnisdk.errors import MappingError, WebhookVerificationError
from omnisdk.store import Store
from omnisdk.testing.fuzz import (
    FUZZ_SETTINGS,
    check_mapping,
    malformed_bodies,
    mutations,
    post_to_receiver,
    webhook_refusal,
)
from omnisdk.webhooks import WebhookReceiver

CALLBACK = "https://shop.example.vn/webhooks/hcm"


class Fetched:
    """A sandbox, a channel on it and what the channel fetched (the valid records)."""

    def __init__(self) -> None:
        self.sandbox: ShopeeSandbox = frozen_sandbox()
        seed(self.sandbox)
        self.order_sn = order(
            self.sandbox,
            {"AO-DAI-DO": 1, "NON-LA-HUE": 2},
            customer={"name": "Nguyễn Thị Hoà", "phone": "+84903123456"},
        )
        self.channel: ShopeeChannel = channel(self.sandbox, push_callback_url=CALLBACK)
        self.orders, self.products = asyncio.run(self._fetch())

    async def _fetch(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        orders = [raw async for raw in self.channel.fetch_orders()]
        products = [raw async for raw in self.channel.fetch_products()]
        assert orders and products
        return orders, products

    def push(self, body: bytes) -> WebhookRequest:
        """``body`` signed as Shopee signs a push to :data:`CALLBACK`."""
        signature = self.channel.signer.push_signature(CALLBACK, body)
        return WebhookRequest(
            body=body,
            headers={"authorization": signature, "content-type": "application/json"},
            url=CALLBACK,
        )


@pytest.fixture(scope="module")
def fetched() -> Iterator[Fetched]:
    """Fetched once for the module (hypothesis runs each test many times)."""
    made = Fetched()
    yield made
    made.sandbox.close()


@pytest.fixture(scope="module")
def receiver(fetched: Fetched) -> Iterator[WebhookReceiver]:
    """The engine's webhook receiver with the Shopee account ``hcm``, over HTTP."""
    store = Store("sqlite://")
    store.migrate()
    app = WebhookReceiver({"hcm": fetched.channel}, store, max_body=4 * 1024 * 1024)
    yield app
    store.close()


SHOP_ID = ShopeeSandbox().shop_id


def order_push(update_time: Any, **data: Any) -> bytes:
    """A push code 3 (order status) for order ``220315ABC`` of the sandbox's shop."""
    return json.dumps(
        {
            "data": {"ordersn": "220315ABC", "status": "READY_TO_SHIP", "update_time": update_time}
            | data,
            "shop_id": SHOP_ID,
            "code": 3,
            "timestamp": 1741996900,
        }
    ).encode()


@FUZZ_SETTINGS
@given(data=st.data())
def test_broken_orders_map_or_are_quarantined(fetched: Fetched, data: st.DataObject) -> None:
    raw = data.draw(mutations(fetched.orders[0]))
    check_mapping(fetched.channel, "order", raw)


@FUZZ_SETTINGS
@given(data=st.data())
def test_broken_items_map_or_are_quarantined(fetched: Fetched, data: st.DataObject) -> None:
    raw = data.draw(mutations(fetched.products[0]))
    check_mapping(fetched.channel, "product", raw)


@FUZZ_SETTINGS
@given(data=st.data())
def test_a_broken_order_never_stops_the_rest_of_its_page(
    fetched: Fetched, data: st.DataObject
) -> None:
    good = fetched.orders[0]
    broken = data.draw(mutations(good))
    page = [good, broken, good]
    shop = channel(fetched.sandbox)

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
    assert len(mapped) == stats.mapped >= 2  # the two good ones at least
    assert [o.channel_ref.external_id for o in (mapped[0], mapped[-1])] == [fetched.order_sn] * 2


@FUZZ_SETTINGS
@given(data=st.data())
def test_signed_broken_pushes_are_refused_or_ignored_never_500(
    fetched: Fetched, receiver: WebhookReceiver, data: st.DataObject
) -> None:
    valid = json.loads(order_push(1741996900))
    body = data.draw(malformed_bodies(valid))
    refused = webhook_refusal(fetched.channel, fetched.push(body))
    assert refused is None or "hcm" in refused
    request = fetched.push(body)
    answer = post_to_receiver(receiver, "hcm", body, request.headers)
    assert answer.status_code in (200, 400, 401), (answer.status_code, answer.text, body[:200])


@pytest.mark.parametrize("update_time", [10**17, -(10**17), 10**30, "soon"])
def test_a_signed_push_with_an_impossible_update_time_is_a_400(
    fetched: Fetched, receiver: WebhookReceiver, update_time: Any
) -> None:
    body = order_push(update_time)
    with pytest.raises(WebhookVerificationError, match="could not be read"):
        fetched.channel.receive_webhook(fetched.push(body))
    answer = post_to_receiver(receiver, "hcm", body, fetched.push(body).headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_body"


def test_the_same_push_with_a_real_update_time_is_accepted(
    fetched: Fetched, receiver: WebhookReceiver
) -> None:
    body = order_push(1741996900)
    events = fetched.channel.receive_webhook(fetched.push(body))
    assert [e.kind.value for e in events]
    answer = post_to_receiver(receiver, "hcm", body, fetched.push(body).headers)
    assert answer.status_code == 200, answer.text


def test_a_mapping_error_names_the_account_and_the_order(fetched: Fetched) -> None:
    raw = dict(fetched.orders[0], item_list=[{"model_quantity_purchased": -(10**30)}])
    error = check_mapping(fetched.channel, "order", raw)
    assert isinstance(error, MappingError)
    assert fetched.order_sn in str(error)
