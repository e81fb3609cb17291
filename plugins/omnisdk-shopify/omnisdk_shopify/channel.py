"""``ShopifyChannel``: one Shopify shop behind omnisdk's Channel contract.

Reads go through the GraphQL Admin API, page by page within Shopify's query-cost limit; a
full backfill of a large shop (more than ``bulk_threshold`` objects) runs as a bulk
operation whose JSONL result is streamed line by line. Stock is written with
``inventorySetQuantities``: compare-and-swap on ``changeFromQuantity``, an idempotency key,
up to 250 quantities per call. Prices go with ``productVariantsBulkUpdate``, one call per
product. Orders are shipped, cancelled and closed by :mod:`omnisdk_shopify.orders`.
Locations come from REST (``/locations.json``), the one place REST is used; they are named by
the merchant's location codes (:mod:`omnisdk_shopify.locations`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

import httpx

from omnisdk.auth import Token
from omnisdk.channel import (
    Capability,
    Channel,
    ChannelInfo,
    ChannelLimits,
    OrderUpdate,
    WebhookRequest,
    WriteResult,
    batched,
)
from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    MappingError,
    NotFound,
    WebhookVerificationError,
)
from omnisdk.http import DEFAULT_REQUEST_ID_HEADERS, Lane, RateBudget
from omnisdk.models import (
    ChannelEvent,
    Customer,
    EventKind,
    Location,
    Money,
    Order,
    PriceUpdate,
    Product,
    PromotionMechanism,
    PromotionWrite,
    StockLevel,
    StockPushMode,
    StockUpdate,
)
from omnisdk_shopify import mapping, queries
from omnisdk_shopify.auth import client_credentials_token
from omnisdk_shopify.bulk import bulk_nodes, run_bulk_query
from omnisdk_shopify.client import ShopifyClient
from omnisdk_shopify.errors import shopify_error_mapper
from omnisdk_shopify.locations import LocationCodes
from omnisdk_shopify.orders import OrderWriter
from omnisdk_shopify.settings import ShopifySettings
from omnisdk_shopify.skus import SkuIndex, search_value
from omnisdk_shopify.webhooks import (
    SHOP_HEADER,
    SIGNATURE_HEADER,
    TOPIC_EVENTS,
    TOPIC_HEADER,
    TRIGGERED_AT_HEADER,
    WEBHOOK_ID_HEADER,
    RecentDeliveries,
    verify_signature,
)

__all__ = ["ShopifyChannel"]

logger = logging.getLogger("omnisdk_shopify")

MAX_QUANTITIES_PER_CALL = 250
"""``inventorySetQuantities`` takes at most 250 quantities per call."""
STALE_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})
GONE_CODES = frozenset(
    {"INVALID_INVENTORY_ITEM", "PRODUCT_VARIANT_DOES_NOT_EXIST", "PRODUCT_DOES_NOT_EXIST"}
)
"""Codes saying the ids the channel remembered for a SKU are no longer valid."""
WEBHOOK_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/fulfilled",
    "orders/cancelled",
    "products/update",
    "inventory_levels/update",
    "app/uninstalled",
)


LOCATIONS_REREAD_AFTER = 300.0
"""Seconds before an unknown location code makes the channel read the shop's locations
again."""


def _sku_code(found: Sequence[object]) -> str:
    return "SKU_AMBIGUOUS" if found else "SKU_NOT_FOUND"


def _since(updated_since: datetime | None) -> str | None:
    if updated_since is None:
        return None
    moment = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=UTC)
    return f"updated_at:>='{moment.astimezone(UTC).isoformat().replace('+00:00', 'Z')}'"


def _error_index(error: Mapping[str, Any], prefix: str) -> int | None:
    field = error.get("field") or []
    if len(field) >= 3 and field[1] == prefix and str(field[2]).isdigit():
        return int(field[2])
    if len(field) >= 2 and field[0] == prefix and str(field[1]).isdigit():
        return int(field[1])
    return None


def _object_id(payload: Mapping[str, Any], kind: str, topic: str) -> str:
    """The global id of a webhook's object; ValueError when the payload names none."""
    given = payload.get("admin_graphql_api_id")
    if isinstance(given, str) and given.startswith(f"gid://shopify/{kind}/"):
        return given
    number = payload.get("id")
    if isinstance(number, int) and not isinstance(number, bool):
        return mapping.gid(kind, number)
    raise ValueError(f"{topic} payload has no {kind.lower()} id")


class ShopifyChannel(Channel):
    """The Shopify channel (see the module docstring)."""

    name: ClassVar[str] = "shopify"
    title: ClassVar[str] = "Shopify"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.READ_PRODUCTS,
            Capability.READ_STOCK,
            Capability.WRITE_STOCK,
            Capability.WRITE_PRICES,
            Capability.READ_ORDERS,
            Capability.READ_REFUNDS,
            Capability.WRITE_ORDERS,
            Capability.READ_CUSTOMERS,
            Capability.READ_LOCATIONS,
            Capability.WEBHOOKS,
        }
    )
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        promotion_mechanism=PromotionMechanism.COMPARE_AT,
        stock_push_mode=StockPushMode.COMPARE_AND_SWAP,
        max_stock_batch=MAX_QUANTITIES_PER_CALL,
        max_price_batch=250,
        max_product_batch=1,
        page_size=queries.PRODUCTS_PAGE,
        rate=RateBudget(requests_per_second=4.0, burst=40),
        access_token_ttl=timedelta(hours=24),
        webhook_topics=WEBHOOK_TOPICS,
    )
    settings_model: ClassVar[type[ShopifySettings]] = ShopifySettings
    sandbox: ClassVar[str | None] = "omnisdk_shopify.sandbox.app:ShopifySandbox"
    request_id_headers: ClassVar[tuple[str, ...]] = (
        "x-shopify-request-id",
        *DEFAULT_REQUEST_ID_HEADERS,
    )
    external_id_keys: ClassVar[tuple[str, ...]] = ("id", "admin_graphql_api_id")

    settings: ShopifySettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: ShopifyClient | None = None
        self._currency: str | None = None
        self._default_location: str | None = None
        self._skus = SkuIndex(self.platform_skus)
        self._deliveries = RecentDeliveries()
        self._token_ready = False
        self._sleep = asyncio.sleep
        self.locations = LocationCodes(self.settings.location_codes)
        """The shop's locations and the merchant's codes for them."""
        self._locations_read_at: float | None = None

    # -- plumbing --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The shop's Admin host (``https://{shop}.myshopify.com``) or the configured one."""
        return (self.settings.base_url or f"https://{self.settings.shop_domain}").rstrip("/")

    def parse_error(self, response: httpx.Response) -> ChannelError | None:
        """GraphQL's in-body throttle and errors (see :func:`shopify_error_mapper`)."""
        return shopify_error_mapper(response)

    @property
    def client(self) -> ShopifyClient:
        """GraphQL and REST for this shop."""
        if self._client is None:
            refresh = self._force_refresh if self.settings.uses_client_credentials else None
            self._client = ShopifyClient(
                self.http,
                api_version=self.settings.api_version,
                token=self.access_token,
                refresh=refresh,
                transport=self._transport,
                timeout=self.settings.timeout,
                max_attempts=self.settings.max_attempts,
            )
        return self._client

    async def aclose(self) -> None:
        """Release connections (API and bulk downloads)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await super().aclose()

    def _origin(self, *, money: bool = True) -> mapping.Origin:
        """Where mapped objects come from. With ``money`` the shop currency must be known
        (prices are in it); customers, locations and stock levels carry no money."""
        if money and self._currency is None:
            raise MappingError(
                "the shop's currency is not known yet (call check() or read something first)",
                channel=self.name,
            )
        return mapping.Origin(self.name, self.account, self._currency or "", self.locations)

    async def _shop_currency(self) -> str:
        if self._currency is None:
            await self.check()
        assert self._currency is not None
        return self._currency

    # -- credentials -----------------------------------------------------------------------

    def initial_token(self) -> Token | None:
        """The custom app's permanent token, when configured."""
        token = self.settings.access_token
        return Token.lasting(token.get_secret_value(), seconds=None) if token else None

    async def refresh_token(self, token: Token) -> Token:
        """A new token by the client-credentials grant (the only kind Shopify refreshes)."""
        if not self.settings.uses_client_credentials:
            raise AuthError(
                "the access token was refused; a permanent token cannot be "
                "refreshed: check the app's installation",
                channel=self.name,
                account=self.account,
            )
        return await self._grant()

    async def _grant(self) -> Token:
        secret = self.settings.client_secret
        assert self.settings.client_id and secret is not None
        return await client_credentials_token(
            self.http, self.settings.client_id, secret.get_secret_value()
        )

    async def access_token(self) -> str:
        """The token to send; a client-credentials app fetches its first one here."""
        if self.settings.uses_client_credentials and not self._token_ready:
            async with self.tokens.token_lock(self.name, self.account):
                stored = await self.tokens.load_token(self.name, self.account)
                if stored is None or stored.is_expired():
                    await self.tokens.save_token(self.name, self.account, await self._grant())
            self._token_ready = True
        return await super().access_token()

    async def _force_refresh(self) -> None:
        await self.token_keeper.force_refresh()

    async def check(self) -> ChannelInfo:
        """Read the shop: its name, currency and time zone prove the credentials work."""
        data = await self.client.graphql(queries.SHOP)
        shop = data["shop"]
        self._currency = str(shop["currencyCode"])
        for location in (data.get("locations") or {}).get("nodes") or []:
            self.locations.learn(location["id"], location.get("name"))
        return ChannelInfo(
            name=str(shop["name"]),
            currency=self._currency,
            timezone=shop.get("ianaTimezone"),
            details={"domain": str(shop.get("myshopifyDomain") or ""), "id": str(shop["id"])},
        )

    # -- mapping ---------------------------------------------------------------------------

    @staticmethod
    def _is_rest(raw: Mapping[str, Any]) -> bool:
        return "admin_graphql_api_id" in raw or isinstance(raw.get("id"), int)

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """A GraphQL product node, or a REST product from a webhook."""
        if self._is_rest(raw):
            return mapping.product_from_rest(raw, self._origin())
        return mapping.product_from_graphql(raw, self._origin())

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """A GraphQL order node, or a REST order from a webhook."""
        currency = raw.get("currency") if self._is_rest(raw) else raw.get("currencyCode")
        origin = self._origin(money=currency is None)
        if currency and currency != origin.currency:
            origin = dataclasses.replace(origin, currency=str(currency))
        if self._is_rest(raw):
            return mapping.order_from_rest(raw, origin)
        for fulfillment_order in (raw.get("fulfillmentOrders") or {}).get("nodes") or []:
            place = (fulfillment_order.get("assignedLocation") or {}).get("location") or {}
            if place.get("id"):
                self.locations.learn(place["id"], place.get("name"))
        return mapping.order_from_graphql(raw, origin)

    def parse_customer(self, raw: dict[str, Any]) -> Customer:
        """A GraphQL customer node, or a REST customer."""
        origin = self._origin(money=False)
        if self._is_rest(raw):
            return mapping.customer_from_rest(raw, origin)
        return mapping.customer_from_graphql(raw, origin)

    # -- reading ---------------------------------------------------------------------------

    async def _pages(
        self, document: str, root: str, *, first: int, lane: Lane, search: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every node of a paged root list."""
        after: str | None = None
        while True:
            data = await self.client.graphql(
                document, {"first": first, "after": after, "query": search}, lane=lane
            )
            connection = data[root]
            for node in connection["nodes"]:
                yield node
            info = connection["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

    async def _use_bulk(self, count_document: str, root: str, search: str | None) -> bool:
        threshold = self.settings.bulk_threshold
        if threshold is None or search is not None:
            return False
        if threshold == 0:
            return True
        data = await self.client.graphql(count_document, {"query": search}, lane=Lane.BACKFILL)
        counted = data.get(root) or {}
        return int(counted.get("count") or 0) >= threshold

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Product nodes with all their variants, by pages (or one bulk export for a big
        backfill); their SKUs are remembered for the writes."""
        await self._shop_currency()
        search = _since(updated_since)
        if await self._use_bulk(queries.PRODUCTS_COUNT, "productsCount", search):
            nodes = self._bulk_nodes(queries.BULK_PRODUCTS, {"ProductVariant": "variants"})
        else:
            lane = Lane.DEFAULT if search else Lane.BACKFILL
            nodes = self._paged_products(search, lane)
        async for node in nodes:
            for variant in node["variants"]["nodes"]:
                self._skus.remember(variant, str(node["id"]))
            yield node

    async def _paged_products(
        self, search: str | None, lane: Lane
    ) -> AsyncIterator[dict[str, Any]]:
        async for node in self._pages(
            queries.PRODUCTS, "products", first=queries.PRODUCTS_PAGE, lane=lane, search=search
        ):
            variants = node["variants"]
            if variants["pageInfo"]["hasNextPage"]:
                more = await self._more_variants(
                    str(node["id"]), variants["pageInfo"]["endCursor"], lane
                )
                node = {
                    **node,
                    "variants": {
                        "nodes": [*variants["nodes"], *more],
                        "pageInfo": {"hasNextPage": False},
                    },
                }
            yield node

    async def _more_variants(
        self, product_id: str, after: str | None, lane: Lane
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            data = await self.client.graphql(
                queries.PRODUCT_VARIANTS, {"id": product_id, "after": after}, lane=lane
            )
            connection = data["product"]["variants"]
            found += connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                return found
            after = connection["pageInfo"]["endCursor"]

    async def fetch_orders(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Order nodes changed since ``updated_since`` (inclusive), oldest change first."""
        await self._shop_currency()
        search = _since(updated_since)
        if await self._use_bulk(queries.ORDERS_COUNT, "ordersCount", search):
            document = queries.bulk_orders_query(search)
            nodes = self._bulk_nodes(
                document, {"LineItem": "lineItems", "FulfillmentOrder": "fulfillmentOrders"}
            )
        else:
            nodes = self._paged_orders(search)
        async for node in nodes:
            yield node

    async def _paged_orders(self, search: str | None) -> AsyncIterator[dict[str, Any]]:
        async for node in self._pages(
            queries.ORDERS, "orders", first=queries.ORDERS_PAGE, lane=Lane.ORDERS, search=search
        ):
            yield await self._complete_lines(node)

    async def _complete_lines(self, node: dict[str, Any]) -> dict[str, Any]:
        lines = node["lineItems"]
        if not lines["pageInfo"]["hasNextPage"]:
            return node
        found = list(lines["nodes"])
        after = lines["pageInfo"]["endCursor"]
        while True:
            data = await self.client.graphql(
                queries.ORDER_LINES, {"id": node["id"], "after": after}, lane=Lane.ORDERS
            )
            connection = data["order"]["lineItems"]
            found += connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        return {**node, "lineItems": {"nodes": found, "pageInfo": {"hasNextPage": False}}}

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        """One order node by its global id (or numeric id), with all its lines."""
        await self._shop_currency()
        order_id = mapping.gid("Order", external_id)
        data = await self.client.graphql(queries.ORDER, {"id": order_id}, lane=Lane.ORDERS)
        if data.get("order") is None:
            raise NotFound(f"order {order_id} not found", channel=self.name, account=self.account)
        return await self._complete_lines(data["order"])

    async def fetch_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Customer nodes changed since ``updated_since``."""
        await self._shop_currency()
        async for node in self._pages(
            queries.CUSTOMERS,
            "customers",
            first=queries.CUSTOMERS_PAGE,
            lane=Lane.DEFAULT,
            search=_since(updated_since),
        ):
            yield node

    async def stream_locations(self) -> AsyncIterator[Location]:
        """The shop's locations (REST ``/locations.json``)."""
        origin = self._origin(money=False)
        async for page in self.client.rest_pages("locations.json", "locations"):
            for raw in page:
                self.locations.learn(raw["id"], raw.get("name"))
                yield mapping.location_from_rest(raw, origin)
        self._locations_read_at = time.monotonic()

    async def resolve_location(self, code: str) -> str | None:
        """The numeric Shopify location id behind a merchant location ``code`` (None when
        the shop has no such location). Reads the shop's locations when the code is mapped by
        a name not seen yet, at most once per :data:`LOCATIONS_REREAD_AFTER` seconds."""
        found = self.locations.location_id(code)
        fresh = (
            self._locations_read_at is not None
            and time.monotonic() - self._locations_read_at < LOCATIONS_REREAD_AFTER
        )
        if found is None and not fresh:
            async for _location in self.stream_locations():
                pass
            found = self.locations.location_id(code)
        return found

    def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """Available stock per SKU and location (``location`` is the location's code);
        Shopify searches SKUs as stored (see ``Channel.stock_of_skus``)."""
        return self.stock_of_skus(skus, self._stock_levels, per_call=queries.STOCK_PAGE)

    async def _stock_levels(self, names: list[str] | None) -> AsyncIterator[StockLevel]:
        origin = self._origin(money=False)
        search = None if names is None else " OR ".join(f"sku:{search_value(s)}" for s in names)
        async for node in self._pages(
            queries.STOCK_BY_SKU,
            "productVariants",
            first=queries.STOCK_PAGE,
            lane=Lane.STOCK,
            search=search,
        ):
            if names is not None and node.get("sku") not in names:
                continue  # Shopify's search matches more than the SKUs named
            for level in self.stock_levels_from(
                node,
                partial(mapping.stock_levels_from_graphql, node, origin),
                sku=self.platform_skus.learn(node.get("sku")),
            ):
                yield level

    # -- bulk operations -------------------------------------------------------------------

    async def _bulk_nodes(
        self, document: str, children: Mapping[str, str]
    ) -> AsyncIterator[dict[str, Any]]:
        """Run a bulk query and yield each root node with its child nodes attached."""
        url = await run_bulk_query(
            self.client,
            document,
            poll_interval=self.settings.bulk_poll_interval,
            give_up_after=self.settings.bulk_timeout,
            sleep=self._sleep,
        )
        if url is not None:
            async for node in bulk_nodes(self.client, url, children):
                yield node

    # -- stock -----------------------------------------------------------------------------

    async def _location_id(self, update: StockUpdate) -> str | None:
        """The global id of the location ``update`` goes to; None for an unknown code."""
        if update.location:
            numeric = await self.resolve_location(update.location)
            return mapping.gid("Location", numeric) if numeric else None
        if self.settings.location_id:
            return mapping.gid("Location", self.settings.location_id)
        if self._default_location is None:
            data = await self.client.graphql("query Primary { location { id } }", lane=Lane.STOCK)
            self._default_location = str(data["location"]["id"])
        return self._default_location

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """Set available stock with compare-and-swap, one call for the batch.

        ``expected`` becomes ``changeFromQuantity`` (None sends an explicit null: no check).
        Shopify applies a call all or nothing: items it refuses fail with its code, the
        stale ones report what Shopify holds now (``actual``, re-read), and the rest of the
        batch is sent again without them, so one stale item never overwrites a concurrent
        change nor blocks the others.
        """
        results: list[WriteResult | None] = [None] * len(batch)
        found = await self._skus.lookup(self.client, (u.sku for u in batch), Lane.STOCK)
        pending: list[tuple[int, dict[str, Any]]] = []
        for index, update in enumerate(batch):
            ref = SkuIndex.one(update.sku, found[update.sku])
            if isinstance(ref, str):
                results[index] = WriteResult.failure(
                    update.sku, ref, code=_sku_code(found[update.sku])
                )
                continue
            if not ref.tracked:
                results[index] = WriteResult.failure(
                    update.sku,
                    f"SKU {update.sku!r}: Shopify does not track its inventory",
                    code="NON_MUTABLE_INVENTORY_ITEM",
                )
                continue
            location_id = await self._location_id(update)
            if location_id is None:
                results[index] = WriteResult.failure(
                    update.sku,
                    f"location {update.location!r} is not a location of this Shopify shop",
                    code="UNKNOWN_LOCATION",
                )
                continue
            pending.append(
                (
                    index,
                    {
                        "inventoryItemId": ref.item_id,
                        "locationId": location_id,
                        "quantity": update.quantity,
                        "changeFromQuantity": update.expected,
                    },
                )
            )
        for _round in range(3):
            if not pending:
                break
            pending = await self._set_quantities(batch, pending, results)
        for index, _quantity in pending:
            results[index] = WriteResult.failure(
                batch[index].sku,
                "not applied: the rest of its batch kept being refused",
                code="BATCH_REFUSED",
                retryable=True,
            )
        return [
            r if r is not None else WriteResult.success(batch[i].sku) for i, r in enumerate(results)
        ]

    async def _set_quantities(
        self,
        batch: Sequence[StockUpdate],
        pending: list[tuple[int, dict[str, Any]]],
        results: list[WriteResult | None],
    ) -> list[tuple[int, dict[str, Any]]]:
        """One ``inventorySetQuantities`` call; returns the items to send again."""
        keys = [batch[i].idempotency_key for i, _ in pending]
        if all(keys):
            key = hashlib.sha256("|".join(str(k) for k in keys).encode()).hexdigest()
        else:
            key = str(uuid.uuid4())
        variables = {
            "key": key,
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"omnisdk://stock/{self.account}/{key}",
                "quantities": [quantity for _, quantity in pending],
            },
        }
        data = await self.client.graphql(
            queries.INVENTORY_SET_QUANTITIES, variables, lane=Lane.STOCK
        )
        answer = data["inventorySetQuantities"]
        errors = answer.get("userErrors") or []
        if not errors:
            for index, _ in pending:
                results[index] = WriteResult.success(batch[index].sku)
            return []
        refused: dict[int, Mapping[str, Any]] = {}
        for error in errors:
            position = _error_index(error, "quantities")
            if position is None or position >= len(pending):
                for index, _ in pending:  # the whole call was refused
                    results[index] = WriteResult.failure(
                        batch[index].sku,
                        str(error.get("message")),
                        code=str(error.get("code") or "USER_ERROR"),
                    )
                return []
            refused[position] = error
        stale = [pending[p] for p, e in refused.items() if e.get("code") in STALE_CODES]
        actual = await self._available_now([q for _, q in stale]) if stale else {}
        for position, error in refused.items():
            index, quantity = pending[position]
            code = str(error.get("code") or "USER_ERROR")
            if code in GONE_CODES:
                self._skus.forget(batch[index].sku)  # look it up afresh next time
            results[index] = WriteResult.failure(
                batch[index].sku,
                str(error.get("message")),
                code=code,
                retryable=code in STALE_CODES,
                actual=actual.get((quantity["inventoryItemId"], quantity["locationId"])),
            )
        return [entry for position, entry in enumerate(pending) if position not in refused]

    async def _available_now(self, quantities: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        """Re-read ``available`` for (item, location) pairs after a stale compare: the items
        by id at each location, :data:`~omnisdk_shopify.queries.AVAILABLE_PAGE` a query."""
        by_location: dict[str, list[str]] = {}
        for quantity in quantities:
            items = by_location.setdefault(str(quantity["locationId"]), [])
            if quantity["inventoryItemId"] not in items:
                items.append(str(quantity["inventoryItemId"]))
        now: dict[tuple[str, str], int] = {}
        for location, items in sorted(by_location.items()):
            for chunk in batched(items, queries.AVAILABLE_PAGE):
                data = await self.client.graphql(
                    queries.AVAILABLE_AT, {"ids": chunk, "location": location}, lane=Lane.STOCK
                )
                for node in data.get("nodes") or []:
                    level = (node or {}).get("inventoryLevel") or {}
                    for entry in level.get("quantities") or []:
                        if entry.get("name") == "available" and node.get("id"):
                            now[(str(node["id"]), location)] = int(entry["quantity"])
        return now

    # -- orders ----------------------------------------------------------------------------

    async def update_order(self, update: OrderUpdate) -> WriteResult:
        """Ship (``fulfillmentCreate`` with tracking), cancel (``orderCancel``) or complete
        (``orderClose``) a Shopify order; see :mod:`omnisdk_shopify.orders`.

        One result for the order, keyed by its external id; Shopify's refusals and other
        statuses (which Shopify cannot be told) are failed results, not exceptions.
        """
        self.require(Capability.WRITE_ORDERS)
        writer = OrderWriter(
            self.client,
            self.settings,
            self.locations,
            self.resolve_location,
            lambda seconds: self._sleep(seconds),
        )
        return await writer.update(update)

    # -- prices ----------------------------------------------------------------------------

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """Set variant prices, one ``productVariantsBulkUpdate`` per product in the batch.

        A price in another currency than the shop's fails alone (Shopify prices are in the
        shop currency).
        """
        return await self._set_prices(batch, clear_compare_at=False)

    # -- promotions: compare-at price + price ---------------------------------------------
    #
    # Shopify has no dated sale price on a variant: a promotion is the price lowered to the
    # promoted one with the base shown as the compare-at price ("was 650.000 ₫"), written
    # when it starts and undone when it ends by the engine's scheduled job.

    async def write_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """``price`` = promoted, ``compareAtPrice`` = base, per variant (see the class notes)."""
        updates = [
            PriceUpdate(sku=item.sku, price=item.promoted, compare_at_price=item.base)
            for item in promotion.items
        ]
        return await self._write_in_batches(
            updates, self.limits.max_price_batch, self.write_prices_batch, lambda u: u.sku
        )

    async def end_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """``price`` = base and the compare-at price cleared; writing it twice is harmless."""
        updates = [PriceUpdate(sku=item.sku, price=item.base) for item in promotion.items]

        async def write(batch: Sequence[PriceUpdate]) -> list[WriteResult]:
            return await self._set_prices(batch, clear_compare_at=True)

        return await self._write_in_batches(
            updates, self.limits.max_price_batch, write, lambda u: u.sku
        )

    async def read_selling_prices(self, skus: Sequence[str]) -> dict[str, Money]:
        """Each SKU's variant ``price`` (what the buyer pays; the compare-at is only shown)."""
        currency = await self._shop_currency()
        prices: dict[str, Money] = {}
        for chunk in batched(list(dict.fromkeys(skus)), queries.VARIANT_LOOKUP_PAGE):
            data = await self.client.graphql(
                queries.VARIANT_PRICES,
                {
                    "first": queries.VARIANT_LOOKUP_PAGE,
                    "query": " OR ".join(f"sku:{search_value(sku)}" for sku in chunk),
                },
            )
            for node in data["productVariants"]["nodes"]:
                if node.get("sku") in chunk and node.get("price") is not None:
                    prices[node["sku"]] = Money.of(Decimal(str(node["price"])), currency)
        return prices

    async def _set_prices(
        self, batch: Sequence[PriceUpdate], *, clear_compare_at: bool
    ) -> list[WriteResult]:
        """:meth:`write_prices_batch`; ``clear_compare_at`` sends a null compare-at price
        for updates without one (otherwise it is left as it is)."""
        currency = await self._shop_currency()
        results: list[WriteResult | None] = [None] * len(batch)
        found = await self._skus.lookup(self.client, (u.sku for u in batch), Lane.DEFAULT)
        by_product: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, update in enumerate(batch):
            wrong = [
                m
                for m in (update.price, update.compare_at_price)
                if m is not None and m.currency != currency
            ]
            if wrong:
                results[index] = WriteResult.failure(
                    update.sku,
                    f"price is in {wrong[0].currency} but the shop sells in {currency}",
                    code="CURRENCY_MISMATCH",
                )
                continue
            ref = SkuIndex.one(update.sku, found[update.sku])
            if isinstance(ref, str):
                results[index] = WriteResult.failure(
                    update.sku, ref, code=_sku_code(found[update.sku])
                )
                continue
            entry: dict[str, Any] = {"id": ref.variant_id, "price": str(update.price.amount)}
            if update.compare_at_price is not None:
                entry["compareAtPrice"] = str(update.compare_at_price.amount)
            elif clear_compare_at:
                entry["compareAtPrice"] = None
            by_product.setdefault(ref.product_id, []).append((index, entry))
        for product_id, entries in by_product.items():
            data = await self.client.graphql(
                queries.VARIANTS_BULK_UPDATE,
                {"productId": product_id, "variants": [e for _, e in entries]},
            )
            refused = {}
            for error in data["productVariantsBulkUpdate"].get("userErrors") or []:
                position = _error_index(error, "variants")
                targets = [position] if position is not None else range(len(entries))
                for target in targets:
                    refused[target] = error
            for position, (index, _entry) in enumerate(entries):
                error = refused.get(position)
                if error and error.get("code") in GONE_CODES:
                    self._skus.forget(batch[index].sku)
                results[index] = (
                    WriteResult.failure(
                        batch[index].sku, str(error["message"]), code=str(error.get("code"))
                    )
                    if error
                    else WriteResult.success(batch[index].sku)
                )
        return [
            r if r is not None else WriteResult.success(batch[i].sku) for i, r in enumerate(results)
        ]

    # -- webhooks --------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check ``X-Shopify-Hmac-Sha256`` over the raw body, and that it is our shop."""
        secret = self.settings.client_secret
        verify_signature(
            request.body,
            request.header(SIGNATURE_HEADER),
            secret.get_secret_value() if secret else "",
        )
        shop = request.header(SHOP_HEADER)
        if shop is not None and shop != self.settings.shop_domain:
            raise WebhookVerificationError(
                f"shopify/{self.account}: webhook is from shop {shop!r}, not "
                f"{self.settings.shop_domain!r}"
            )

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """Turn a verified delivery into events; a redelivery (same webhook id) gives none."""
        topic = request.header(TOPIC_HEADER)
        if not topic:
            raise WebhookVerificationError(
                f"shopify/{self.account}: webhook has no X-Shopify-Topic header"
            )
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise ValueError("the webhook body is not a JSON object")
        delivery = request.header(WEBHOOK_ID_HEADER)
        if delivery and not self._deliveries.first_time(delivery):
            logger.info("shopify/%s: webhook %s already seen, ignored", self.account, delivery)
            return []
        triggered = request.header(TRIGGERED_AT_HEADER)
        kind = TOPIC_EVENTS.get(topic, EventKind.OTHER)
        event: dict[str, Any] = {
            "kind": kind,
            "channel": self.name,
            "account": self.account,
            "topic": topic,
            "delivery_id": delivery,
            "raw": payload,
            "occurred_at": (
                datetime.fromisoformat(triggered.replace("Z", "+00:00")) if triggered else None
            ),
        }
        if topic.startswith("orders/"):
            event["external_id"] = _object_id(payload, "Order", topic)
        elif topic.startswith("products/"):
            event["external_id"] = _object_id(payload, "Product", topic)
        elif topic == "inventory_levels/update":
            item = mapping.gid("InventoryItem", payload["inventory_item_id"])
            event["external_id"] = item
            sku = self._skus.sku_of_item(item)
            if sku is not None:
                event["stock"] = [
                    StockLevel(
                        sku=sku,
                        location=self.locations.code_of(payload["location_id"]),
                        on_hand=int(payload.get("available") or 0),
                    )
                ]
        elif topic == "app/uninstalled":
            event["external_id"] = self.settings.shop_domain
        return [ChannelEvent(**event)]

    def webhook_record(self, event: ChannelEvent) -> dict[str, Any] | None:
        """Order and product deliveries carry the object whole, as REST JSON."""
        whole = event.topic.startswith(("orders/", "products/"))
        return event.raw if whole and event.topic != "products/delete" else None

    async def register_webhooks(self, url: str) -> list[str]:
        """Subscribe ``url`` to :data:`WEBHOOK_TOPICS` (an existing subscription is kept)."""
        subscribed = []
        for topic in self.limits.webhook_topics:
            data = await self.client.graphql(
                queries.WEBHOOK_CREATE, {"topic": topic.replace("/", "_").upper(), "url": url}
            )
            errors = data["webhookSubscriptionCreate"].get("userErrors") or []
            if errors and not all("taken" in str(e.get("message")) for e in errors):
                raise BadRequest(
                    f"subscribing {topic}: " + "; ".join(str(e.get("message")) for e in errors),
                    channel=self.name,
                    account=self.account,
                )
            subscribed.append(topic)
        return subscribed

    async def unregister_webhooks(self, url: str) -> None:
        """Delete every subscription of this app that delivers to ``url``."""
        data = await self.client.graphql(queries.WEBHOOK_LIST, {"url": url})
        for node in data["webhookSubscriptions"]["nodes"]:
            await self.client.graphql(queries.WEBHOOK_DELETE, {"id": node["id"]})
