"""The Shopify sandbox: an emulated shop behind the Admin API's GraphQL and REST paths.

``ShopifySandbox`` wires the pieces together: the shop state (``state/``), the Admin API
areas (``api/``: GraphQL, REST, bulk operations, OAuth), both rate limits (GraphQL cost
bucket, REST leaky bucket, per access token, on the sandbox clock) and signed webhooks to the
control URL and to every matching subscription. Run it with ``omnisdk sandbox shopify`` or
in-process::

    sandbox = ShopifySandbox()
    transport = httpx.ASGITransport(app=sandbox.app)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import Field
from starlette.routing import BaseRoute

from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.sandbox import (
    BuyerOrder,
    NotRefundable,
    OutOfStock,
    RefundRequest,
    Sandbox,
    SandboxError,
    SeedOrder,
    SeedProduct,
    UnknownObject,
)
from omnisdk.testing.throttle import LeakyBucket
from omnisdk_shopify.sandbox.api.bulk import BulkDownloadApi, BulkOperations, StepRunner
from omnisdk_shopify.sandbox.api.gateway import CALL_LIMIT_MESSAGE
from omnisdk_shopify.sandbox.api.graphql.context import BulkWindow, GraphQLContext
from omnisdk_shopify.sandbox.api.graphql.cost import CostBucket
from omnisdk_shopify.sandbox.api.graphql.endpoint import GraphQLApi
from omnisdk_shopify.sandbox.api.graphql.execute import check_unbounded, execute_unbounded
from omnisdk_shopify.sandbox.api.oauth import OAuthApi
from omnisdk_shopify.sandbox.api.rest import RestAdminApi
from omnisdk_shopify.sandbox.api.rest_views import (
    fulfillment_json,
    inventory_level_json,
    money_text,
    order_json,
)
from omnisdk_shopify.sandbox.state.order_flow import (
    advance_order,
    cancel_order,
    checkout_details,
    order_status,
    place_order,
    record_order,
    refund_order,
)
from omnisdk_shopify.sandbox.state.records import (
    Location,
    Order,
    ShopStateError,
    StockShort,
    Variant,
    gid,
    parse_gid,
)
from omnisdk_shopify.sandbox.state.shop import LevelSnapshot, ShopState

__all__ = ["DEFAULT_SCOPES", "ShopifyBuyerOrder", "ShopifySandbox"]

DEFAULT_SCOPES = (
    "read_products",
    "write_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_orders",
    "write_orders",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_all_orders",
    "read_customers",
    "read_users",
)
"""Scopes the sandbox's app is granted (``read_users`` keeps tap-shopify's ``author``)."""


class ShopifyBuyerOrder(BuyerOrder):
    """The body of ``POST /_sandbox/buyer/orders`` on this sandbox: the common fields, and
    ``pickup_location`` (a Shopify location's numeric id, global id or name) for a buyer who
    picks the order up in that store instead of having it shipped."""

    pickup_location: str | None = Field(default=None, min_length=1)


def _derived(seed: int, label: str, length: int = 32) -> str:
    return hashlib.sha256(f"omnisdk-shopify:{seed}:{label}".encode()).hexdigest()[:length]


class ShopifySandbox(Sandbox):
    """An emulated Shopify shop (see the module docstring).

    ``api_version`` is what the sandbox calls current; a request for any ``YYYY-MM`` version
    is answered as that version (``X-Shopify-API-Version`` echoes it). ``access_token`` is the
    custom app's permanent token; ``client_id``/``client_secret`` are the app's credentials
    (client-credentials grant, OAuth code exchange, webhook signatures). Throttles: the
    GraphQL bucket (``cost_bucket_size`` points restoring ``cost_restore_rate`` per second)
    and the REST leaky bucket (``rest_bucket_size`` calls leaking ``rest_leak_rate``/s).
    Bulk queries run in a background thread; ``bulk_duration`` keeps each one ``RUNNING`` at
    least that many seconds (a big shop's export, for tests that outlast a client's timeout).
    """

    channel_type: ClassVar[str] = "shopify"
    buyer_order_model: ClassVar[type[BuyerOrder]] = ShopifyBuyerOrder
    webhook_id_header: ClassVar[str | None] = "X-Shopify-Webhook-Id"

    def __init__(
        self,
        *,
        shop_name: str = "demo-shop",
        currency: str = "VND",
        api_version: str = "2026-10",
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        cost_bucket_size: float = 2000.0,
        cost_restore_rate: float = 100.0,
        rest_bucket_size: int = 40,
        rest_leak_rate: float = 2.0,
        token_lifetime: int = 86399,
        webhook_attempts: int = 8,
        bulk_duration: float = 0.0,
        clock: SandboxClock | None = None,
        seed: int = 0,
        webhook_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.shop_name = shop_name
        self.currency = currency
        self.api_version = api_version
        self.access_token = access_token or f"shpat_{_derived(seed, 'access-token')}"
        self.client_id = client_id or _derived(seed, "client-id")
        self.client_secret = client_secret or f"shpss_{_derived(seed, 'client-secret')}"
        self.scopes = scopes
        self.cost_bucket_size = cost_bucket_size
        self.cost_restore_rate = cost_restore_rate
        self.rest_bucket_size = rest_bucket_size
        self.rest_leak_rate = rest_leak_rate
        self.token_lifetime = token_lifetime
        self.bulk_duration = bulk_duration
        super().__init__(clock=clock, seed=seed, webhook_transport=webhook_transport)
        # Shopify retries a failed delivery 8 times (over 4 hours; here with a short back-off).
        self._dispatcher.max_attempts = webhook_attempts

    # -- state -----------------------------------------------------------------------------

    def reset_state(self) -> None:
        """An empty shop with one location; throttles, tokens and bulk operations cleared."""
        previous = getattr(self, "bulk", None)
        if previous is not None:
            previous.stop()
        self.shop = ShopState(now=self.clock.now, currency=self.currency, shop_name=self.shop_name)
        self._refunded_units: dict[int, dict[str, int]] = {}
        self.bulk = BulkOperations(
            prepare=self._prepare_bulk_query,
            next_id=self.shop.next_id,
            now=self.clock.now,
            lock=self.lock,
            duration=self.bulk_duration,
        )
        self.issued_tokens: dict[str, float] = {}
        self.installed = True
        """False once the merchant uninstalled the app (:meth:`revoke_access`)."""
        self.oauth_codes: dict[str, str] = {}
        self.idempotency: dict[tuple[str, str], Any] = {}
        self._cost_buckets: dict[str, CostBucket] = {}
        self._rest_buckets: dict[str, LeakyBucket] = {}

    def cost_bucket(self, token: str | None = None) -> CostBucket:
        """The GraphQL cost bucket of ``token`` (default: the permanent access token)."""
        key = token or self.access_token
        with self.lock:
            if key not in self._cost_buckets:
                self._cost_buckets[key] = CostBucket(
                    maximum=self.cost_bucket_size,
                    restore_rate=self.cost_restore_rate,
                    clock=self.clock.time,
                )
            return self._cost_buckets[key]

    def lift_throttles(self) -> None:
        """Make both buckets (GraphQL cost and REST calls) too large to ever throttle."""
        with self.lock:
            self.cost_bucket_size = self.cost_restore_rate = 1e9
            self.rest_bucket_size, self.rest_leak_rate = 10**9, 1e9
            self._cost_buckets.clear()
            self._rest_buckets.clear()

    def rest_bucket(self, token: str) -> LeakyBucket:
        """The REST call-limit bucket of ``token`` (it leaks on the sandbox clock)."""
        with self.lock:
            if token not in self._rest_buckets:
                self._rest_buckets[token] = LeakyBucket(
                    capacity=self.rest_bucket_size,
                    leak_rate=self.rest_leak_rate,
                    clock=self.clock.time,
                )
            return self._rest_buckets[token]

    # -- control hooks ---------------------------------------------------------------------

    def seed_products(self, products: list[SeedProduct]) -> list[dict[str, Any]]:
        """Create products the Shopify way: seeds sharing ``product`` become its variants."""
        if products and not self.shop.products and products[0].currency != self.shop.shop.currency:
            self.shop.shop.currency = products[0].currency
        for seed in products:
            if seed.currency != self.shop.shop.currency:
                raise SandboxError(
                    f"{seed.sku}: price in {seed.currency} but the shop sells in "
                    f"{self.shop.shop.currency}",
                    sku=seed.sku,
                )
        groups: dict[str, list[SeedProduct]] = {}
        for index, seed in enumerate(products):
            groups.setdefault(seed.product or f"\0{index}", []).append(seed)
        created = []
        for key, seeds in groups.items():
            option_names = list(seeds[0].options) or ["Title"]
            product = self.shop.create_product(
                key if not key.startswith("\0") else seeds[0].title,
                [
                    {
                        "sku": s.sku,
                        "price": s.price,
                        "stock": s.stock,
                        "options": [s.options.get(name, "Default Title") for name in option_names]
                        if s.options
                        else ["Default Title"],
                    }
                    for s in seeds
                ],
                option_names=option_names,
                vendor=self.shop_name,
            )
            for variant in self.shop.product_variants(product):
                created.append(
                    {
                        "sku": variant.sku,
                        "product_id": gid("Product", product.id),
                        "variant_id": gid("ProductVariant", variant.id),
                        "inventory_item_id": gid("InventoryItem", variant.inventory_item_id),
                    }
                )
        return created

    def place_order(self, order: BuyerOrder) -> str:
        """A buyer checks out; refused (409) when the listed stock is short.

        With ``pickup_location`` (a :class:`ShopifyBuyerOrder`) the buyer collects the
        order in that store: every unit is committed there, so the store must hold them.
        """
        for line in order.lines:
            if not self.shop.variants_by_sku(line.sku):
                raise UnknownObject("sku", line.sku)
        pickup = self._pickup_location(getattr(order, "pickup_location", None))
        customer = checkout_details(order.customer) if order.customer else None
        before = self.shop.levels_snapshot()
        try:
            placed = place_order(
                self.shop,
                [(line.sku, line.quantity) for line in order.lines],
                customer,
                pickup=pickup,
            )
        except StockShort as exc:
            wanted = sum(line.quantity for line in order.lines if line.sku == exc.sku)
            raise OutOfStock(exc.sku, available=exc.available, requested=wanted) from None
        except ShopStateError as exc:  # e.g. a SKU on several variants
            raise SandboxError(str(exc), code=exc.code) from None
        self.emit_webhook("orders/create", order_json(self.shop, placed))
        self._stock_webhooks(before)
        return gid("Order", placed.id)

    def seed_orders(self, orders: list[SeedOrder]) -> list[str]:
        """Record the shop's order history at once: each order paid and unfulfilled, with
        its fulfillment order and customer (one per email or phone), at its own timestamps.
        No stock moves and no webhook is sent; linear in the orders, whatever the shop holds.
        """
        variants: dict[str, Variant] = {}
        for order in orders:  # every SKU first, so a bad one records nothing
            for line in order.lines:
                if line.sku not in variants:
                    found = self.shop.variants_by_sku(line.sku)
                    if not found:
                        raise UnknownObject("sku", line.sku)
                    if len(found) > 1:
                        raise SandboxError(
                            f"SKU {line.sku!r} is on {len(found)} variants", code="AMBIGUOUS"
                        )
                    variants[line.sku] = found[0]
        buyers: dict[str, dict[str, Any]] = {}  # checkout details once per distinct buyer
        created = []
        for order in orders:
            customer = None
            if order.customer:
                key = json.dumps(order.customer, sort_keys=True, default=str)
                customer = buyers.get(key)
                if customer is None:
                    customer = buyers[key] = checkout_details(order.customer)
            at = order.created_at or self.clock.now()
            placed = record_order(
                self.shop,
                [(variants[line.sku], line.quantity) for line in order.lines],
                customer,
                created_at=at,
                updated_at=order.updated_at or at,
            )
            created.append(gid("Order", placed.id))
        return created

    def _pickup_location(self, reference: str | None) -> Location | None:
        if reference is None:
            return None
        location = self.shop.find_location(reference)
        if location is None:
            raise UnknownObject("location", reference)
        return location

    def cancel_order(self, order_id: str) -> None:
        """The buyer cancels: units restocked, payment voided or refunded."""
        self.cancel(self._order(order_id))

    def cancel(self, order: Order, *, restock: bool = True, refund: bool = True) -> None:
        """Cancel ``order`` and send ``orders/cancelled``, ``orders/updated``, stock webhooks."""
        before = self.shop.levels_snapshot()
        try:
            cancel_order(self.shop, order, restock=restock, refund=refund)
        except ShopStateError as exc:
            raise SandboxError(str(exc), code=exc.code) from None
        payload = order_json(self.shop, order)
        self.emit_webhook("orders/cancelled", payload)
        self.emit_webhook("orders/updated", payload)
        self._stock_webhooks(before)

    def refund(self, order_id: str, amount: str, *, shipping: str = "0") -> None:
        """The merchant gives ``amount`` back (``shipping`` of it for shipping), in part or
        in full; sends ``refunds/create`` and ``orders/updated`` as Shopify does."""
        order = self._order(order_id)
        try:
            refund_order(self.shop, order, Decimal(amount), shipping=Decimal(shipping))
        except ShopStateError as exc:
            raise SandboxError(str(exc), code=exc.code) from None
        payload = order_json(self.shop, order)
        self.emit_webhook("refunds/create", payload["refunds"][-1])
        self.emit_webhook("orders/updated", payload)

    def refund_order(self, order_id: str, refund: RefundRequest) -> Decimal:
        """The control API's refund: the units' line price given back through
        :meth:`refund` (a refund, ``refunds/create`` and ``orders/updated``); 409 while the
        order is unpaid, and beyond the units bought less those already refunded."""
        order = self._order(order_id)
        if order.financial_status not in ("paid", "partially_refunded"):
            raise NotRefundable(
                f"order {order.name} is {order.financial_status}: nothing paid to give back"
            )
        done = self._refunded_units.setdefault(order.id, {})
        amount = Decimal(0)
        taken: dict[str, int] = {}
        for line in refund.lines:
            items = [item for item in order.line_items if item.sku == line.sku]
            if not items:
                raise UnknownObject("SKU on the order", line.sku)
            left = sum(item.quantity for item in items) - done.get(line.sku, 0)
            if line.quantity > left:
                raise NotRefundable(
                    f"order {order.name}: {left} unit(s) of {line.sku!r} left to refund"
                )
            taken[line.sku] = taken.get(line.sku, 0) + line.quantity
            amount += items[0].price * line.quantity
        self.refund(order_id, str(amount))
        for sku, units in taken.items():
            done[sku] = done.get(sku, 0) + units
        return amount

    def advance_order(self, order_id: str) -> str:
        """pending -> paid -> fulfilled -> closed; sends the matching webhooks."""
        order = self._order(order_id)
        shipped_before = len(order.fulfillments)
        try:
            status = advance_order(self.shop, order)
        except ShopStateError as exc:
            raise SandboxError(str(exc), code=exc.code) from None
        for fulfillment in order.fulfillments[shipped_before:]:
            self.emit_webhook(
                "fulfillments/create", fulfillment_json(self.shop, order, fulfillment)
            )
        payload = order_json(self.shop, order)
        if status in ("paid", "fulfilled"):
            self.emit_webhook(f"orders/{status}", payload)
        self.emit_webhook("orders/updated", payload)
        return status

    def listings(self) -> list[dict[str, Any]]:
        """Every variant's SKU, listed stock (available over all locations) and price."""
        currency = self.shop.shop.currency
        return [
            {
                "sku": v.sku,
                "stock": self.shop.variant_available(v),
                "price": money_text(v.price),
                "currency": currency,
                "variant_id": gid("ProductVariant", v.id),
                "product_id": gid("Product", v.product_id),
            }
            for v in self.shop.variants.values()
        ]

    def orders_state(self) -> list[dict[str, Any]]:
        """Every order: id (GID), name, one-word status and Shopify's two status fields."""
        return [
            {
                "id": gid("Order", o.id),
                "name": o.name,
                "status": order_status(o),
                "financial_status": o.financial_status,
                "fulfillment_status": o.fulfillment_status,
                "pickup_location": (
                    gid("Location", o.pickup_location_id) if o.pickup_location_id else None
                ),
                "tracking_numbers": o.tracking_numbers,
                "total": money_text(o.total),
                "currency": o.currency,
                "lines": [{"sku": li.sku, "quantity": li.quantity} for li in o.line_items],
            }
            for o in self.shop.orders.values()
        ]

    def channel_settings(self, base_url: str) -> dict[str, Any]:
        """Settings for ``ShopifyChannel``: the shop, token, app secret and API version."""
        return {
            "shop": self.shop_name,
            "base_url": base_url,
            "access_token": self.access_token,
            "client_secret": self.client_secret,
            "api_version": self.api_version,
        }

    def client_credentials(self, base_url: str) -> dict[str, Any]:
        """What the official clients need: shop domain, token, app key and secret, version."""
        return {
            "shop": f"{self.shop_name}.myshopify.com",
            "base_url": base_url,
            "access_token": self.access_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "api_version": self.api_version,
        }

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """All of Shopify's delivery headers; the HMAC covers the exact body bytes."""
        digest = hmac.new(self.client_secret.encode(), body, hashlib.sha256).digest()
        return {
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": f"{self.shop_name}.myshopify.com",
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": self.next_delivery_id(),
            "X-Shopify-Event-Id": hashlib.sha256(topic.encode() + body).hexdigest()[:32],
            "X-Shopify-Triggered-At": self.clock.now().isoformat(),
        }

    def secret_values(self) -> list[str]:
        """The permanent token, the app secret and every token issued so far."""
        with self.lock:
            return sorted({self.access_token, self.client_secret, *self.issued_tokens})

    def fault_body(self, status: int) -> dict[str, Any]:
        """Injected errors look like Shopify's: ``{"errors": "..."}``."""
        if status == 429:
            return {"errors": CALL_LIMIT_MESSAGE}
        return {"errors": "Internal Server Error" if status == 500 else "Service Unavailable"}

    # -- webhooks --------------------------------------------------------------------------

    def webhook_subscribers(self, topic: str) -> list[str]:
        """The addresses of the shop's webhook subscriptions to ``topic``."""
        return [s.address for s in self.shop.webhook_subscriptions.values() if s.topic == topic]

    def _stock_webhooks(self, before: LevelSnapshot) -> None:
        for level in self.shop.changed_levels(before):
            self.emit_webhook("inventory_levels/update", inventory_level_json(self.shop, level))

    # -- helpers ---------------------------------------------------------------------------

    def _order(self, order_id: str) -> Order:
        try:
            number = parse_gid(order_id, "Order")
        except ValueError:
            raise UnknownObject("order", order_id) from None
        order = self.shop.orders.get(number)
        if order is None:
            raise UnknownObject("order", order_id)
        return order

    def _prepare_bulk_query(self, query: str) -> StepRunner:
        document = check_unbounded(query)

        def run_step(window: BulkWindow) -> dict[str, Any]:
            with self.lock:
                context = self.graphql_context(base_url="", api_version=self.api_version)
                context.bulk_window = window
                return execute_unbounded(document, context)

        return run_step

    def close(self) -> None:
        """Stop the webhook thread and the bulk workers; delete the bulk result files."""
        super().close()
        self.bulk.close()

    def graphql_context(self, *, base_url: str, api_version: str) -> GraphQLContext:
        """The context a GraphQL request (or a bulk query) runs with."""
        return GraphQLContext(
            state=self.shop,
            bulk=self.bulk,
            base_url=base_url,
            api_version=api_version,
            scopes=self.scopes,
            idempotency=self.idempotency,
        )

    # -- HTTP ------------------------------------------------------------------------------

    def expire_tokens(self) -> int:
        """The control API's token expiry: every client-credentials token ends now.

        The permanent Admin API access token of a custom app never expires and keeps working;
        a channel on client credentials asks for a new token.
        """
        with self.lock:
            now = self.clock.time()
            live = [token for token, expiry in self.issued_tokens.items() if expiry > now]
            for token in live:
                self.issued_tokens[token] = now
            return len(live)

    def revoke_access(self) -> None:
        """The merchant uninstalled the app: every access token, the permanent one too, is
        refused with 401, and so are new client-credentials grants (:meth:`reset` installs it
        again). The ``app/uninstalled`` webhook goes out as Shopify sends it (it may be
        missed: the refusals alone must tell)."""
        with self.lock:
            self.installed = False
            shop = self.shop.shop
            self.emit_webhook(
                "app/uninstalled",
                {"id": shop.id, "name": shop.name, "domain": shop.domain, "email": shop.email},
            )

    def token_valid(self, token: str | None) -> bool:
        """Whether ``token`` opens the Admin API now."""
        if not token or not self.installed:
            return False
        if hmac.compare_digest(token.encode(), self.access_token.encode()):
            return True
        expiry = self.issued_tokens.get(token)
        return expiry is not None and self.clock.time() < expiry

    def platform_routes(self) -> list[BaseRoute]:
        """GraphQL, REST, OAuth and bulk download paths."""
        return [
            *GraphQLApi(self).routes(),
            *RestAdminApi(self).routes(),
            *OAuthApi(self).routes(),
            *BulkDownloadApi(self).routes(),
        ]
