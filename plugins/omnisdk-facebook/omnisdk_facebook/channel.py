"""The Facebook channel: one Meta product catalog seen through omnisdk's Channel contract.

What it is for (see the plugin README): Meta removed the Commerce Order API (removed from all
Graph versions on 2026-10-27) and Vietnam has had no Facebook Shops checkout since 2023. What
merchants use is the **catalog** behind Advantage+ catalog ads, product tags and the
Messenger/Instagram/WhatsApp catalogs, and **selling in chat**. So the channel reads and
writes the catalog and takes no orders: chat orders are recorded by the app through
``Engine.record_order`` with this channel's account as their source (see
:mod:`omnisdk_facebook.chat`), and move stock like any other order.

Reads: ``GET /{catalog_id}/products`` (cursor paging, :data:`PAGE_SIZE` a page). Writes: the
``items_batch`` endpoint, up to 5000 requests a call, followed through
``check_batch_request_status`` to completion (:mod:`omnisdk_facebook.batch`). Stock is
``quantity_to_sell_on_facebook`` with the matching ``availability``, written as an absolute
figure (Meta has no compare-and-swap and no delta); an ``UPDATE`` for a SKU the catalog does
not hold is refused per item (``allow_upsert=false``) rather than creating a half item.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from omnisdk.channel import (
    Capability,
    Channel,
    ChannelInfo,
    ChannelLimits,
    WebhookRequest,
    WriteResult,
    batched,
)
from omnisdk.errors import ChannelError, WebhookVerificationError
from omnisdk.http import HttpClient, Lane, RateBudget
from omnisdk.models import (
    Money,
    PriceUpdate,
    Product,
    PromotionItem,
    PromotionMechanism,
    PromotionWrite,
    StockLevel,
    StockPushMode,
    StockUpdate,
    canonical_sku,
)
from omnisdk_facebook import webhooks
from omnisdk_facebook.batch import MAX_BATCH_REQUESTS, BatchRequest, ItemOutcome, run_batch
from omnisdk_facebook.client import GraphClient
from omnisdk_facebook.errors import error_mapper
from omnisdk_facebook.mapping import (
    ITEM_FIELDS,
    PROMOTION_FIELDS,
    STOCK_FIELDS,
    availability_for,
    group_items,
    item_data,
    price_text,
    product_from_items,
    selling_price,
    stock_level,
)
from omnisdk_facebook.settings import GRAPH_URL, FacebookSettings
from omnisdk_facebook.usage import Usage, read_usage

if TYPE_CHECKING:
    from omnisdk.auth import TokenStore
    from omnisdk.hook_registry import HookHost

__all__ = ["PAGE_SIZE", "SKUS_PER_FILTER", "FacebookChannel"]

logger = logging.getLogger("omnisdk.facebook")

PAGE_SIZE = 100
"""Items per ``/products`` page the channel asks for."""
SKUS_PER_FILTER = 100
"""Retailer ids per ``filter={"retailer_id": {"is_any": [...]}}`` stock read."""


class FacebookChannel(Channel):
    """A Meta product catalog (Graph API), for catalog ads, product tags and chat
    catalogs. It takes no orders: see :mod:`omnisdk_facebook.chat`.

    Besides the contract it offers :meth:`answer_subscription` (the webhook handshake) and
    :meth:`verify_webhook` (``X-Hub-Signature-256``) for the app that receives Messenger and
    comment deliveries, and :attr:`last_usage`, what Meta's usage headers said last.
    """

    name: ClassVar[str] = "facebook"
    title: ClassVar[str] = "Facebook catalog"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.READ_PRODUCTS,
            Capability.WRITE_PRODUCTS,
            Capability.READ_STOCK,
            Capability.WRITE_STOCK,
            Capability.WRITE_PRICES,
        }
    )
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        stock_push_mode=StockPushMode.ABSOLUTE,
        max_stock_batch=MAX_BATCH_REQUESTS,
        max_price_batch=MAX_BATCH_REQUESTS,
        # Each product is one request per variant: 1000 products of up to 5 variants fit.
        max_product_batch=1000,
        page_size=PAGE_SIZE,
        # System-user tokens are limited per business use case (catalog_management,
        # catalog_batch), announced in the usage headers the client reads; this is a floor.
        rate=RateBudget(requests_per_second=5.0, burst=5),
        # Catalog items carry sale_price with sale_price_effective_date.
        promotion_mechanism=PromotionMechanism.DATED_SALE_PRICE,
    )
    settings_model: ClassVar[type[FacebookSettings]] = FacebookSettings
    sandbox: ClassVar[str | None] = "omnisdk_facebook.sandbox.app:FacebookSandbox"
    default_base_url: ClassVar[str | None] = GRAPH_URL
    external_id_keys: ClassVar[tuple[str, ...]] = ("id", "retailer_id")
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-fb-trace-id", "x-fb-request-id")

    settings: FacebookSettings

    def __init__(
        self,
        settings: FacebookSettings | Mapping[str, Any],
        *,
        account: str = "default",
        plugins: HookHost | None = None,
        tokens: TokenStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            settings, account=account, plugins=plugins, tokens=tokens, transport=transport
        )
        self._graph: GraphClient | None = None
        self.last_usage: Usage | None = None
        """What Meta's usage headers reported on the latest answer (None: none yet)."""
        self.link_template: str | None = self.settings.link_template
        """The product page link of new items, ``{sku}`` replaced by the URL-quoted SKU."""
        self.clock: Callable[[], datetime] = _utcnow
        """The time a sale price's effective dates are compared with when prices are read
        (tests point it at a sandbox's clock)."""

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def catalog_id(self) -> str:
        """The catalog this channel lists in."""
        return self.settings.catalog_id

    @property
    def currency(self) -> str:
        """The currency the catalog's prices are in."""
        return self.settings.currency

    def create_http_client(self, **options: Any) -> HttpClient:
        """The HTTP client, on the configured request rate."""
        rate = self.limits.rate
        if self.settings.requests_per_second:
            rps = self.settings.requests_per_second
            rate = RateBudget(requests_per_second=rps, burst=max(1, int(rps)))
        return super().create_http_client(rate=rate, **options)

    def parse_error(self, response: httpx.Response) -> ChannelError | None:
        """Graph error bodies (:func:`~omnisdk_facebook.errors.error_mapper`); on every answer
        the usage headers too: near a limit the account's requests pause."""
        usage = read_usage(response.headers)
        if usage is not None:
            self.last_usage = usage
            wait = usage.pause()
            if wait > 0 and self._http is not None:
                logger.info(
                    "%s/%s: Meta reports %.0f %% of a limit used (%s); pausing %.1f s",
                    self.name, self.account, usage.highest, usage.use_case or "app", wait,
                )
                self._http.limiter.pause(wait)
        return error_mapper(response)

    @property
    def graph(self) -> GraphClient:
        """The Graph client of this catalog's app and token."""
        if self._graph is None:
            self._graph = GraphClient(
                self.http,
                api_version=self.settings.api_version,
                access_token=self.settings.access_token.get_secret_value(),
                app_secret=self.settings.app_secret.get_secret_value(),
            )
        return self._graph

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        self._graph = None
        await super().aclose()

    async def check(self) -> ChannelInfo:
        """Read the catalog node: proof the token, the proof and the catalog id work."""
        node = await self.graph.get(
            self.catalog_id, params={"fields": "id,name,vertical,product_count"}
        )
        details = {"catalog_id": self.catalog_id, "api_version": self.settings.api_version}
        for key in ("vertical", "product_count"):
            if node.get(key) is not None:
                details[key] = str(node[key])
        return ChannelInfo(
            name=str(node.get("name") or self.catalog_id), currency=self.currency,
            details=details,
        )

    # -- reading -----------------------------------------------------------------------------

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every catalog item, as product records (variants grouped).

        Meta's item list has no change filter, so ``updated_since`` reads everything. An item
        without a group is yielded with its page; items of a group are held until the end
        (a group's items may be on different pages), so memory grows with grouped items only.
        """
        grouped: list[dict[str, Any]] = []
        params = {"fields": ITEM_FIELDS, "limit": PAGE_SIZE}
        async for page in self.graph.pages(self.catalog_id, "products", params, lane=Lane.BACKFILL):
            for item in page:
                self.platform_skus.learn(item.get("retailer_id"))
                if item.get("retailer_product_group_id"):
                    grouped.append(item)
                else:
                    for record in group_items([item]):
                        yield record
        for record in group_items(grouped):
            yield record

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """A product record (:func:`~omnisdk_facebook.mapping.product_from_items`)."""
        return product_from_items(raw, channel=self.name, account=self.account)

    def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """Listed stock (``quantity_to_sell_on_facebook``) of ``skus``, or of every item
        (Meta filters by the retailer id as stored: see ``Channel.stock_of_skus``)."""
        return self.stock_of_skus(skus, self._stock_levels, per_call=SKUS_PER_FILTER)

    async def _stock_levels(self, names: list[str] | None) -> AsyncIterator[StockLevel]:
        params: dict[str, Any] = {"fields": STOCK_FIELDS, "limit": PAGE_SIZE}
        if names is not None:
            params["filter"] = {"retailer_id": {"is_any": names}}
        async for page in self.graph.pages(self.catalog_id, "products", params, lane=Lane.STOCK):
            for item in page:
                sku = self.platform_skus.learn(item.get("retailer_id"))
                for level in self.stock_levels_from(
                    item,
                    partial(stock_level, item, channel=self.name, account=self.account),
                    sku=sku,
                ):
                    yield level

    # -- writing -----------------------------------------------------------------------------

    async def _send(
        self, requests: list[BatchRequest], *, allow_upsert: bool, lane: Lane
    ) -> list[ItemOutcome]:
        return await run_batch(
            self.graph, self.catalog_id, requests, allow_upsert=allow_upsert,
            within=self.settings.batch_timeout, lane=lane,
        )

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """``quantity_to_sell_on_facebook`` and ``availability`` per SKU, in one items batch."""
        requests = [
            BatchRequest(
                "UPDATE",
                {
                    "id": self.platform_skus.platform(update.sku),
                    "quantity_to_sell_on_facebook": update.quantity,
                    "availability": availability_for(update.quantity),
                },
            )
            for update in batch
        ]
        outcomes = await self._send(requests, allow_upsert=False, lane=Lane.STOCK)
        return [_result(outcome) for outcome in outcomes]

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """``price`` (and ``sale_price`` for a compare-at price) per SKU, as ``"150000 VND"``."""
        results: list[WriteResult | None] = [None] * len(batch)
        requests: list[BatchRequest] = []
        sent: list[int] = []
        for index, update in enumerate(batch):
            if update.price.currency != self.currency:
                results[index] = WriteResult.failure(
                    update.sku,
                    f"price is in {update.price.currency}, the catalog sells in {self.currency}",
                    code="currency_mismatch",
                )
                continue
            data: dict[str, Any] = {
                "id": self.platform_skus.platform(update.sku),
                "price": price_text(update.price),
            }
            compare = update.compare_at_price
            if compare is not None and compare.currency == self.currency and compare > update.price:
                data.update(price=price_text(compare), sale_price=price_text(update.price))
            requests.append(BatchRequest("UPDATE", data))
            sent.append(index)
        outcomes = await self._send(requests, allow_upsert=False, lane=Lane.DEFAULT)
        for index, outcome in zip(sent, outcomes, strict=True):
            results[index] = _result(outcome)
        return [r if r is not None else WriteResult.failure(batch[i].sku, "not written")
                for i, r in enumerate(results)]

    # -- promotions: sale_price with sale_price_effective_date ----------------------------

    async def write_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """Per SKU: ``price`` = base, ``sale_price`` = promoted and
        ``sale_price_effective_date`` = ``START/END`` (ISO 8601 with offsets), in items
        batches; Meta shows the sale price between those times by itself."""
        window = (
            f"{promotion.starts_at.isoformat(timespec='minutes')}/"
            f"{promotion.ends_at.isoformat(timespec='minutes')}"
        )
        return await self._promotion_batch(
            promotion,
            lambda item: {
                "price": price_text(item.base),
                "sale_price": price_text(item.promoted),
                "sale_price_effective_date": window,
            },
        )

    async def end_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """Per SKU: ``price`` = base, ``sale_price`` and its dates cleared (empty)."""
        return await self._promotion_batch(
            promotion,
            lambda item: {
                "price": price_text(item.base),
                "sale_price": "",
                "sale_price_effective_date": "",
            },
        )

    async def _promotion_batch(
        self,
        promotion: PromotionWrite,
        fields: Callable[[PromotionItem], dict[str, Any]],
    ) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(promotion.items)
        requests: list[BatchRequest] = []
        sent: list[int] = []
        for index, item in enumerate(promotion.items):
            if item.base.currency != self.currency:
                results[index] = WriteResult.failure(
                    item.sku,
                    f"price is in {item.base.currency}, the catalog sells in {self.currency}",
                    code="currency_mismatch",
                )
                continue
            requests.append(BatchRequest("UPDATE", {"id": item.sku, **fields(item)}))
            sent.append(index)
        for chunk_start in range(0, len(requests), MAX_BATCH_REQUESTS):
            chunk = requests[chunk_start:chunk_start + MAX_BATCH_REQUESTS]
            outcomes = await self._send(chunk, allow_upsert=False, lane=Lane.DEFAULT)
            for index, outcome in zip(
                sent[chunk_start:chunk_start + MAX_BATCH_REQUESTS], outcomes, strict=True
            ):
                results[index] = _result(outcome)
        return [r if r is not None else WriteResult.failure(promotion.items[i].sku, "not written")
                for i, r in enumerate(results)]

    async def read_selling_prices(self, skus: Sequence[str]) -> dict[str, Money]:
        """``sale_price`` while :attr:`clock` is within its start and end dates (or when it
        has none), else ``price``, read from ``/products``."""
        prices: dict[str, Money] = {}
        now = self.clock()
        for chunk in batched(dict.fromkeys(skus), SKUS_PER_FILTER):
            params: dict[str, Any] = {
                "fields": PROMOTION_FIELDS,
                "limit": PAGE_SIZE,
                "filter": {"retailer_id": {"is_any": chunk}},
            }
            async for page in self.graph.pages(self.catalog_id, "products", params):
                for item in page:
                    sku = item.get("retailer_id")
                    if sku in chunk:
                        prices[sku] = selling_price(item, now)
        return prices

    async def write_products_batch(self, batch: Sequence[Product]) -> list[WriteResult]:
        """Create or update each product's variants as items (``allow_upsert``); a product is
        written when every one of its variants is."""
        requests: list[BatchRequest] = []
        owners: list[int] = []
        results: list[WriteResult | None] = [None] * len(batch)
        for index, product in enumerate(batch):
            wrong = [v.sku for v in product.variants if v.price.currency != self.currency]
            if wrong:
                results[index] = WriteResult.failure(
                    product.skus[0],
                    f"variants {', '.join(wrong)} are not priced in {self.currency}",
                    code="currency_mismatch",
                )
                continue
            for variant in product.variants:
                data = item_data(product, variant, link_template=self.link_template)
                requests.append(BatchRequest("UPDATE", data))
                owners.append(index)
        outcomes: list[ItemOutcome] = []
        for chunk in batched(list(range(len(requests))), MAX_BATCH_REQUESTS):
            try:
                outcomes += await self._send(
                    [requests[i] for i in chunk], allow_upsert=True, lane=Lane.DEFAULT
                )
            except ChannelError as exc:
                outcomes += [
                    ItemOutcome(requests[i].retailer_id, False, str(exc), None, exc.retryable)
                    for i in chunk
                ]
        failures: dict[int, list[ItemOutcome]] = {}
        for owner, outcome in zip(owners, outcomes, strict=True):
            if not outcome.ok:
                failures.setdefault(owner, []).append(outcome)
        for index, product in enumerate(batch):
            if results[index] is not None:
                continue
            bad = failures.get(index)
            if not bad:
                results[index] = WriteResult.success(product.skus[0])
            else:
                text = "; ".join(f"{o.retailer_id}: {o.error}" for o in bad)
                results[index] = WriteResult.failure(
                    product.skus[0], text, code=bad[0].code,
                    retryable=all(o.retryable for o in bad),
                )
        return [r if r is not None else WriteResult.failure(batch[i].skus[0], "not written")
                for i, r in enumerate(results)]

    # -- webhooks (for the app that takes chat orders; the engine reads none) ---------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body, keyed by the app secret)."""
        secret = self.settings.app_secret.get_secret_value()
        if not webhooks.verify_signature(secret, request.body, request.header(
                webhooks.SIGNATURE_HEADER)):
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: X-Hub-Signature-256 does not match the body"
            )

    def answer_subscription(self, query: Mapping[str, str]) -> str:
        """The body of the answer to Meta's subscription handshake (``hub.challenge``).

        Raises :class:`~omnisdk.errors.WebhookVerificationError` (answer 403) when
        ``hub.verify_token`` is not this account's ``verify_token``.
        """
        token = self.settings.verify_token
        return webhooks.answer_challenge(query, token.get_secret_value() if token else None)


def _result(outcome: ItemOutcome) -> WriteResult:
    sku = canonical_sku(outcome.retailer_id) or outcome.retailer_id
    if outcome.ok:
        return WriteResult.success(sku)
    return WriteResult.failure(
        sku, outcome.error or "refused", code=outcome.code,
        retryable=outcome.retryable,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)
