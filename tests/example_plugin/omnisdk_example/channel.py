"""The Example channel: the Example platform's REST API behind omnisdk's Channel contract.

Read top to bottom, this is a plugin author's checklist: declare settings
(:mod:`omnisdk_example.settings`, secrets as ``SecretStr``), capabilities and limits; fetch
raw records page by page (the base class maps them through the hooks, quarantines what fails
and counts); map raw payloads in ``parse_*`` with the pure functions of
:mod:`omnisdk_example.mapping`; write one batch at a time and return one result per item;
verify webhook signatures over the raw body (:mod:`omnisdk_example.webhooks`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from omnisdk import (
    Capability,
    Channel,
    ChannelEvent,
    ChannelInfo,
    ChannelLimits,
    Customer,
    Lane,
    Location,
    Order,
    PriceUpdate,
    Product,
    RateBudget,
    StockLevel,
    StockPushMode,
    StockUpdate,
    Token,
    WebhookRequest,
    WriteResult,
)
from omnisdk_example import mapping, webhooks
from omnisdk_example.settings import ExampleSettings

__all__ = ["ExampleChannel"]

STOCK_SKUS_PER_CALL = 50
ORDERS_PAGE = 10

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

    # -- reading: raw records; the base class maps them -----------------------------------

    async def _pages(self, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a page-numbered list (``has_more`` until the last page)."""
        page = 1
        while True:
            params = {"page": page, "limit": self.limits.page_size}
            body = await self._call("GET", path, lane=Lane.BACKFILL, params=params)
            for raw in body[key]:
                yield raw
            if not body["has_more"]:
                return
            page += 1

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every product, page by page (the platform has no change filter: all are read and
        those unchanged since ``updated_since`` left out here)."""
        async for raw in self._pages("/products", "products"):
            if updated_since is None or mapping.changed_since(raw, updated_since):
                yield raw

    async def fetch_orders(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Orders changed since ``updated_since``, oldest change first, by cursor."""
        params: dict[str, str | int] = {"limit": ORDERS_PAGE}
        if updated_since is not None:
            params["updated_since"] = updated_since.isoformat()
        while True:
            body = await self._call("GET", "/orders", lane=Lane.ORDERS, params=params)
            for raw in body["orders"]:
                yield raw
            if not body["next_cursor"]:
                return
            params["cursor"] = body["next_cursor"]

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        """``GET /orders/{id}``."""
        order: dict[str, Any] = await self._call(
            "GET", f"/orders/{external_id}", lane=Lane.ORDERS
        )
        return order

    async def fetch_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every customer (those unchanged since ``updated_since`` left out), page by page."""
        async for raw in self._pages("/customers", "customers"):
            if updated_since is None or mapping.changed_since(raw, updated_since):
                yield raw

    async def stream_locations(self) -> AsyncIterator[Location]:
        """``GET /locations``."""
        body = await self._call("GET", "/locations")
        for raw in body["locations"]:
            yield mapping.location_from_example(raw, channel=self.name, account=self.account)

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
                yield mapping.stock_level_from_example(
                    raw, channel=self.name, account=self.account
                )

    # -- mapping (the base class calls these through the mapping hooks) -------------------

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """An Example product (with its variants) as a canonical Product."""
        return mapping.product_from_example(raw, channel=self.name, account=self.account)

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """An Example order as a canonical Order."""
        return mapping.order_from_example(raw, channel=self.name, account=self.account)

    def parse_customer(self, raw: dict[str, Any]) -> Customer:
        """An Example customer as a canonical Customer (phones read as Vietnamese)."""
        return mapping.customer_from_example(raw, channel=self.name, account=self.account)

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
        webhooks.verify_signature(
            request,
            secret.get_secret_value() if secret is not None else None,
            where=f"{self.name}/{self.account}",
        )

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """One event per delivery."""
        return webhooks.events_from_delivery(request, channel=self.name, account=self.account)

    def webhook_record(self, event: ChannelEvent) -> dict[str, Any] | None:
        """The order travels whole in an ``order.*`` delivery's ``data``."""
        return webhooks.order_payload(event)

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
