"""The Example channel: what the platform can do, and the Channel contract over its API.

Every other module of the package has one job and this one puts them together: declare the
capabilities and limits, fetch raw records page by page through the API (``client.py``; the
base class maps them through the hooks, quarantines what fails and counts), map in
``parse_*`` with ``mapping.py``, write one batch at a time and read the per-item answers
(``errors.py``), and delegate webhooks to ``webhooks.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

import httpx

from omnisdk import (
    Capability,
    Channel,
    ChannelError,
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
from omnisdk_example import auth, mapping, webhooks
from omnisdk_example.client import ExampleClient
from omnisdk_example.errors import error_for_response, write_results
from omnisdk_example.settings import ExampleSettings

__all__ = ["ExampleChannel"]

STOCK_SKUS_PER_CALL = 50
"""The most SKUs one ``GET /stock`` call takes."""
ORDERS_PAGE = 10
"""Orders asked for per ``GET /orders`` page."""


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
        webhook_topics=webhooks.TOPICS,
    )
    settings_model = ExampleSettings
    external_id_keys: ClassVar[tuple[str, ...]] = ("id",)
    """Where a raw record keeps its platform id (a rejected record is quarantined under it)."""
    sandbox = "omnisdk_example.sandbox.app:ExampleSandbox"

    @property
    def example_settings(self) -> ExampleSettings:
        """The settings, typed as this channel's own model."""
        assert isinstance(self.settings, ExampleSettings)
        return self.settings

    @property
    def client(self) -> ExampleClient:
        """The platform's API over this account's HTTP client."""
        return ExampleClient(self.http, self.access_token)

    def parse_error(self, response: httpx.Response) -> ChannelError | None:
        """The platform's error answers (:func:`errors.error_for_response`)."""
        return error_for_response(response)

    def initial_token(self) -> Token:
        """The static API token from the settings."""
        return auth.initial_token(self.example_settings)

    async def check(self) -> ChannelInfo:
        """``GET /shop``."""
        shop = await self.client.call("GET", "/shop")
        return ChannelInfo(name=shop["name"], currency=shop["currency"], timezone=shop["timezone"])

    # -- reading: raw records, page by page; the base class maps them ------------------

    async def _pages(self, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a page-numbered list (``has_more`` until the last page)."""
        page = 1
        while True:
            params = {"page": page, "limit": self.limits.page_size}
            body = await self.client.call("GET", path, lane=Lane.BACKFILL, params=params)
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
            body = await self.client.call("GET", "/orders", lane=Lane.ORDERS, params=params)
            for raw in body["orders"]:
                yield raw
            if not body["next_cursor"]:
                return
            params["cursor"] = body["next_cursor"]

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        """``GET /orders/{id}``."""
        order: dict[str, Any] = await self.client.call(
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
        body = await self.client.call("GET", "/locations")
        for raw in body["locations"]:
            yield mapping.parse_location(raw, self.ref)

    def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """Listed stock per SKU, 50 SKUs per call (every listing when ``skus`` is None)."""
        return self.stock_of_skus(skus, self._stock, per_call=STOCK_SKUS_PER_CALL)

    async def _stock(self, names: list[str] | None) -> AsyncIterator[StockLevel]:
        params = {"skus": ",".join(names)} if names is not None else {}
        body = await self.client.call("GET", "/stock", lane=Lane.STOCK, params=params)
        for raw in body["stock"]:
            # A figure the platform reports out of range sets that one SKU aside.
            for level in self.stock_levels_from(
                raw,
                partial(mapping.parse_stock_level, raw, self.ref),
                sku=self.platform_skus.learn(raw.get("sku")),
            ):
                yield level

    # -- mapping (the base class calls these through the omnisdk_map_* hooks) -------------

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """An Example product as a canonical Product (:func:`mapping.parse_product`)."""
        return mapping.parse_product(raw, self.ref)

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """An Example order as a canonical Order (:func:`mapping.parse_order`)."""
        return mapping.parse_order(raw, self.ref)

    def parse_customer(self, raw: dict[str, Any]) -> Customer:
        """An Example customer as a canonical Customer (:func:`mapping.parse_customer`)."""
        return mapping.parse_customer(raw, self.ref)

    # -- writing -------------------------------------------------------------------------

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """``POST /stock/batch``; an update's ``expected`` makes it a compare-and-swap."""
        items = [
            {
                "sku": self.platform_skus.platform(u.sku),
                "quantity": u.quantity,
                **({"expected": u.expected} if u.expected is not None else {}),
            }
            for u in batch
        ]
        body = await self.client.call(
            "POST", "/stock/batch", lane=Lane.STOCK, json={"items": items}
        )
        return write_results(batch, body["results"])

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """``POST /prices/batch``: prices travel as decimal strings."""
        items = [
            {
                "sku": self.platform_skus.platform(u.sku),
                "price": str(u.price.amount),
                "currency": u.price.currency,
            }
            for u in batch
        ]
        body = await self.client.call(
            "POST", "/prices/batch", lane=Lane.DEFAULT, json={"items": items}
        )
        return write_results(batch, body["results"])

    # -- webhooks ------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check ``X-Example-Signature`` (:func:`webhooks.verify_delivery`)."""
        webhooks.verify_delivery(
            request, self.example_settings.webhook_secret, where=f"{self.name}/{self.account}"
        )

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """The delivery's events, unmapped (:func:`webhooks.parse_delivery`)."""
        return webhooks.parse_delivery(request, channel=self.name, account=self.account)

    def webhook_record(self, event: ChannelEvent) -> dict[str, Any] | None:
        """The order an ``order.*`` delivery carries whole (:func:`webhooks.order_payload`)."""
        return webhooks.order_payload(event)

    async def register_webhooks(self, url: str) -> list[str]:
        """``POST /webhooks`` for every topic the channel handles."""
        topics = list(self.limits.webhook_topics)
        body = await self.client.call("POST", "/webhooks", json={"url": url, "topics": topics})
        return list(body["topics"])

    async def unregister_webhooks(self, url: str) -> None:
        """``DELETE /webhooks?url=``."""
        await self.client.call("DELETE", "/webhooks", params={"url": url})
