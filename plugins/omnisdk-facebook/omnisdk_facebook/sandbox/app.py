"""The Facebook sandbox: one Meta catalog on an emulated Graph API, served as an ASGI app.

It serves what the channel and Meta's own SDK (``facebook-business``) use, under a versioned
path (``/v26.0/...``): the catalog node, ``/products`` with cursor paging and filters,
``/items_batch`` (validated at once, applied asynchronously: a batch is carried out when its
handle's status is checked) and ``/check_batch_request_status``; every call needs the token
and its ``appsecret_proof`` (Meta's error bodies otherwise); the usage headers
(``X-App-Usage``, ``X-Business-Use-Case-Usage``) on every answer, with per-minute budgets and
a throttle knob (:meth:`FacebookSandbox.throttle`); app webhook subscriptions with the
``hub.challenge`` handshake; signed Messenger deliveries (``X-Hub-Signature-256``). The order
endpoints Meta removed answer the error Meta returns for them now. Plain HTTP on loopback
(Meta's SDK reaches it with ``FacebookSession.GRAPH`` set to its base URL).

The common control API's buyer order is a **chat**: the buyer writes to the Page with the
lines in the order button's payload; the sandbox sends the Messenger delivery and takes no
stock (Meta has no checkout), so it does not refuse unlisted sales and takes no part in the
flash sale.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import (
    BuyerOrder,
    NotSupported,
    Sandbox,
    SandboxError,
    SeedProduct,
    UnknownObject,
)
from omnisdk_facebook.auth import appsecret_proof, proof_matches
from omnisdk_facebook.sandbox.api.catalog import CatalogApi
from omnisdk_facebook.sandbox.api.gateway import GraphError, Params
from omnisdk_facebook.sandbox.api.legacy import OtherEdgesApi
from omnisdk_facebook.sandbox.state.batches import Batches
from omnisdk_facebook.sandbox.state.catalog import Catalog, CatalogItem
from omnisdk_facebook.sandbox.state.chats import ChatMessage, messenger_delivery
from omnisdk_facebook.sandbox.state.usage import Usage
from omnisdk_facebook.settings import DEFAULT_API_VERSION
from omnisdk_facebook.webhooks import signature

__all__ = ["FacebookSandbox"]


class FacebookSandbox(Sandbox):
    """An emulated Meta catalog with real token and ``appsecret_proof`` checks.

    ``checks_before_done`` is how many status checks report a batch ``in_progress`` before
    the next one carries it out. Beyond the control API, tests drive Meta specifics from
    Python: :meth:`throttle`/:meth:`lift_throttles`, :meth:`report_usage`, :attr:`catalog`.
    """

    channel_type = "facebook"
    refuses_unlisted_sales: ClassVar[bool] = False
    """No checkout on Meta: a buyer writes to the Page and nothing refuses or takes stock."""

    def __init__(self, *, checks_before_done: int = 1, **options: Any) -> None:
        self.checks_before_done = checks_before_done
        super().__init__(**options)

    def reset_state(self) -> None:
        """A fresh app, token, Page and empty catalog."""
        rng = self.rng
        self.app_id = str(rng.randrange(10**14, 10**15))
        self.app_secret = rng.randbytes(16).hex()
        self.access_token = "EAAG" + rng.randbytes(24).hex()
        self.verify_token = "verify-" + rng.randbytes(8).hex()
        self.page_id = str(rng.randrange(10**14, 10**15))
        self.business_id = str(rng.randrange(10**14, 10**15))
        self.catalog = Catalog(
            str(rng.randrange(10**14, 10**15)), "Danh mục cửa hàng Hà Nội",
            first_item_id=6_543_210_000_000,
        )
        self.batches = Batches(self.checks_before_done)
        self.usage = Usage(self.business_id)
        self.subscriptions: dict[str, list[str]] = {}
        self.chats: list[ChatMessage] = []
        self.revoked = False
        self._handles = 0

    # -- credentials -----------------------------------------------------------------------

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """What a ``facebook`` channel entry needs."""
        return {
            "base_url": base_url,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "access_token": self.access_token,
            "catalog_id": self.catalog.id,
            "api_version": DEFAULT_API_VERSION,
            "verify_token": self.verify_token,
        }

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """``FacebookAdsApi.init`` arguments by their own names, the catalog, and the base
        URL to set as ``FacebookSession.GRAPH``."""
        return {
            "base_url": base_url,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "access_token": self.access_token,
            "api_version": DEFAULT_API_VERSION,
            "catalog_id": self.catalog.id,
            "page_id": self.page_id,
        }

    def secret_values(self) -> list[str]:
        """The token, the secrets and the token's proof."""
        return sorted({*super().secret_values(), appsecret_proof(self.app_secret,
                                                                   self.access_token)})

    def revoke_access(self) -> None:
        """The merchant removed the app: the token stops working (code 190)."""
        self.revoked = True

    # -- the gateway -----------------------------------------------------------------------

    def trace_id(self) -> str:
        """A fresh ``fbtrace_id``."""
        return "A" + self.rng.randbytes(8).hex()

    def authenticate(self, request: Request, params: Params) -> None:
        """Refuse a call without the token, with a wrong one or without its right proof."""
        token = params.get("access_token")
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if not token and scheme.lower() in ("bearer", "oauth"):
            token = bearer.strip()
        if not token:
            raise GraphError("An access token is required to request this resource.", code=104)
        if self.revoked or not hmac.compare_digest(token.encode(), self.access_token.encode()):
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        proof = params.get("appsecret_proof")
        if not proof:
            raise GraphError("API calls from the server require an appsecret_proof argument",
                             code=100, type="GraphMethodException")
        if not proof_matches(self.app_secret, token, proof):
            raise GraphError("Invalid appsecret_proof provided in the API argument",
                             code=100, type="GraphMethodException")

    def meter(self, use_case: str) -> None:
        """Count a call; refuse it when its use case is throttled."""
        self.usage.count(use_case, int(self.clock.now().timestamp() // 60))
        throttle = self.usage.refusal(use_case)
        if throttle is not None:
            what = "catalog batch" if throttle.use_case == "catalog_batch" else throttle.use_case
            raise GraphError(
                f"(#{throttle.code}) There have been too many calls for this {what}",
                code=throttle.code, transient=True,
            )

    def throttle(self, use_case: str = "catalog_batch", *, regain_minutes: int = 1) -> None:
        """Refuse every call of ``use_case`` (``"app"``: every call) until lifted."""
        with self.lock:
            self.usage.throttle(use_case, regain_minutes=regain_minutes)

    def report_usage(self, use_case: str, percent: int) -> None:
        """Report ``percent`` for ``use_case`` in the usage headers (without refusing)."""
        with self.lock:
            self.usage.reported[use_case] = percent

    def lift_throttles(self) -> None:
        """No budget, no forced throttle, no reported figure from now on."""
        with self.lock:
            self.usage.enforced = False
            self.usage.lift()
            self.usage.reported.clear()

    def require_catalog(self, node: str) -> None:
        """Refuse a catalog edge of another node."""
        if node != self.catalog.id:
            raise self.missing(node)

    def missing(self, node: str) -> GraphError:
        """Meta's answer for an object that does not exist (or the token may not see)."""
        return GraphError(
            f"Unsupported get request. Object with ID '{node}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation",
            code=100, subcode=33, type="GraphMethodException",
        )

    def new_handle(self) -> str:
        """A fresh batch handle."""
        self._handles += 1
        return f"Ac{self._handles:04d}" + self.rng.randbytes(10).hex()

    def error_response(self, error: SandboxError) -> Response:
        """Every refusal in Meta's shape (control-API errors keep the common shape)."""
        if isinstance(error, GraphError):
            return json_response(error.body(), error.status, headers=error.headers)
        return json_response(error.body(), error.status)

    def fault_body(self, status: int) -> dict[str, Any]:
        """An injected failure as Meta words it (429: app limit; 5xx: service unavailable)."""
        if status == 429:
            return {"error": {"message": "(#4) Application request limit reached", "code": 4,
                              "type": "OAuthException", "is_transient": True,
                              "fbtrace_id": "AInjected429"}}
        return {"error": {"message": "Service temporarily unavailable", "code": 2,
                          "type": "OAuthException", "is_transient": True,
                          "fbtrace_id": f"AInjected{status}"}}

    def platform_routes(self) -> list[BaseRoute]:
        """The Graph API: catalog paths first, then the other edges."""
        return [*CatalogApi(self).routes(), *OtherEdgesApi(self).routes()]

    # -- webhooks --------------------------------------------------------------------------

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """``X-Hub-Signature-256`` (and the legacy SHA-1 ``X-Hub-Signature``)."""
        sha1 = hmac.new(self.app_secret.encode(), body, hashlib.sha1).hexdigest()
        return {"X-Hub-Signature-256": signature(self.app_secret, body),
                "X-Hub-Signature": f"sha1={sha1}"}

    def webhook_subscribers(self, topic: str) -> list[str]:
        """Callback URLs subscribed (after the handshake) to ``topic``."""
        return [url for url, fields in self.subscriptions.items() if topic in fields]

    # -- the catalog -----------------------------------------------------------------------

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Items (entries sharing ``product`` are variants of one group, titled by it)."""
        created = []
        groups: dict[str, str] = {}
        now = self.clock.now()
        for seed in products:
            if seed.sku in self.catalog.items:
                raise SandboxError(f"SKU {seed.sku!r} already exists", sku=seed.sku)
            group = None
            if seed.product:
                group = groups.setdefault(seed.product, seed.sku)
            item = CatalogItem(
                id=self.catalog.new_item_id(), retailer_id=seed.sku,
                name=seed.product or seed.title, description=seed.title,
                price=seed.price, currency=seed.currency, updated_at=now,
                availability="in stock" if seed.stock > 0 else "out of stock",
                quantity=seed.stock, group=group, attributes=dict(seed.options),
                url=f"https://shop.example.vn/p/{seed.sku}",
                image_url=f"https://shop.example.vn/i/{seed.sku}.jpg",
            )
            self.catalog.items[seed.sku] = item
            created.append({"sku": seed.sku, "id": item.id, "retailer_product_group_id": group})
        return created

    def listings(self) -> list[dict[str, Any]]:
        """Every item's stock and price."""
        return [
            {"sku": item.retailer_id, "stock": item.quantity, "price": str(item.price),
             "currency": item.currency, "availability": item.availability}
            for item in self.catalog.items.values()
        ]

    # -- the buyer's side: a chat ----------------------------------------------------------------

    def place_order(self, order: BuyerOrder) -> str:
        """The buyer writes to the Page with the order button; the message's ``mid``.

        An unknown SKU is refused (the button only offers catalog items); nothing else is,
        and no stock moves: Meta has no checkout.
        """
        lines = []
        for line in order.lines:
            if line.sku not in self.catalog.items:
                raise UnknownObject("SKU", line.sku)
            lines.append({"retailer_id": line.sku, "quantity": line.quantity})
        customer = order.customer or {}
        text = "Cho mình đặt " + ", ".join(
            f"{line.quantity} x {self.catalog.items[line.sku].name}" for line in order.lines
        )
        payload = {"order": lines, "name": customer.get("name"), "phone": customer.get("phone")}
        return self._chat(text, payload)

    def _chat(self, text: str, payload: dict[str, Any]) -> str:
        message = ChatMessage(
            mid="m_" + self.rng.randbytes(12).hex(), sender_id=str(self.rng.randrange(10**15)),
            sent_at=self.clock.now(), text=text, payload=payload,
        )
        self.chats.append(message)
        self.emit_webhook("messages", messenger_delivery(self.page_id, message))
        return message.mid

    def cancel_order(self, order_id: str) -> None:
        """The buyer writes that they no longer want it (a message; no stock moves)."""
        if not any(chat.mid == order_id for chat in self.chats):
            raise UnknownObject("message", order_id)
        self._chat("Mình huỷ đơn nhé", {"cancel": order_id})

    def advance_order(self, order_id: str) -> str:
        """Meta holds no orders: there is nothing to move on (501)."""
        raise NotSupported("Meta holds no orders: chat orders live in the merchant's app")

    def orders_state(self) -> list[dict[str, Any]]:
        """The buyers' messages (Meta holds no orders)."""
        return [chat.as_json() for chat in self.chats]
