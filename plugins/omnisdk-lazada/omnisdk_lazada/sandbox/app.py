"""The Lazada sandbox: the platform's state and REST API, served as one ASGI app.

It behaves like a small real platform would: bearer-token auth, page-numbered products,
cursor-paged orders, batch writes with per-item results (compare-and-swap on stock), and
signed webhooks. The control API (``/_sandbox/*``) and fault injection come from
:class:`omnisdk.testing.Sandbox`.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from omnisdk.testing.sandbox import BuyerOrder, Sandbox, SandboxError
from omnisdk_lazada.sandbox.api import customers, orders, products, shop, stock, webhooks
from omnisdk_lazada.sandbox.state import LazadaState
from omnisdk_lazada.webhooks import signature

__all__ = ["LazadaSandbox", "Unauthorized"]


class Unauthorized(SandboxError):
    """No valid bearer token."""

    status = 401
    code = "unauthorized"


class LazadaSandbox(LazadaState, Sandbox):
    """The Lazada platform in memory. Credentials: :meth:`channel_settings`."""

    channel_type = "lazada"
    webhook_id_header = "X-Lazada-Delivery"

    def reset_state(self) -> None:
        """Forget everything; issue a fresh API token and webhook secret."""
        self.api_token = "tok_" + self.rng.randbytes(16).hex()
        self.webhook_secret = "whsec_" + self.rng.randbytes(16).hex()
        self.reset_data()

    # -- credentials ---------------------------------------------------------------------

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """What an ``lazada`` channel entry needs."""
        return {
            "base_url": base_url,
            "api_token": self.api_token,
            "webhook_secret": self.webhook_secret,
        }

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """The Lazada platform has no official client: the same values, raw."""
        return self.channel_settings(base_url)

    def authorise(self, request: Request) -> None:
        """Refuse (401) a request without this sandbox's bearer token."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token, self.api_token):
            raise Unauthorized("missing or invalid bearer token")

    # -- webhooks ------------------------------------------------------------------------

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """``X-Lazada-Signature``: base64 of HMAC-SHA256 of the raw body."""
        return {
            "X-Lazada-Topic": topic,
            "X-Lazada-Delivery": self.next_delivery_id(),
            "X-Lazada-Signature": signature(self.webhook_secret, body),
        }

    def webhook_subscribers(self, topic: str) -> list[str]:
        """The URLs ``POST /webhooks`` subscribed to ``topic``."""
        return [url for url, topics in self.subscriptions.items() if topic in topics]

    def order_changed(self, order_id: str, topic: str) -> None:
        """Send ``topic`` with the whole order (to its subscribers and the control API's URL)."""
        self.emit_webhook(
            topic, {"topic": topic, "created_at": self.clock.now(), "data": self.orders[order_id]}
        )

    # -- the buyer's side of the control API ---------------------------------------------

    def place_order(self, order: BuyerOrder) -> str:
        """The buyer's order: stock taken, order recorded, ``order.created`` sent."""
        order_id = self.take_order(order)
        self.order_changed(order_id, "order.created")
        return order_id

    def cancel_order(self, order_id: str) -> None:
        """Cancel the order (its stock goes back) and send ``order.cancelled``."""
        self.cancel(order_id)
        self.order_changed(order_id, "order.cancelled")

    def advance_order(self, order_id: str) -> str:
        """Move the order one status on and send ``order.updated``."""
        status = self.advance(order_id)
        self.order_changed(order_id, "order.updated")
        return status

    # -- the platform's API --------------------------------------------------------------

    def platform_routes(self) -> list[BaseRoute]:
        """The Lazada REST API: the routes of each area of ``api/``."""
        return [
            *shop.ShopApi(self).routes(),
            *products.ProductsApi(self).routes(),
            *orders.OrdersApi(self).routes(),
            *customers.CustomersApi(self).routes(),
            *stock.StockApi(self).routes(),
            *webhooks.WebhooksApi(self).routes(),
        ]
