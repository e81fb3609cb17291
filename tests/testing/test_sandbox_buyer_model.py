"""buyer_order_model: a sandbox accepts its platform's own buyer-order fields, and only those."""

from __future__ import annotations

from typing import ClassVar

import httpx
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.testing import BuyerOrder, SeedProduct


class GiftOrder(BuyerOrder):
    """A buyer's order with a gift message, as some platform might take."""

    gift_message: str | None = None


class GiftSandbox(ExampleSandbox):
    """Remembers the gift message of each order placed."""

    buyer_order_model: ClassVar[type[BuyerOrder]] = GiftOrder
    messages: ClassVar[list[str | None]] = []

    def place_order(self, order: BuyerOrder) -> str:
        assert isinstance(order, GiftOrder)
        self.messages.append(order.gift_message)
        return super().place_order(order)


async def _post_order(sandbox: ExampleSandbox, body: dict[str, object]) -> httpx.Response:
    with sandbox.lock:
        sandbox.seed_products(
            [SeedProduct(sku="NON-LA", title="Nón lá", price=85_000, currency="VND", stock=5)]
        )
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        return await http.post("/_sandbox/buyer/orders", json=body)


async def test_the_platforms_buyer_order_fields_are_validated_and_passed_on() -> None:
    body = {"lines": [{"sku": "NON-LA", "quantity": 1}], "gift_message": "Chúc mừng sinh nhật"}
    with GiftSandbox() as sandbox:
        answer = await _post_order(sandbox, body)
    assert answer.status_code == 201
    assert GiftSandbox.messages == ["Chúc mừng sinh nhật"]


async def test_the_common_model_refuses_fields_it_does_not_know() -> None:
    body = {"lines": [{"sku": "NON-LA", "quantity": 1}], "gift_message": "Chúc mừng"}
    with ExampleSandbox() as sandbox:
        answer = await _post_order(sandbox, body)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid"
