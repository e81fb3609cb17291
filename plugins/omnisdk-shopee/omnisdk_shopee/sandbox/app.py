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
import time
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from omnisdk.models import minor_units
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.sandbox import (
    BuyerOrder,
    OutOfStock,
    Sandbox,
    SandboxError,
    SeedProduct,
    UnknownObject,
)
from omnisdk_shopee.client import Signer
from omnisdk_shopee.sandbox.catalogue import Catalogue, Item, Model
from omnisdk_shopee.sandbox.gateway import (
    Caller,
    GatewayPolicy,
    ShopeeApiError,
    shopee_json,
    verify_call,
)
from omnisdk_shopee.sandbox.grants import ACCESS_TTL, Grants, TokenRefused
from omnisdk_shopee.sandbox.orders import (
    CANCELLABLE,
    NEXT_STATUS,
    OrderLine,
    SandboxOrder,
    order_sn,
)
from omnisdk_shopee.webhooks import PUSH_TOPICS

__all__ = ["DEFAULT_CUSTOMER", "ShopeeSandbox"]

DEFAULT_CUSTOMER: dict[str, Any] = {
    "name": "Trần Thị Mai",
    "phone": "0987 654 321",
    "address": {
        "line1": "45 Nguyễn Huệ",
        "ward": "Phường Bến Nghé",
        "district": "Quận 1",
        "province": "TP. Hồ Chí Minh",
    },
}
"""The buyer of an order placed without customer details."""


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
        self._calls: deque[float] = deque()
        super().__init__(clock=clock, seed=seed, webhook_transport=webhook_transport)

    # -- state ---------------------------------------------------------------------------

    def reset_state(self) -> None:
        """An empty shop with one valid token pair (the one :meth:`channel_settings` gives)."""
        self.catalogue = Catalogue()
        self.orders: dict[str, SandboxOrder] = {}
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
        self._calls = deque()

    def now(self) -> int:
        """The sandbox clock in unix seconds."""
        return int(self.clock.time())

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
        if not self.rate_limit:
            return
        now = time.monotonic()
        while self._calls and now - self._calls[0] >= 1.0:
            self._calls.popleft()
        if len(self._calls) >= self.rate_limit:
            raise self.policy.error(
                "error_rate_limit", "Too many requests. You have reached the rate limit."
            )
        self._calls.append(now)

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
            return Response(
                shopee_json(body), status_code=error.status, media_type="application/json"
            )
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
        from omnisdk_shopee.sandbox import api_auth, api_orders, api_products, api_push

        return [
            *api_auth.routes(self),
            *api_products.routes(self),
            *api_orders.routes(self),
            *api_push.routes(self),
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

    def revoke_authorisation(self) -> None:
        """The seller withdrew the app: every token stops working; a push code 2 is sent."""
        with self.lock:
            self.grants.revoke(self.shop_id)
            self.push(2, None)

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

    # -- catalogue -----------------------------------------------------------------------

    def _check_price(self, price: Decimal, currency: str, sku: str) -> None:
        if currency != self.currency:
            raise SandboxError(f"{sku}: this shop sells in {self.currency}, not {currency}")
        digits = minor_units(currency)
        if price != price.quantize(Decimal(1).scaleb(-digits)) or price <= 0:
            raise SandboxError(f"{sku}: {price} is not a valid {currency} price")

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Create items the Shopee way: a ``product`` group becomes one item with models."""
        if products and not self.catalogue.items and not self.orders:
            self.currency = products[0].currency  # an empty shop takes the seed's currency
        now = self.now()
        groups: dict[str, list[SeedProduct]] = {}
        singles: list[SeedProduct] = []
        for seed in products:
            self._check_price(seed.price, seed.currency, seed.sku)
            if self.catalogue.find(seed.sku) is not None:
                raise SandboxError(f"SKU {seed.sku!r} is already listed", sku=seed.sku)
            if seed.product:
                groups.setdefault(seed.product, []).append(seed)
            else:
                singles.append(seed)
        created: list[dict[str, Any]] = []
        location = self.locations[0]
        for seed in singles:
            item = self.catalogue.add(
                Item(
                    item_id=self.catalogue.new_item_id(),
                    name=seed.title,
                    currency=seed.currency,
                    created=now,
                    updated=now,
                    sku=seed.sku,
                    price=seed.price,
                    stock={location: seed.stock},
                )
            )
            created.append({"sku": seed.sku, "item_id": item.item_id, "model_id": 0})
        for title, seeds in groups.items():
            names = list(dict.fromkeys(name for seed in seeds for name in seed.options))
            if not names:
                names = ["Phân loại"]
                values = [[seed.sku for seed in seeds]]
            else:
                values = [
                    list(dict.fromkeys(seed.options.get(name, "-") for seed in seeds))
                    for name in names
                ]
            item = Item(
                item_id=self.catalogue.new_item_id(),
                name=title,
                currency=seeds[0].currency,
                created=now,
                updated=now,
                tiers=list(zip(names, values, strict=True)),
            )
            for seed in seeds:
                chosen = (
                    [seed.sku]
                    if names == ["Phân loại"] and not seed.options
                    else [seed.options.get(name, "-") for name in names]
                )
                item.models.append(
                    Model(
                        model_id=self.catalogue.new_model_id(),
                        sku=seed.sku,
                        price=seed.price,
                        stock={location: seed.stock},
                        tier_index=[
                            options.index(value)
                            for options, value in zip(values, chosen, strict=True)
                        ],
                    )
                )
            self.catalogue.add(item)
            created += [
                {"sku": m.sku, "item_id": item.item_id, "model_id": m.model_id} for m in item.models
            ]
        return created

    def listings(self) -> list[dict[str, Any]]:
        """Every SKU with its listed seller stock and price."""
        return self.catalogue.listings()

    # -- orders --------------------------------------------------------------------------

    def place_order(self, order: BuyerOrder) -> str:
        """A buyer orders now (see :meth:`place_order_at`)."""
        return self.place_order_at(order, self.clock.now())

    def place_order_at(self, order: BuyerOrder, when: datetime) -> str:
        """A buyer's order created at ``when`` (back-dated orders fill a backfill test)."""
        if when.tzinfo is None:
            raise ValueError("place_order_at needs an aware datetime (UTC offset included)")
        with self.lock:
            wanted: dict[str, int] = {}
            for line in order.lines:
                wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
            located = {}
            for sku, quantity in wanted.items():
                found = self.catalogue.find(sku)
                if found is None:
                    raise UnknownObject("SKU", sku)
                item, model = found
                listed = sum(Catalogue.stock_of(item, model).values())
                if listed < quantity:
                    raise OutOfStock(sku, available=listed, requested=quantity)
                located[sku] = found
            stamp = int(when.timestamp())
            lines: list[OrderLine] = []
            for line in order.lines:
                item, model = located[line.sku]
                _take(Catalogue.stock_of(item, model), line.quantity)
                item.updated = max(item.updated, stamp)
                option_names = (
                    [item.tiers[i][1][j] for i, j in enumerate(model.tier_index)] if model else []
                )
                lines.append(
                    OrderLine(
                        item_id=item.item_id,
                        model_id=model.model_id if model else 0,
                        sku=line.sku,
                        item_name=item.name,
                        model_name=",".join(option_names),
                        quantity=line.quantity,
                        price=model.price if model else item.price,
                        has_model=model is not None,
                    )
                )
            customer = order.customer or DEFAULT_CUSTOMER
            cod = str(customer.get("payment", "")).lower() == "cod"
            username = customer.get("username") or f"buyer{self._ids.randrange(10**6):06d}"
            number = order_sn(self._ids, when)
            while number in self.orders:
                number = order_sn(self._ids, when)
            status = "READY_TO_SHIP" if cod else "UNPAID"
            placed = SandboxOrder(
                order_sn=number,
                status=status,
                currency=self.currency,
                create_time=stamp,
                update_time=stamp,
                lines=lines,
                buyer_user_id=int(
                    customer.get("buyer_user_id") or 100_000_000 + self._ids.randrange(900_000_000)
                ),
                buyer_username=str(username),
                recipient=_recipient(customer),
                region=self.region,
                cod=cod,
                note=str(customer.get("note") or ""),
                history=[(status, stamp)],
            )
            self.orders[number] = placed
            self._order_push(placed)
            return number

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

    def _move(self, order: SandboxOrder, status: str) -> None:
        stamp = max(self.now(), order.update_time + 1)
        order.status = status
        order.update_time = stamp
        order.history.append((status, stamp))

    def cancel_order(self, order_id: str) -> None:
        """The buyer cancels: the stock goes back on sale, push code 3 says CANCELLED."""
        order = self._order(order_id)
        if order.status not in CANCELLABLE:
            raise SandboxError(
                f"order {order_id} is {order.status} and cannot be cancelled", status=order.status
            )
        for line in order.lines:
            found = self.catalogue.find(line.sku)
            if found is not None:
                stock = Catalogue.stock_of(*found)
                first = next(iter(stock), self.locations[0])
                stock[first] = stock.get(first, 0) + line.quantity
        order.cancel_by = "buyer"
        order.cancel_reason = "Đổi ý, không muốn mua nữa"
        self._move(order, "CANCELLED")
        self._order_push(order)

    def advance_order(self, order_id: str) -> str:
        """One step along UNPAID -> READY_TO_SHIP -> PROCESSED -> SHIPPED -> ... COMPLETED."""
        order = self._order(order_id)
        following = NEXT_STATUS.get(order.status)
        if following is None:
            raise SandboxError(
                f"order {order_id} is {order.status}: nothing comes next", status=order.status
            )
        self._move(order, following)
        if following == "READY_TO_SHIP" and not order.cod:
            order.pay_time = order.update_time
        if following == "COMPLETED" and order.cod:
            order.pay_time = order.update_time
        self._order_push(order)
        if following == "PROCESSED":
            order.package_number = f"OFG{self._ids.randrange(10**15):015d}"
            order.tracking_number = f"SPXVN{self._ids.randrange(10**11):011d}"
            self.push(
                4,
                {
                    "ordersn": order.order_sn,
                    "package_number": order.package_number,
                    "tracking_no": order.tracking_number,
                },
            )
        return following

    def orders_state(self) -> list[dict[str, Any]]:
        """Every order, oldest first, as the sandbox sees it (buyer data unmasked)."""
        return [
            order.state()
            for order in sorted(self.orders.values(), key=lambda o: (o.create_time, o.order_sn))
        ]


def _take(stock: dict[str, int], quantity: int) -> None:
    for location in list(stock):
        taken = min(stock[location], quantity)
        stock[location] -= taken
        quantity -= taken
        if not quantity:
            return


def _recipient(customer: dict[str, Any]) -> dict[str, str]:
    address = customer.get("address") or {}
    if isinstance(address, str):
        address = {"line1": address}
    parts = [address.get(key, "") for key in ("line1", "ward", "district", "province")]
    return {
        "name": str(customer.get("name") or ""),
        "phone": str(customer.get("phone") or ""),
        "full_address": ", ".join(part for part in parts if part),
        "town": str(address.get("ward") or ""),
        "district": str(address.get("district") or ""),
        "city": str(address.get("city") or address.get("province") or ""),
        "state": str(address.get("province") or ""),
    }
