"""The Lazada sandbox: one seller on an emulated Lazada Open Platform, served as an ASGI app.

It emulates the paths the plugin uses (token create/refresh, seller, products, price and
quantity, sellable stock, orders and their items) under ``/rest``, with the gateway's
behaviour (every parameter signed, timestamp window, token lifetimes on the sandbox clock,
Lazada's ``code != "0"`` error bodies, an optional call limit answering ``ApiCallLimit``),
signed pushes (``Authorization`` = HMAC(app secret, app key + body)) and the common
``/_sandbox`` control API of every omnisdk sandbox.

Beyond the control API, tests drive Lazada specifics from Python: :meth:`place_order_at`,
:meth:`cancel_items` and :meth:`return_items` (one unit at a time), :meth:`authorise`,
:meth:`expire_access_tokens`, :meth:`expire_refresh_tokens`, :meth:`revoke_authorisation`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from starlette.responses import Response
from starlette.routing import BaseRoute

from omnisdk.models import minor_units
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import (
    BuyerOrder,
    NotRefundable,
    RefundRequest,
    Sandbox,
    SandboxError,
    SeedOrder,
    SeedProduct,
    UnknownObject,
)
from omnisdk.testing.throttle import LeakyBucket
from omnisdk_lazada.client import Signer
from omnisdk_lazada.mapping import SITE_TIMEZONES
from omnisdk_lazada.sandbox.api.auth import AuthApi
from omnisdk_lazada.sandbox.api.gateway import (
    PREFIX,
    Call,
    GatewayPolicy,
    LazadaApiError,
    lazada_json,
    verify_call,
)
from omnisdk_lazada.sandbox.api.orders import OrdersApi
from omnisdk_lazada.sandbox.api.products import ProductsApi
from omnisdk_lazada.sandbox.state.catalog import Catalog
from omnisdk_lazada.sandbox.state.grants import ACCESS_TTL, REFRESH_TTL, Grants, TokenRefused
from omnisdk_lazada.sandbox.state.order_flow import DEFAULT_CUSTOMER, OrderFlow
from omnisdk_lazada.sandbox.state.orders import OrderItem, SandboxOrder
from omnisdk_lazada.settings import SITE_CURRENCIES
from omnisdk_lazada.webhooks import PUSH_TOPICS

__all__ = ["DEFAULT_CUSTOMER", "LazadaSandbox"]


class LazadaSandbox(Sandbox):
    """An emulated Lazada seller with real signature verification.

    ``app_key``/``app_secret`` are the app credentials it accepts, ``seller_id`` the seller,
    ``site`` its site (``VN``: VND, whole numbers only). ``timestamp_window`` is how far (s) a
    signed timestamp may be from the sandbox clock; ``error_statuses`` sets the HTTP status of
    error bodies per code (default 200); ``rate_limit`` (calls per second) makes it answer
    ``ApiCallLimit`` beyond that; ``access_ttl``/``refresh_ttl`` are token lives;
    ``product_offset_ceiling``/``order_offset_ceiling`` the largest ``offset`` accepted.
    """

    channel_type: ClassVar[str] = "lazada"

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        seed: int = 0,
        webhook_transport: httpx.BaseTransport | None = None,
        app_key: str = "112233",
        app_secret: str | None = None,
        seller_id: str = "200123456",
        site: str = "VN",
        currency: str | None = None,
        shop_name: str = "Lazada Sandbox Cửa hàng Hà Nội",
        timestamp_window: int = 7200,
        error_statuses: dict[str, int] | None = None,
        rate_limit: int | None = None,
        access_ttl: float = ACCESS_TTL,
        refresh_ttl: float = REFRESH_TTL,
        product_offset_ceiling: int = 10_000,
        order_offset_ceiling: int = 5_000,
    ) -> None:
        self.app_key = app_key
        default_secret = f"lzd_sandbox_{seed:04d}_{random.Random(seed).getrandbits(96):024x}"
        self.app_secret = app_secret or default_secret
        self.signer = Signer(app_key, self.app_secret)
        self.seller_id = seller_id
        self.site = site.upper()
        self.zone = ZoneInfo(SITE_TIMEZONES.get(self.site, "Asia/Ho_Chi_Minh"))
        """The seller's local time, in which special-price dates are written and shown."""
        self.currency = (currency or SITE_CURRENCIES.get(self.site, "VND")).upper()
        self.shop_name = shop_name
        self.short_code = f"{self.site}{seller_id[-5:]}"
        self.account_email = f"seller{seller_id[-4:]}@example.vn"
        self.policy = GatewayPolicy(timestamp_window=timestamp_window)
        if error_statuses:
            self.policy.statuses.update(error_statuses)
        self.rate_limit = rate_limit
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.product_offset_ceiling = product_offset_ceiling
        self.order_offset_ceiling = order_offset_ceiling
        super().__init__(clock=clock, seed=seed, webhook_transport=webhook_transport)

    # -- state ---------------------------------------------------------------------------

    def reset_state(self) -> None:
        """An empty seller with one valid token pair (the one :meth:`channel_settings` gives)."""
        self.catalog = Catalog()
        self.flow = OrderFlow(self.catalog)
        self.grants = Grants(
            rng=random.Random(f"{self.seed}:grants"),
            app_key=self.app_key,
            access_ttl=self.access_ttl,
            refresh_ttl=self.refresh_ttl,
        )
        self._ids = random.Random(f"{self.seed}:ids")
        access, refresh = self.grants.issue_pair(self.seller_id, self.clock.time())
        self.initial_access = access
        self.initial_refresh = refresh
        self._calls = (
            LeakyBucket(capacity=self.rate_limit, leak_rate=self.rate_limit, clock=self.clock.time)
            if self.rate_limit
            else None
        )

    def request_id(self) -> str:
        """A fresh request id, as Lazada sends with every answer."""
        return f"21{self._ids.getrandbits(84):021d}"[:25]

    # -- the gateway ---------------------------------------------------------------------

    def verify(self, api_path: str, params: dict[str, str]) -> Call:
        """Run the gateway checks (with the lock held by the caller)."""
        now = self.clock.time()

        def check_token(access_token: str) -> str:
            try:
                return self.grants.check_access(access_token, now)
            except TokenRefused as refused:
                raise self.policy.error(refused.code, refused.message) from None

        call = verify_call(
            api_path,
            params,
            signer=self.signer,
            now=now,
            policy=self.policy,
            check_token=check_token,
        )
        if self._calls is not None and not self._calls.try_fill():
            raise self.policy.error(
                "ApiCallLimit",
                "Api access frequency exceeds the limit. this ban will last 1 seconds",
            )
        return call

    def error_response(self, error: SandboxError) -> Response:
        """Lazada's error body for platform errors; the common shape for control errors."""
        if isinstance(error, LazadaApiError):
            with self.lock:
                body: dict[str, Any] = {
                    "code": error.code,
                    "type": error.kind,
                    "message": error.message,
                    "request_id": self.request_id(),
                }
            if error.detail is not None:
                body["detail"] = error.detail
            return json_response(body, error.status, encode=lazada_json)
        return super().error_response(error)

    def fault_body(self, status: int) -> dict[str, Any]:
        """Injected faults in Lazada's shape."""
        with self.lock:
            request_id = self.request_id()
        if status == 429:
            return {
                "code": "ApiCallLimit",
                "type": "ISV",
                "message": "Api access frequency exceeds the limit. this ban will last 1 seconds",
                "request_id": request_id,
            }
        if status >= 500:
            return {
                "code": "ServiceTimeout",
                "type": "SYSTEM",
                "message": "The request has failed due to a temporary failure of the server.",
                "request_id": request_id,
            }
        return {
            "code": "InvalidParameter",
            "type": "ISV",
            "message": f"Invalid parameter (injected fault {status})",
            "request_id": request_id,
        }

    def platform_routes(self) -> list[BaseRoute]:
        """Lazada's paths the plugin uses, under ``/rest``."""
        return [*AuthApi(self).routes(), *ProductsApi(self).routes(), *OrdersApi(self).routes()]

    # -- credentials ---------------------------------------------------------------------

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """Settings for a LazadaChannel: app credentials, seller and the initial token pair."""
        rest = base_url.rstrip("/") + PREFIX
        return {
            "base_url": rest,
            "auth_url": rest,
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "site": self.site,
            "currency": self.currency,
            "seller_id": self.seller_id,
            "access_token": self.initial_access.value,
            "refresh_token": self.initial_refresh.value,
            "token_expires_at": datetime.fromtimestamp(
                self.initial_access.expires, UTC
            ).isoformat(),
            "refresh_expires_at": datetime.fromtimestamp(
                self.initial_refresh.expires, UTC
            ).isoformat(),
        }

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """What Lazada's SDK takes: ``LazopClient(server_url, app_key, app_secret)`` and
        ``execute(request, access_token)``; the token host is the same server here."""
        rest = base_url.rstrip("/") + PREFIX
        return {
            "server_url": rest,
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "access_token": self.initial_access.value,
            "refresh_token": self.initial_refresh.value,
            "auth_server_url": rest,
        }

    def secret_values(self) -> list[str]:
        """Every secret accepted or issued: the app secret and every code or token."""
        with self.lock:
            return sorted({self.app_secret, *self.grants.secrets()})

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """Lazada's push header: ``Authorization`` = HMAC(app secret, app key + body)."""
        return {"Authorization": self.signer.push_signature(body)}

    # -- Lazada specifics for tests ------------------------------------------------------

    def authorise(self) -> str:
        """A fresh authorisation code, as the redirect after the seller's approval carries."""
        with self.lock:
            return self.grants.issue_code(self.seller_id, self.clock.time())

    def expire_access_tokens(self) -> None:
        """End every access token now (refresh tokens keep working)."""
        with self.lock:
            self.grants.expire_access_tokens(self.clock.time())

    def expire_tokens(self) -> int:
        """The control API's token expiry: every live access token ends now (refresh works)."""
        with self.lock:
            now = self.clock.time()
            live = sum(1 for grant in self.grants.access.values() if grant.expires > now)
            self.grants.expire_access_tokens(now)
            return live

    def expire_refresh_tokens(self) -> None:
        """End every refresh token now: the seller must authorise again."""
        with self.lock:
            self.grants.expire_refresh_tokens(self.clock.time())

    def revoke_authorisation(self) -> None:
        """The seller withdrew the app: every token stops working."""
        with self.lock:
            self.grants.revoke(self.seller_id)

    def revoke_access(self) -> None:
        """``POST /_sandbox/revoke``: :meth:`revoke_authorisation`."""
        self.revoke_authorisation()

    def authorise_again(self) -> None:
        """The seller approves the app again and the code is exchanged for a new pair, which
        :meth:`channel_settings` gives from now on (the old tokens stay as they were)."""
        with self.lock:
            now = self.clock.time()
            code = self.grants.issue_code(self.seller_id, now)
            self.initial_access, self.initial_refresh = self.grants.exchange(code, now)

    def lift_throttles(self) -> None:
        """Stop answering ``ApiCallLimit`` (the ``rate_limit`` is lifted from now on)."""
        with self.lock:
            self.rate_limit = None
            self._calls = None

    def push(self, message_type: int, data: dict[str, Any]) -> None:
        """Deliver push ``message_type`` with ``data``, signed, to the webhook URL."""
        with self.lock:
            envelope = {
                "seller_id": self.seller_id,
                "message_type": message_type,
                "data": data,
                "timestamp": int(self.clock.time() * 1000),
                "site": f"lazada_{self.site.lower()}",
            }
            self.emit_webhook(
                PUSH_TOPICS.get(message_type, f"push_{message_type}"), lazada_json(envelope)
            )

    def _item_push(self, order: SandboxOrder, item: OrderItem) -> None:
        self.push(
            0,
            {
                "order_status": item.status,
                "trade_order_id": str(order.order_id),
                "trade_order_line_id": str(item.order_item_id),
                "status_update_time": int(item.updated),
            },
        )

    # -- catalog -------------------------------------------------------------------------

    def _check_price(self, price: Decimal, currency: str, sku: str) -> None:
        if currency != self.currency:
            raise SandboxError(f"{sku}: this seller sells in {self.currency}, not {currency}")
        if price <= 0 or price != price.quantize(Decimal(1).scaleb(-minor_units(currency))):
            raise SandboxError(f"{sku}: {price} is not a valid {currency} price")

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """List seeds the Lazada way: seeds sharing a ``product`` title are SKUs of one item."""
        if products and not self.catalog.items and not self.flow.orders:
            self.currency = products[0].currency  # an empty seller takes the seed's currency
        groups: dict[str, list[SeedProduct]] = {}
        singles: list[tuple[str, list[SeedProduct]]] = []
        seen: set[str] = set()
        for seed in products:
            self._check_price(seed.price, seed.currency, seed.sku)
            if self.catalog.find(seed.sku) is not None or seed.sku in seen:
                raise SandboxError(f"SKU {seed.sku!r} is already listed", sku=seed.sku)
            seen.add(seed.sku)
            if seed.product:
                groups.setdefault(seed.product, []).append(seed)
            else:
                singles.append((seed.title, [seed]))
        return self.catalog.seed([*singles, *groups.items()], now=self.clock.time())

    def listings(self) -> list[dict[str, Any]]:
        """Every SKU with its sellable stock (and Lazada's total/withhold/occupy) and price."""
        return self.catalog.listings()

    # -- orders --------------------------------------------------------------------------

    def place_order(self, order: BuyerOrder) -> str:
        """A buyer orders now (see :meth:`place_order_at`)."""
        return self.place_order_at(order, self.clock.now())

    def place_order_at(self, order: BuyerOrder, when: datetime, *, push: bool = True) -> str:
        """A buyer's order created at ``when`` (back-dated orders fill a backfill test)."""
        if when.tzinfo is None:
            raise ValueError("place_order_at needs an aware datetime (UTC offset included)")
        with self.lock:
            placed = self.flow.check_out(order, when=when, currency=self.currency)
            if push:
                for item in placed.items:
                    self._item_push(placed, item)
            return str(placed.order_id)

    def seed_orders(self, orders: list[SeedOrder]) -> list[str]:
        """Record the seller's order history at once (``POST /_sandbox/seed/orders``): each
        unit ``pending`` since its ``created_at``; no stock moves, no push; linear in the
        orders. An unknown SKU records nothing."""
        for order in orders:
            for line in order.lines:
                self.catalog.locate(line.sku)
        now = self.clock.now()
        return [
            str(self.flow.record(order, now=now, currency=self.currency).order_id)
            for order in orders
        ]

    def cancel_order(self, order_id: str) -> None:
        """The buyer cancels every unit still cancellable: their stock is sellable again."""
        order = self.flow.get(order_id)
        for item in self.flow.cancel(order, self.clock.time()):
            self._item_push(order, item)

    def cancel_items(self, order_id: str, order_item_ids: list[int]) -> None:
        """The buyer cancels some units of an order."""
        with self.lock:
            order = self.flow.get(order_id)
            for item in self.flow.cancel(order, self.clock.time(), item_ids=order_item_ids):
                self._item_push(order, item)

    def return_items(self, order_id: str, order_item_ids: list[int]) -> None:
        """Some shipped units came back (``returned``)."""
        with self.lock:
            order = self.flow.get(order_id)
            for item in self.flow.return_items(order, order_item_ids, self.clock.time()):
                self._item_push(order, item)

    def refund_order(self, order_id: str, refund: RefundRequest) -> Decimal:
        """The buyer sends units back and Lazada refunds them: that many shipped or delivered
        units of each SKU become ``returned`` (one push each); what they cost is paid back.
        409 while not enough units of a SKU have shipped."""
        order = self.flow.get(order_id)
        chosen: list[int] = []
        for line in refund.lines:
            units = [item for item in order.items if item.seller_sku == line.sku]
            if not units:
                raise UnknownObject("SKU on the order", line.sku)
            back = [
                item
                for item in units
                if item.status in ("shipped", "delivered")
                and item.order_item_id not in chosen
            ][: line.quantity]
            if len(back) < line.quantity:
                raise NotRefundable(
                    f"order {order_id}: {len(back)} unit(s) of {line.sku!r} shipped and not "
                    f"returned, {line.quantity} asked for",
                    statuses=order.statuses,
                )
            chosen += [item.order_item_id for item in back]
        for item in self.flow.return_items(order, chosen, self.clock.time()):
            item.reason = "Sản phẩm không đúng mô tả"
            self._item_push(order, item)
        paid = {item.order_item_id: item.price for item in order.items}
        return sum((paid[item_id] for item_id in chosen), Decimal(0))

    def advance_order(self, order_id: str) -> str:
        """Every live unit one step on; returns the order's statuses (comma-joined)."""
        order = self.flow.get(order_id)
        for item in self.flow.advance(order, self.clock.time()):
            self._item_push(order, item)
        return ",".join(order.statuses)

    def orders_state(self) -> list[dict[str, Any]]:
        """Every order, oldest first, as the sandbox sees it (buyer data unmasked)."""
        return [
            order.state()
            for order in sorted(self.flow.orders.values(), key=lambda o: (o.created, o.order_id))
        ]
