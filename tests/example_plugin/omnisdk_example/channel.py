"""The Example channel: the Example platform's REST API mapped onto omnisdk's canonical types.

Read top to bottom, this is a plugin author's checklist: declare settings (secrets as
``SecretStr``), capabilities and limits; stream pages; map raw payloads in ``parse_*``
(the engine calls them through hooks, so apps can wrap them); write one batch at a time and
return one result per item; verify webhook signatures over the raw body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from omnisdk import (
    Capability,
    Channel,
    ChannelEvent,
    ChannelInfo,
    ChannelLimits,
    ChannelSettings,
    Customer,
    EventKind,
    Lane,
    Location,
    LocationKind,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    PriceUpdate,
    Product,
    RateBudget,
    StockLevel,
    StockPushMode,
    StockUpdate,
    Token,
    Variant,
    WebhookRequest,
    WebhookVerificationError,
    WriteResult,
)
from omnisdk.models import Address, Email, Phone

__all__ = ["ExampleChannel", "ExampleSettings"]

STATUSES = {
    "pending": OrderStatus.PENDING,
    "paid": OrderStatus.CONFIRMED,
    "packed": OrderStatus.READY_TO_SHIP,
    "shipped": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
    "completed": OrderStatus.COMPLETED,
    "cancelled": OrderStatus.CANCELLED,
}
"""The platform's order statuses onto the canonical ones."""

EVENT_KINDS = {
    "order.created": EventKind.ORDER_CREATED,
    "order.updated": EventKind.ORDER_UPDATED,
    "order.cancelled": EventKind.ORDER_CANCELLED,
}
STOCK_SKUS_PER_CALL = 50
ORDERS_PAGE = 10


class ExampleSettings(ChannelSettings):
    """An ``example`` channel entry: the API token and the webhook signing secret."""

    api_token: SecretStr
    webhook_secret: SecretStr | None = None


class ExampleChannel(Channel):
    """The Example platform (see the plugin's README for its API)."""

    name = "example"
    title = "Example"
    capabilities = frozenset(
        {
            Capability.READ_PRODUCTS,
            Capability.READ_STOCK,
            Capability.WRITE_STOCK,
            Capability.WRITE_PRICES,
            Capability.READ_ORDERS,
            Capability.READ_CUSTOMERS,
            Capability.READ_LOCATIONS,
            Capability.WEBHOOKS,
        }
    )
    limits = ChannelLimits(
        stock_push_mode=StockPushMode.COMPARE_AND_SWAP,
        max_stock_batch=20,
        max_price_batch=20,
        page_size=50,
        rate=RateBudget(requests_per_second=20, burst=40),
        webhook_topics=("order.created", "order.updated", "order.cancelled"),
    )
    settings_model = ExampleSettings
    sandbox = "omnisdk_example.sandbox:ExampleSandbox"

    @property
    def example_settings(self) -> ExampleSettings:
        """The settings, typed as this channel's own model."""
        assert isinstance(self.settings, ExampleSettings)
        return self.settings

    def initial_token(self) -> Token:
        """The static API token from the settings."""
        return Token(access_token=self.example_settings.api_token)

    async def _call(
        self, method: str, path: str, *, lane: Lane = Lane.DEFAULT, **options: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {await self.access_token()}"}
        response = await self.http.request(method, path, lane=lane, headers=headers, **options)
        return response.json()

    async def check(self) -> ChannelInfo:
        """``GET /shop``."""
        shop = await self._call("GET", "/shop")
        return ChannelInfo(name=shop["name"], currency=shop["currency"], timezone=shop["timezone"])

    # -- reading -------------------------------------------------------------------------

    async def stream_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[Product]:
        """Every product, page by page (the platform has no change filter: all are read)."""
        page = 1
        while True:
            body = await self._call(
                "GET",
                "/products",
                lane=Lane.BACKFILL,
                params={"page": page, "limit": self.limits.page_size},
            )
            for raw in body["products"]:
                product = await self.map_or_reject("product", raw)
                if product is not None and (
                    updated_since is None or (product.updated_at or updated_since) >= updated_since
                ):
                    yield product
            if not body["has_more"]:
                return
            page += 1

    async def stream_orders(self, *, updated_since: datetime | None = None) -> AsyncIterator[Order]:
        """Orders changed since ``updated_since``, oldest change first, by cursor."""
        params: dict[str, str | int] = {"limit": ORDERS_PAGE}
        if updated_since is not None:
            params["updated_since"] = updated_since.isoformat()
        while True:
            body = await self._call("GET", "/orders", lane=Lane.ORDERS, params=params)
            for raw in body["orders"]:
                order = await self.map_or_reject("order", raw)
                if order is not None:
                    yield order
            if not body["next_cursor"]:
                return
            params["cursor"] = body["next_cursor"]

    async def get_order(self, external_id: str) -> Order:
        """``GET /orders/{id}``."""
        return self.map_order(await self._call("GET", f"/orders/{external_id}", lane=Lane.ORDERS))

    async def stream_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[Customer]:
        """Every customer (filtered here by ``updated_since``), page by page."""
        page = 1
        while True:
            body = await self._call(
                "GET",
                "/customers",
                lane=Lane.BACKFILL,
                params={"page": page, "limit": self.limits.page_size},
            )
            for raw in body["customers"]:
                customer = await self.map_or_reject("customer", raw)
                if customer is not None and (
                    updated_since is None
                    or customer.updated_at is None
                    or customer.updated_at >= updated_since
                ):
                    yield customer
            if not body["has_more"]:
                return
            page += 1

    async def stream_locations(self) -> AsyncIterator[Location]:
        """``GET /locations``."""
        body = await self._call("GET", "/locations")
        for raw in body["locations"]:
            yield Location(
                code=raw["id"],
                name=raw["name"],
                kind=LocationKind(raw["type"])
                if raw["type"] in ("warehouse", "store")
                else LocationKind.OTHER,
                pickup=raw["pickup"],
                channel_ref=self.ref(raw["id"]),
            )

    async def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """Listed stock per SKU, 50 SKUs per call (every listing when ``skus`` is None)."""
        chunks = (
            [
                list(skus[i : i + STOCK_SKUS_PER_CALL])
                for i in range(0, len(skus), STOCK_SKUS_PER_CALL)
            ]
            if skus is not None
            else [[]]
        )
        for chunk in chunks:
            params = {"skus": ",".join(chunk)} if chunk else {}
            body = await self._call("GET", "/stock", lane=Lane.STOCK, params=params)
            for raw in body["stock"]:
                yield StockLevel(
                    sku=raw["sku"],
                    location=raw["location_id"],
                    on_hand=raw["available"],
                    channel_ref=self.ref(raw["sku"]),
                )

    # -- mapping -------------------------------------------------------------------------

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """An Example product (with its variants) as a canonical Product."""
        variants = [
            Variant(
                sku=v["sku"],
                title=" / ".join(v["options"].values()) or None,
                options=v["options"],
                price=Money.of(v["price"], v["currency"]),
                channel_ref=self.ref(v["id"]),
            )
            for v in raw["variants"]
        ]
        option_names = list(dict.fromkeys(k for v in raw["variants"] for k in v["options"]))
        return Product(
            title=raw["title"],
            variants=variants,
            option_names=option_names,
            created_at=raw["created_at"],
            updated_at=raw["updated_at"],
            channel_ref=self.ref(raw["id"]),
            raw=raw,
        )

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """An Example order as a canonical Order."""
        currency = raw["currency"]
        lines = [
            OrderLine(
                sku=line["sku"],
                title=line["title"],
                quantity=line["quantity"],
                unit_price=Money.of(line["unit_price"], currency),
            )
            for line in raw["lines"]
        ]
        status = raw["status"]
        paid = status not in ("pending", "cancelled")
        customer = self.parse_customer(raw["customer"]) if raw.get("customer") else None
        return Order(
            channel_ref=self.ref(raw["id"]),
            number=raw["number"],
            status=STATUSES[status],
            channel_status=status,
            payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
            currency=currency,
            lines=lines,
            subtotal=Money.of(raw["subtotal"], currency),
            shipping_total=Money.of(raw["shipping_fee"], currency),
            total=Money.of(raw["total"], currency),
            customer=customer,
            created_at=raw["created_at"],
            updated_at=raw["updated_at"],
            raw=raw,
        )

    def parse_customer(self, raw: dict[str, Any]) -> Customer:
        """An Example customer as a canonical Customer (phones read as Vietnamese)."""
        address = raw.get("address")
        return Customer(
            full_name=raw.get("name"),
            phones=[Phone.parse(raw["phone"])] if raw.get("phone") else [],
            emails=[Email.parse(raw["email"])] if raw.get("email") else [],
            addresses=[Address.model_validate(address)] if isinstance(address, dict) else [],
            created_at=raw.get("created_at"),
            updated_at=raw.get("updated_at"),
            channel_ref=self.ref(raw["id"]),
            identities=[self.ref(raw["id"])],
            raw=raw,
        )

    # -- writing -------------------------------------------------------------------------

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """``POST /stock/batch``; an update's ``expected`` makes it a compare-and-swap."""
        items = [
            {
                "sku": u.sku,
                "quantity": u.quantity,
                **({"expected": u.expected} if u.expected is not None else {}),
            }
            for u in batch
        ]
        body = await self._call("POST", "/stock/batch", lane=Lane.STOCK, json={"items": items})
        return _results(batch, body["results"])

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """``POST /prices/batch``: prices travel as decimal strings."""
        items = [
            {"sku": u.sku, "price": str(u.price.amount), "currency": u.price.currency}
            for u in batch
        ]
        body = await self._call("POST", "/prices/batch", lane=Lane.DEFAULT, json={"items": items})
        return _results(batch, body["results"])

    # -- webhooks ------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check ``X-Example-Signature`` (base64 HMAC-SHA256 of the raw body)."""
        secret = self.example_settings.webhook_secret
        if secret is None:
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: no webhook_secret "
                "configured, deliveries cannot be verified"
            )
        signature = request.header("X-Example-Signature")
        if not signature:
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: the delivery has no X-Example-Signature"
            )
        digest = hmac.new(secret.get_secret_value().encode(), request.body, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), signature.strip()):
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: X-Example-Signature does not match the body"
            )

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """One event per delivery; the order travels whole in ``data``."""
        payload = json.loads(request.body)
        topic = request.header("X-Example-Topic") or payload["topic"]
        kind = EVENT_KINDS.get(topic, EventKind.OTHER)
        data = payload.get("data") or {}
        order = self.map_order(data) if topic.startswith("order.") else None
        return [
            ChannelEvent(
                kind=kind,
                channel=self.name,
                account=self.account,
                topic=topic,
                delivery_id=request.header("X-Example-Delivery"),
                external_id=str(data["id"]) if "id" in data else None,
                occurred_at=payload.get("created_at"),
                order=order,
                raw=payload,
            )
        ]

    async def register_webhooks(self, url: str) -> list[str]:
        """``POST /webhooks`` for every topic the channel handles."""
        topics = list(self.limits.webhook_topics)
        body = await self._call("POST", "/webhooks", json={"url": url, "topics": topics})
        return list(body["topics"])

    async def unregister_webhooks(self, url: str) -> None:
        """``DELETE /webhooks?url=``."""
        await self._call("DELETE", "/webhooks", params={"url": url})


def _results(
    batch: Sequence[StockUpdate | PriceUpdate], answers: list[dict[str, Any]]
) -> list[WriteResult]:
    """The platform's per-item answers as WriteResults, in the batch's order."""
    results = []
    for update, answer in zip(batch, answers, strict=True):
        if answer.get("sku") != update.sku:
            raise ValueError(f"result for {answer.get('sku')!r} where {update.sku!r} was sent")
        if answer["ok"]:
            results.append(WriteResult.success(update.sku))
        else:
            results.append(
                WriteResult.failure(
                    update.sku,
                    answer["message"],
                    code=answer["error"],
                    retryable=False,
                    actual=answer.get("actual"),
                )
            )
    return results
