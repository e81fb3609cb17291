"""Chat orders end to end: a buyer's Messenger message becomes an order in the one book.

Runs against the Facebook sandbox on loopback (``pip install 'omnisdk-facebook[sandbox]'``)::

    python plugins/omnisdk-facebook/examples/chat_orders.py

1. An engine (SQLite in a temporary directory) lists a catalog item on the Facebook account.
2. The app's webhook endpoint subscribes through Graph: Meta's ``hub.challenge`` handshake
   first (answered with :meth:`FacebookChannel.answer_subscription`).
3. A buyer taps the merchant's order button in Messenger; the signed delivery reaches the
   endpoint, which refuses anything whose ``X-Hub-Signature-256`` does not match.
4. The app reads the order from the message, checks what the channel may sell, records the
   order with ``Engine.record_order`` and the engine pushes the lower figure to the catalog.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path

import httpx
from omnisdk_facebook import ChatLine, FacebookChannel, chat_order
from omnisdk_facebook.sandbox import FacebookSandbox
from omnisdk_facebook.webhooks import messages
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from omnisdk import Money, WebhookRequest
from omnisdk.config import ChannelConfig, Config, EngineConfig, StoreConfig
from omnisdk.errors import WebhookVerificationError
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.server import LoopbackServer

ACCOUNT = "fb-page"
SKU = "ÁO-DÀI-ĐỎ-M"
PRICE = Money.of(450000, "VND")


class ChatInbox:
    """The app's webhook endpoint: the handshake, then verified deliveries kept in order."""

    def __init__(self, channel: FacebookChannel) -> None:
        self.channel = channel
        self.deliveries: list[bytes] = []
        self.arrived = threading.Event()
        self.app = Starlette(routes=[Route("/meta", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        """GET: the subscription handshake; POST: a signed delivery."""
        if request.method == "GET":
            try:
                return PlainTextResponse(self.channel.answer_subscription(request.query_params))
            except WebhookVerificationError:
                return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        try:
            self.channel.verify_webhook(WebhookRequest(body=body, headers=request.headers))
        except WebhookVerificationError:
            return PlainTextResponse("bad signature", status_code=403)
        self.deliveries.append(body)
        self.arrived.set()
        return PlainTextResponse("ok")


async def main() -> list[str]:
    """Run the story; returns the lines it printed."""
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        print(line)

    sandbox = FacebookSandbox(seed=8)
    with tempfile.TemporaryDirectory() as directory, LoopbackServer(sandbox.app) as graph:
        settings = sandbox.channel_settings(graph.base_url)
        url = f"sqlite:///{Path(directory) / 'omnisdk.db'}"
        config = Config(
            store=StoreConfig(url=url),
            engine=EngineConfig(allocation="quota"),
            channels=[ChannelConfig(name=ACCOUNT, type="facebook", settings=settings)],
        )
        store = Store(url)
        store.migrate()
        async with SandboxControl(graph.base_url) as control:
            await control.seed([{"sku": SKU, "title": "Áo dài lụa đỏ cỡ M",
                                 "price": "450000", "stock": 0}])
        async with Engine(config, plugins=Plugins(), store=store) as engine:
            await engine.add_listing(ACCOUNT, SKU)
            await engine.set_stock(SKU, 5)
            await engine.push()
            say(f"1. the catalog lists {sandbox.listing(SKU)['stock']} of {SKU}")

            channel = engine.channels[ACCOUNT]
            assert isinstance(channel, FacebookChannel)
            inbox = ChatInbox(channel)
            with LoopbackServer(inbox.app) as endpoint:
                await channel.graph.post(sandbox.app_id, "subscriptions", {
                    "object": "page", "callback_url": endpoint.url("/meta"),
                    "fields": "messages", "verify_token": settings["verify_token"],
                })
                say("2. subscribed: the endpoint answered Meta's hub.challenge")

                async with SandboxControl(graph.base_url) as control:
                    await control.place_order([(SKU, 2)], customer={
                        "name": "Nguyễn Thị Hoa", "phone": "0912 345 678"})
                    await control.drain_webhooks(10)
                await asyncio.to_thread(inbox.arrived.wait, 10)
                say(f"3. {len(inbox.deliveries)} signed delivery verified")

            for body in inbox.deliveries:
                for message in messages(body):
                    lines = message.order_lines()
                    if not lines:
                        continue
                    for sku, quantity in lines:
                        may_sell = await engine.sellable(ACCOUNT, sku)
                        if quantity > may_sell:
                            say(f"   {sku}: only {may_sell} may be sold, asking the buyer")
                            break
                    else:
                        order = chat_order(
                            account=ACCOUNT, conversation=message.mid, surface="messenger",
                            lines=[ChatLine(sku, quantity, PRICE) for sku, quantity in lines],
                            placed_at=message.sent_at, buyer="Nguyễn Thị Hoa",
                            phone="0912 345 678",
                        )
                        await engine.record_order(order)
                        say(f"4. recorded {order.channel_ref.external_id}: {order.total}")
            await engine.push()
            view = await engine.stock_view(SKU)
            reserved = sum(location.reserved for location in view.locations)
            say(f"5. {reserved} reserved; the catalog now lists {sandbox.listing(SKU)['stock']}")
    sandbox.close()
    return said


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except httpx.HTTPError as exc:  # pragma: no cover - loopback only
        raise SystemExit(f"the sandbox could not be reached: {exc}") from None
