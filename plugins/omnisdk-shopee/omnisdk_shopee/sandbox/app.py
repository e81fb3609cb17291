"""The Shopee sandbox: one shop on an emulated Open Platform v2, served as an ASGI app.

It emulates the v2 paths the plugin uses (auth, products, stock, prices, orders, push) with
Shopee's gateway behaviour (signature and timestamp checks, token expiry on the sandbox clock,
Shopee's error bodies), plus the common ``/_sandbox`` control API of every omnisdk sandbox.

Beyond the common control API, tests can drive Shopee specifics from Python:
:meth:`ShopeeSandbox.place_order_at` (a back-dated order), :meth:`expire_access_tokens`,
:meth:`revoke_authorisation`, :meth:`authorise` (a fresh code, as after the seller approved)
and :meth:`push` (any push code).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from omnisdk.models import minor_units
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import (
    BuyerOrder,
    RefundRequest,
    Sandbox,
    SandboxError,
    SeedOrder,
    SeedProduct,
    UnknownObject,
)
from omnisdk.testing.throttle import LeakyBucket
from omnisdk_shopee.client import Signer
from omnisdk_shopee.sandbox.api.auth import AuthApi
from omnisdk_shopee.sandbox.api.discounts import DiscountsApi
from omnisdk_shopee.sandbox.api.gateway import (
    Caller,
    GatewayPolicy,
    ShopeeApiError,
    shopee_json,
    verify_call,
)
from omnisdk_shopee.sandbox.api.orders import OrdersApi
from omnisdk_shopee.sandbox.api.products import ProductsApi
from omnisdk_shopee.sandbox.api.push import PushApi
from omnisdk_shopee.sandbox.api.returns import ReturnsApi
from omnisdk_shopee.sandbox.state import order_flow
from omnisdk_shopee.sandbox.state.catalog import Catalog
from omnisdk_shopee.sandbox.state.grants import ACCESS_TTL, Grants, TokenRefused
from omnisdk_shopee.sandbox.state.order_flow import DEFAULT_CUSTOMER
from omnisdk_shopee.sandbox.state.orders import SandboxOrder
from omnisdk_shopee.sandbox.state.returns import SandboxReturn, open_return
from omnisdk_shopee.webhooks import PUSH_TOPICS

__all__ = ["DEFAULT_CUSTOMER", "ShopeeSandbox"]


class ShopeeSandbox(Sandbox):
    """An emulated Shopee shop (Open Platform API v2) with real signature verification.

    ``partner_id``/``partner_key`` are the app credentials it accepts, ``shop_id`` the shop,
    ``currency`` its currency (VND: whole numbers only). ``timestamp_window`` is how far (s)
    a signed timestamp may be from the sandbox clock; ``error_statuses`` overrides the HTTP
    status of error bodies per code; ``rate_limit`` (calls per second per shop) makes it
    answer ``error_rate_limit`` beyond that; ``access_ttl`` is an access token's life.
    """

    channel_type: ClassVar[str] = "shopee"

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        seed: int = 0,
        webhook_transport: httpx.BaseTransport | None = None,
        partner_id: int = 2001887,
        partner_key: str | None = None,
        shop_id: int = 322300222,
        currency: str = "VND",
        region: str = "VN",
        shop_name: str = "Cửa hàng Sandbox Sài Gòn",
        locations: tuple[str, ...] = ("",),
        timestamp_window: int = 300,
        error_statuses: dict[str, int] | None = None,
        rate_limit: int | None = None,
        access_ttl: float = ACCESS_TTL,
    ) -> None:
        self.partner_id = partner_id
        default_key = f"shpk_sandbox_{seed:04d}_{random.Random(seed).getrandbits(64):016x}"
        self.partner_key = partner_key or default_key
        self.signer = Signer(partner_id, self.partner_key)
        self.shop_id = shop_id
        self.currency = currency.upper()
        self.region = region.upper()
        self.shop_name = shop_name
        self.locations = tuple(locations) or ("",)
        self.policy = GatewayPolicy(timestamp_window=timestamp_window)
        if error_statuses:
            self.policy.statuses.update(error_statuses)
        self.rate_limit = rate_limit
        self.access_ttl = access_ttl
        super().__init__(clock=clock, seed=seed, webhook_transport=webhook_transport)

    # -- state ---------------------------------------------------------------------------

    def reset_state(self) -> None:
        """An empty shop with one valid token pair (the one :meth:`channel_settings` gives)."""
        self.catalog = Catalog()
        self.orders: dict[str, SandboxOrder] = {}
        self.returns: list[SandboxReturn] = []
        self.grants = Grants(rng=random.Random(f"{self.seed}:grants"))
        self._ids = random.Random(f"{self.seed}:ids")
        now = self.clock.time()
        access, refresh = self.grants.issue_pair(self.shop_id, now, access_ttl=self.access_ttl)
        self.initial_access = access
        self.initial_refresh = refresh
        self.push_config: dict[str, Any] = {
            "callback_url": "",
            "live_push_status": "Normal",
            "blocked_shop_id": [],
            "push_config_on_list": sorted(PUSH_TOPICS),
            "push_config_off_list": [],
        }
        self.lost_pushes: list[dict[str, Any]] = []
        self._lost_ids = 0
        self._discount_ids = 0
        self._calls = (
            LeakyBucket(capacity=self.rate_limit, leak_rate=self.rate_limit, clock=self.clock.time)
            if self.rate_limit
            else None
        )
        """The shop's call limit: ``rate_limit`` calls, leaking ``rate_limit`` a second."""

    def now(self) -> int:
        """The sandbox clock in unix seconds."""
        return int(self.clock.time())

    def new_discount_id(self) -> int:
        """A fresh shop discount id."""
        self._discount_ids += 1
        return 700_000_000 + self._discount_ids * 13

    def request_id(self) -> str:
        """A fresh request id, as Shopee sends with every answer."""
        return f"{self._ids.getrandbits(128):032x}"

    # -- the gateway ---------------------------------------------------------------------

    def verify(self, request: Request) -> Caller:
        """Run the gateway checks on ``request`` (with the lock held by the caller)."""
        now = self.clock.time()

        def check_token(access_token: str, shop_id: int) -> None:
            try:
                self.grants.check_access(access_token, shop_id, now)
            except TokenRefused as refused:
                raise self.policy.error(refused.code, refused.message) from None

        caller = verify_call(
            request, signer=self.signer, now=now, policy=self.policy, check_token=check_token
        )
        if caller.shop_id is not None and caller.shop_id != self.shop_id:
            raise self.policy.error("error_auth", "Invalid partner_id or shopid.")
        self._throttle()
        return caller

    def _throttle(self) -> None:
        if self._calls is not None and not self._calls.try_fill():
            raise self.policy.error(
                "error_rate_limit", "Too many requests. You have reached the rate limit."
            )

    def error_response(self, error: SandboxError) -> Response:
        """Shopee's error body for platform errors; the common shape for control errors."""
        if isinstance(error, ShopeeApiError):
            with self.lock:
                body: dict[str, Any] = {
                    "request_id": self.request_id(),
                    "error": error.code,
                    "message": error.message,
                }
            if error.response is not None:
                body["response"] = error.response
            return json_response(body, error.status, encode=shopee_json)
        return super().error_response(error)

    def fault_body(self, status: int) -> dict[str, Any]:
        """Injected faults in Shopee's shape."""
        with self.lock:
            request_id = self.request_id()
        if status == 429:
            return {
                "request_id": request_id,
                "error": "error_rate_limit",
                "message": "Too many requests. You have reached the rate limit.",
            }
        if status >= 500:
            return {
                "request_id": request_id,
                "error": "error_server",
                "message": "Something wrong. Please try later.",
            }
        return {
            "request_id": request_id,
            "error": "error_param",
            "message": f"Wrong parameters (injected fault {status}).",
        }

    def platform_routes(self) -> list[BaseRoute]:
        """Shopee's v2 paths the plugin uses."""
        return [
            *AuthApi(self).routes(),
            *ProductsApi(self).routes(),
            *DiscountsApi(self).routes(),
            *OrdersApi(self).routes(),
            *ReturnsApi(self).routes(),
            *PushApi(self).routes(),
        ]

    # -- credentials ---------------------------------------------------------------------

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """Settings for a ShopeeChannel: app credentials, shop and the initial token pair."""
        expires = datetime.fromtimestamp(self.initial_access.expires, UTC)
        return {
            "base_url": base_url,
            "partner_id": self.partner_id,
            "partner_key": self.partner_key,
            "shop_id": self.shop_id,
            "access_token": self.initial_access.value,
            "refresh_token": self.initial_refresh.value,
            "token_expires_at": expires.isoformat(),
            "currency": self.currency,
            "region": self.region,
        }

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """What a community client (``pyshopee2.Client``) is constructed with."""
        return {
            "host": base_url,
            "partner_id": self.partner_id,
            "partner_key": self.partner_key,
            "shop_id": self.shop_id,
            "access_token": self.initial_access.value,
            "refresh_token": self.initial_refresh.value,
            "redirect_url": "https://example.vn/shopee/callback",
        }

    def secret_values(self) -> list[str]:
        """Every secret accepted or issued: the partner key and every code or token."""
        with self.lock:
            return sorted({self.partner_key, *self.grants.secrets()})

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """Shopee's push header: ``Authorization`` = HMAC(partner key, callback URL|body)."""
        url = self.webhook_url or self.push_config.get("callback_url") or ""
        return {"Authorization": self.signer.push_signature(url, body)}

    # -- Shopee specifics for tests ------------------------------------------------------

    def authorise(self) -> str:
        """A fresh authorisation code for the shop, as the redirect after approval carries."""
        with self.lock:
            return self.grants.issue_code(self.shop_id, self.clock.time())

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

    def revoke_authorisation(self) -> None:
        """The seller withdrew the app: every token stops working; a push code 2 is sent."""
        with self.lock:
            self.grants.revoke(self.shop_id)
            self.push(2, None)

    def revoke_access(self) -> None:
        """``POST /_sandbox/revoke``: :meth:`revoke_authorisation`."""
        self.revoke_authorisation()

    def authorise_again(self) -> None:
        """The seller approves the app again and the code is exchanged for a new pair, which
        :meth:`channel_settings` gives from now on (the old tokens stay as they were)."""
        with self.lock:
            now = self.clock.time()
            code = self.grants.issue_code(self.shop_id, now)
            pair = self.grants.exchange(code, self.shop_id, now)
            self.initial_access, self.initial_refresh = pair

    def push(self, code: int, data: dict[str, Any] | None) -> None:
        """Send push ``code`` with ``data`` (delivered signed, or kept as a lost message)."""
        with self.lock:
            envelope: dict[str, Any] = {
                "data": data,
                "shop_id": self.shop_id,
                "code": code,
                "timestamp": self.now(),
            }
            if data is None:
                envelope = {
                    "shop_id": self.shop_id,
                    "code": code,
                    "success": 1,
                    "extra": "",
                    "timestamp": self.now(),
                }
            topic = PUSH_TOPICS.get(code, f"push_{code}")
            enabled = code in self.push_config["push_config_on_list"] and (
                self.shop_id not in self.push_config["blocked_shop_id"]
            )
            if self.webhook_url and enabled:
                self.emit_webhook(topic, shopee_json(envelope))
            elif enabled:
                self._lost_ids += 1
                self.lost_pushes.append(
                    {
                        "message_id": self._lost_ids,
                        **envelope,
                        "data": shopee_json(data).decode() if data is not None else "",
                    }
                )

    # -- catalog -----------------------------------------------------------------------

    def _check_price(self, price: Decimal, currency: str, sku: str) -> None:
        if currency != self.currency:
            raise SandboxError(f"{sku}: this shop sells in {self.currency}, not {currency}")
        digits = minor_units(currency)
        if price != price.quantize(Decimal(1).scaleb(-digits)) or price <= 0:
            raise SandboxError(f"{sku}: {price} is not a valid {currency} price")

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Create items the Shopee way: a ``product`` group becomes one item with models."""
        if products and not self.catalog.items and not self.orders:
            self.currency = products[0].currency  # an empty shop takes the seed's currency
        now = self.now()
        groups: dict[str, list[SeedProduct]] = {}
        singles: list[SeedProduct] = []
        for seed in products:
            self._check_price(seed.price, seed.currency, seed.sku)
            if self.catalog.find(seed.sku) is not None:
                raise SandboxError(f"SKU {seed.sku!r} is already listed", sku=seed.sku)
            if seed.product:
                groups.setdefault(seed.product, []).append(seed)
            else:
                singles.append(seed)
        return self.catalog.seed(singles, groups, now=now, location=self.locations[0])

    def listings(self) -> list[dict[str, Any]]:
        """Every SKU with its listed seller stock and price."""
        return self.catalog.listings()

    # -- orders --------------------------------------------------------------------------

    def place_order(self, order: BuyerOrder) -> str:
        """A buyer orders now (see :meth:`place_order_at`)."""
        return self.place_order_at(order, self.clock.now())

    def seed_orders(self, orders: list[SeedOrder]) -> list[str]:
        """Record the shop's order history at once: each order paid and ready to ship since
        its ``created_at`` (COD ones unpaid), one buyer per email or phone. No stock moves and
        no push is sent; linear in the orders, whatever the shop holds."""
        for order in orders:  # every SKU first, so a bad one records nothing
            for line in order.lines:
                self.catalog.locate(line.sku)
        buyers: dict[str, tuple[int, str]] = {}
        created = []
        for order in orders:
            customer = order.customer or {}
            key = str(customer.get("email") or customer.get("phone") or "")
            buyer = buyers.get(key) if key else None
            if buyer is None:
                buyer = (
                    int(customer.get("buyer_user_id") or 100_000_000 + self._ids.randrange(9**9)),
                    str(customer.get("username") or f"buyer{self._ids.randrange(10**6):06d}"),
                )
                if key:
                    buyers[key] = buyer
            at = order.created_at or self.clock.now()
            placed = order_flow.record(
                self.catalog,
                self.orders,
                order,
                created=at,
                updated=order.updated_at or at,
                buyer=buyer,
                ids=self._ids,
                currency=self.currency,
                region=self.region,
            )
            created.append(placed.order_sn)
        return created

    def place_order_at(self, order: BuyerOrder, when: datetime) -> str:
        """A buyer's order created at ``when`` (back-dated orders fill a backfill test)."""
        if when.tzinfo is None:
            raise ValueError("place_order_at needs an aware datetime (UTC offset included)")
        with self.lock:
            placed = order_flow.check_out(
                self.catalog,
                self.orders,
                order,
                when=when,
                ids=self._ids,
                currency=self.currency,
                region=self.region,
            )
            self._order_push(placed)
            return placed.order_sn

    def _order_push(self, order: SandboxOrder) -> None:
        self.push(
            3,
            {
                "ordersn": order.order_sn,
                "status": order.status,
                "update_time": order.update_time,
                "completed_scenario": "",
                "items": [],
            },
        )

    def _order(self, order_id: str) -> SandboxOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise UnknownObject("order", order_id)
        return order

    def cancel_order(self, order_id: str) -> None:
        """The buyer cancels: the stock goes back on sale, push code 3 says CANCELLED."""
        order = self._order(order_id)
        order_flow.cancel(self.catalog, order, now=self.now(), location=self.locations[0])
        self._order_push(order)

    def advance_order(self, order_id: str) -> str:
        """One step along UNPAID -> READY_TO_SHIP -> PROCESSED -> SHIPPED -> ... COMPLETED.

        Push code 3 tells the new status; a PROCESSED order also gets push code 4 with its
        tracking number.
        """
        order = self._order(order_id)
        following = order_flow.advance(order, now=self.now())
        self._order_push(order)
        if following == "PROCESSED":
            order_flow.ship(order, self._ids)
            self.push(
                4,
                {
                    "ordersn": order.order_sn,
                    "package_number": order.package_number,
                    "tracking_no": order.tracking_number,
                },
            )
        return following

    def refund_order(self, order_id: str, refund: RefundRequest) -> Decimal:
        """The buyer returns units of a shipped order and Shopee refunds them: a return in
        ``REFUND_PAID`` (Returns API), each unit at what it cost. The order keeps its status
        and lines, and no push is sent (which push code a return sends is not known here)."""
        order = self._order(order_id)
        made = open_return(
            order, refund, earlier=self.returns, now=self.now(), ids=self._ids
        )
        self.returns.append(made)
        return made.refund_amount

    def orders_state(self) -> list[dict[str, Any]]:
        """Every order, oldest first, as the sandbox sees it (buyer data unmasked)."""
        return [
            order.state()
            for order in sorted(self.orders.values(), key=lambda o: (o.create_time, o.order_sn))
        ]
