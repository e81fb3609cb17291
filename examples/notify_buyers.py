"""Text each buyer once per order event, however many times the order reaches the engine.

Run it: ``python examples/notify_buyers.py``. It opens an engine on a throw-away SQLite store,
registers an ``omnisdk_notify_customer`` hook that "texts" the buyer (prints the message), then
records one chat order three times (as a webhook, its redelivery and a poll would bring it)
and once more when it ships. Two messages are printed, not four.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from omnisdk import Customer, Order, Plugins, hookimpl
from omnisdk.config import Config, StoreConfig
from omnisdk.sync import Engine

MESSAGES = {
    "order_confirmed": "Cảm ơn {name}! Đơn {number} đã được xác nhận.",
    "order_shipped": "Đơn {number} đang trên đường giao tới {name}.",
}


class Texter:
    """The app's SMS sender (here: print). ``key`` would be the provider's idempotency key."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    @hookimpl
    def omnisdk_notify_customer(
        self, customer: Customer, customer_id: str, order: Order, event: str, key: str
    ) -> None:
        template = MESSAGES.get(event)
        phone = next((p.e164 for p in customer.phones if p.e164 and not p.masked), None)
        if template is None or phone is None:
            return
        text = template.format(name=customer.display_name, number=order.number)
        self.sent.append(f"SMS to {phone}: {text}")
        print(self.sent[-1], f"(key {key})")


def dong(amount: int) -> dict[str, object]:
    """An amount in Vietnamese đồng, as Money's JSON."""
    return {"amount": str(amount), "currency": "VND"}


def chat_order(status: str, minute: int) -> dict[str, object]:
    """One chat order of two conical hats, as the shop's chat tool records it."""
    return {
        "channel_ref": {"channel": "chat", "account": "zalo-shop", "external_id": "Z-1001"},
        "number": "Z-1001",
        "status": status,
        "currency": "VND",
        "lines": [{"sku": "NÓN-LÁ-HUẾ", "quantity": 2, "unit_price": dong(85000)}],
        "subtotal": dong(170000),
        "total": dong(170000),
        "customer": {"full_name": "Trần Thị Bình", "phones": ["0912 345 678"]},
        "created_at": "2026-12-04T09:00:00+07:00",
        "updated_at": f"2026-12-04T09:{minute:02d}:00+07:00",
    }


async def main(folder: Path) -> list[str]:
    """Run the example in ``folder``; returns the messages sent."""
    plugins = Plugins(entry_points=False)
    texter = Texter()
    plugins.register(texter, name="texter")
    config = Config(store=StoreConfig(url=f"sqlite:///{folder / 'omnisdk.db'}"))
    async with Engine(config, plugins=plugins) as engine:
        for _ in range(3):  # the webhook, its redelivery, the poll
            await engine.record_order(chat_order("confirmed", 1))
        await engine.record_order(chat_order("shipped", 30))
        await engine.record_order(chat_order("shipped", 30))
    return texter.sent


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(main(Path(directory)))
