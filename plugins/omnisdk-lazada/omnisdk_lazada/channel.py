"""The Lazada channel: one Lazada seller seen through omnisdk's Channel contract.

Reads products (``/products/get``, 50 a page) and orders (``/orders/get`` by update time, 100
a page, items from ``/orders/items/get`` 50 orders a call). Both listings stop at an offset
ceiling (products 10,000, orders 5,000), so a span is walked in update-time windows: a window
whose total is past the ceiling is cut in two until each half fits, then paged by offset;
windows share their boundary second and records are de-duplicated by id, so none is lost or
seen twice.

Stock: Lazada's ``Quantity`` (``/product/price_quantity/update``) is the *total* stock, of
which unpaid and unshipped orders and campaigns hold part; buyers buy from the *sellable*
rest. omnisdk's listed figure is what a channel can still sell, so the channel reads sellable
stock and writes it with ``/product/stock/sellable/adjust``: a signed **delta**, applied by
Lazada to whatever is sellable at that moment, so a sale between our read and our write is
never overwritten (an absolute write would re-list the unit just sold). A delta is not
idempotent: it is sent once (``retry=False``) and, when the answer is lost, the SKUs are read
back: the figure before + delta means it landed, the figure before means it did not (sent
again), anything else is reported with ``actual`` so the engine re-decides from it. An update
without a delta is written absolutely with ``/product/stock/sellable/update``.

Prices go through ``/product/price_quantity/update`` (``<Price>``), at most 50 SKUs per XML
payload, XML-escaped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import httpx

from omnisdk.auth import Token, TokenKeeper, TokenStore
from omnisdk.channel import (
    Capability,
    Channel,
    ChannelInfo,
    ChannelLimits,
    WebhookRequest,
    WriteResult,
    batched,
)
from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    NotFound,
    PlatformUnavailable,
    RateLimited,
    ReauthorisationRequired,
    WebhookVerificationError,
)
from omnisdk.http import HttpClient, Lane, RateBudget
from omnisdk.models import (
    ChannelEvent,
    Money,
    Order,
    PriceUpdate,
    Product,
    PromotionItem,
    PromotionMechanism,
    PromotionWrite,
    StockLevel,
    StockPushMode,
    StockUpdate,
)
from omnisdk_lazada import auth as lazada_auth
from omnisdk_lazada.client import Clock, LazadaClient, Signer
from omnisdk_lazada.errors import LazadaBadRequest, error_mapper
from omnisdk_lazada.mapping import (
    SITE_TIMEZONES,
    ListingRef,
    format_time,
    listing_refs,
    order_from_lazada,
    parse_time,
    price_text,
    product_from_lazada,
    selling_price,
    stock_levels,
)
from omnisdk_lazada.settings import SITE_URLS, LazadaSettings
from omnisdk_lazada.webhooks import PUSH_TOPICS, SUBSCRIBED_TYPES, events_from_push, parse_push

if TYPE_CHECKING:
    from omnisdk.hook_registry import HookHost

__all__ = [
    "MAX_ORDERS_PER_ITEMS_CALL",
    "MAX_SKUS_PER_PAYLOAD",
    "ORDER_OFFSET_CEILING",
    "ORDER_PAGE_SIZE",
    "PRODUCT_OFFSET_CEILING",
    "PRODUCT_PAGE_SIZE",
    "LazadaChannel",
    "RawXml",
    "sku_payload",
]

logger = logging.getLogger("omnisdk.lazada")

PRODUCT_PAGE_SIZE = 50
"""``/products/get``: ``limit`` at most 50."""
ORDER_PAGE_SIZE = 100
"""``/orders/get``: ``limit`` at most 100."""
PRODUCT_OFFSET_CEILING = 10_000
"""``/products/get`` refuses an ``offset`` past this."""
ORDER_OFFSET_CEILING = 5_000
"""``/orders/get`` refuses an ``offset`` past this."""
MAX_ORDERS_PER_ITEMS_CALL = 50
"""``/orders/items/get``: at most 50 order ids."""
MAX_SKUS_PER_PAYLOAD = 50
"""``/product/price_quantity/update`` and the sellable-stock APIs: at most 50 SKUs."""
MAX_SKUS_PER_LOOKUP = 100
FULL_READ_EVERY = 60.0
"""Seconds between full listing reads made to find SKUs a lookup did not (see ``_lookup``)."""
"""``/products/get``'s ``sku_seller_list``: at most 100 seller SKUs."""
DELTA_SEND_ATTEMPTS = 3
"""Tries of a stock delta whose answer was lost or refused as too frequent."""
EPOCH = datetime(2012, 1, 1, tzinfo=UTC)
"""Before any Lazada record (the platform opened in 2012): where an unbounded walk starts."""


class RawXml(str):
    """A value already written as XML (a nested block): :func:`sku_payload` keeps it as is."""


def sku_payload(entries: Iterable[Mapping[str, Any]]) -> str:
    """The XML ``payload`` of a SKU update: one ``<Sku>`` per entry, every value escaped.

    ``entries`` map element names (``ItemId``, ``SkuId``, ``SellerSku``, ``Price``,
    ``Quantity``, ``SellableQuantity``...) to values; None values are left out.
    """
    skus = []
    for entry in entries:
        fields = "".join(
            f"<{name}>{value if isinstance(value, RawXml) else escape(str(value))}</{name}>"
            for name, value in entry.items()
            if value is not None
        )
        skus.append(f"<Sku>{fields}</Sku>")
    if not skus:
        raise ValueError("a payload needs at least one SKU")
    return f"<Request><Product><Skus>{''.join(skus)}</Skus></Product></Request>"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LazadaChannel(Channel):
    """A Lazada seller on one site (Lazada Open Platform).

    Besides the :class:`~omnisdk.channel.Channel` contract it offers :meth:`exchange_code`
    (after the seller approved the app). ``clock`` is the source of signed timestamps and
    token ages; tests pass a sandbox's clock so expiry can be tested without waiting.
    """

    name: ClassVar[str] = "lazada"
    reauthorise_advice: ClassVar[str] = "authorise the seller again"
    title: ClassVar[str] = "Lazada"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.READ_PRODUCTS,
            Capability.READ_STOCK,
            Capability.WRITE_STOCK,
            Capability.WRITE_PRICES,
            Capability.READ_ORDERS,
            Capability.READ_REFUNDS,
            Capability.WEBHOOKS,
        }
    )
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        promotion_mechanism=PromotionMechanism.DATED_SALE_PRICE,
        stock_push_mode=StockPushMode.DELTA,
        max_stock_batch=MAX_SKUS_PER_PAYLOAD,
        max_price_batch=MAX_SKUS_PER_PAYLOAD,
        max_product_batch=PRODUCT_PAGE_SIZE,
        page_size=PRODUCT_PAGE_SIZE,
        # Each API has its own QPS cap (a one-second ApiCallLimit ban past it); inventory APIs
        # allow 50 calls/s per seller. Stay well under the strictest and back off on a ban.
        rate=RateBudget(requests_per_second=10.0, burst=10),
        access_token_ttl=lazada_auth.ACCESS_TOKEN_TTL,
        refresh_token_ttl=lazada_auth.REFRESH_TOKEN_TTL,
        webhook_topics=tuple(PUSH_TOPICS[kind] for kind in SUBSCRIBED_TYPES),
    )
    settings_model: ClassVar[type[LazadaSettings]] = LazadaSettings
    sandbox: ClassVar[str | None] = "omnisdk_lazada.sandbox.app:LazadaSandbox"
    default_base_url: ClassVar[str | None] = SITE_URLS["VN"]
    external_id_keys: ClassVar[tuple[str, ...]] = ("order_id", "item_id")
    request_id_fields: ClassVar[tuple[str, ...]] = ("request_id",)

    settings: LazadaSettings

    retry_backoff: ClassVar[float] = 0.5
    """Seconds the HTTP layer's exponential back-off starts from."""

    def __init__(
        self,
        settings: LazadaSettings | Mapping[str, Any],
        *,
        account: str = "default",
        plugins: HookHost | None = None,
        tokens: TokenStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            settings, account=account, plugins=plugins, tokens=tokens, transport=transport
        )
        self.clock: Clock = clock or _utcnow
        self.signer = Signer(self.settings.app_key, self.settings.app_secret.get_secret_value())
        self._client: LazadaClient | None = None
        self._listings: dict[str, ListingRef] = {}
        self._refreshed_at = -math.inf
        self._seller_id: str | None = self.settings.seller_id
        self.product_offset_ceiling = PRODUCT_OFFSET_CEILING
        """The largest ``/products/get`` offset Lazada accepts (tests lower it)."""
        self.order_offset_ceiling = ORDER_OFFSET_CEILING
        """The largest ``/orders/get`` offset Lazada accepts (tests lower it)."""

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The site's REST base (``settings.base_url`` overrides it)."""
        return self.settings.base_url or SITE_URLS[self.settings.site]

    @property
    def currency(self) -> str:
        """The currency prices are in."""
        return self.settings.shop_currency

    def create_http_client(self, **options: Any) -> HttpClient:
        """The HTTP client, on the configured request rate and the channel's back-off."""
        rate = self.limits.rate
        if self.settings.requests_per_second:
            rps = self.settings.requests_per_second
            rate = RateBudget(requests_per_second=rps, burst=max(1, int(rps)))
        return super().create_http_client(rate=rate, backoff=self.retry_backoff, **options)

    def parse_error(self, response: httpx.Response) -> ChannelError | None:
        """Lazada's ``code != "0"`` bodies, see :func:`~omnisdk_lazada.errors.error_mapper`."""
        return error_mapper(response)

    @property
    def client(self) -> LazadaClient:
        """The signed-call client of this seller."""
        if self._client is None:
            self._client = LazadaClient(
                self.http, self.signer, self, clock=self.clock, auth_url=self.settings.auth_url
            )
        return self._client

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        self._client = None
        await super().aclose()

    # -- tokens ------------------------------------------------------------------------------

    @property
    def token_keeper(self) -> TokenKeeper:
        """The keeper of this seller's tokens, on the channel's clock."""
        if self._keeper is None:
            self._keeper = TokenKeeper(
                channel=self.name,
                account=self.account,
                store=self.tokens,
                refresh=self._refresh_and_redact,
                initial=self.initial_token(),
                clock=self.clock,
            )
        return self._keeper

    def initial_token(self) -> Token | None:
        """The token pair from the settings (used until the store holds a newer one).

        With no known expiry the access token is treated as due, so the first call refreshes
        it and learns its real lifetime; with one, it is refreshed half-way to it.
        """
        settings = self.settings
        if settings.access_token is None:
            return None
        now = self.clock()
        expires = settings.token_expires_at
        if expires is None:
            expires = now if settings.refresh_token is not None else None
        # Lazada's lifetimes vary by app (days to months): the settings do not say when the
        # token was issued, so its remaining life counts as its whole life (refresh at half).
        issued = now
        return Token(
            access_token=settings.access_token,
            refresh_token=settings.refresh_token,
            issued_at=issued,
            expires_at=expires,
            refresh_expires_at=settings.refresh_expires_at,
            extra={"seller_id": settings.seller_id} if settings.seller_id else {},
        )

    async def refresh_token(self, token: Token) -> Token:
        """Trade the refresh token for a new pair (the keeper persists it at once)."""
        return await lazada_auth.refresh(self.client, token, site=self.settings.site)

    async def current_access_token(self) -> str:
        """The access token to send now; once the authorisation is lost, every call raises."""
        self._raise_if_lost()
        try:
            token = await self.token_keeper.current()
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None
        return self._use(token)

    async def refused_access_token(self, refused: str) -> str:
        """Lazada refused ``refused``: refresh once (unless another task already did)."""
        self._raise_if_lost()
        try:
            token = await self.token_keeper.force_refresh()
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None
        return self._use(token)

    def _use(self, token: Token) -> str:
        if token.extra.get("seller_id"):
            self._seller_id = token.extra["seller_id"]
        value = token.access_token.get_secret_value()
        self.http.add_secret(value)
        if token.refresh_token is not None:
            self.http.add_secret(token.refresh_token.get_secret_value())
        return value

    async def _call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
        retry: bool = True,
    ) -> dict[str, Any]:
        self._raise_if_lost()
        try:
            return await self.client.call(method, path, params, lane=lane, retry=retry)
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None

    # -- authorisation -----------------------------------------------------------------------

    def authorisation_url(self, redirect_uri: str) -> str:
        """The link the seller opens to authorise this app."""
        return lazada_auth.authorisation_url(self.settings.app_key, redirect_uri)

    async def exchange_code(self, code: str) -> Token:
        """Trade the code from the authorisation redirect for tokens and save them at once.

        A seller that needed re-authorisation works again afterwards.
        """
        async with self.tokens.token_lock(self.name, self.account):
            token = await lazada_auth.exchange_code(self.client, code, site=self.settings.site)
            await self.tokens.save_token(self.name, self.account, token)
        self._use(token)
        self._keeper = None
        self._lost = None
        return token

    async def check(self) -> ChannelInfo:
        """Call ``/seller/get`` with the current credentials and describe the seller."""
        answer = await self._call("GET", "/seller/get")
        data = answer.get("data") or {}
        return ChannelInfo(
            name=str(data.get("name") or f"Lazada seller {data.get('seller_id', '')}"),
            currency=self.currency,
            timezone=SITE_TIMEZONES.get(self.settings.site),
            details={
                "seller_id": str(data.get("seller_id") or ""),
                "site": self.settings.site,
                "status": str(data.get("status") or ""),
            },
        )

    # -- windows over an offset ceiling -------------------------------------------------------

    async def _walk(
        self,
        page: Callable[[datetime | None, datetime | None, int], Awaitable[tuple[int, list[Any]]]],
        *,
        start: datetime | None,
        end: datetime,
        limit: int,
        ceiling: int,
    ) -> AsyncIterator[list[Any]]:
        """Pages of a listing over ``[start, end]``, cutting windows in two while their total
        is past the offset ceiling. ``page(after, before, offset)`` returns (total, records).

        Without ``start`` the whole listing is tried first, unfiltered; only when it is past
        the ceiling is it walked from :data:`EPOCH`.
        """
        windows: list[tuple[datetime | None, datetime | None]] = [(start, end if start else None)]
        while windows:
            after, before = windows.pop(0)
            total, records = await page(after, before, 0)
            if total > ceiling:
                low = after or EPOCH
                high = before or end
                if high - low > timedelta(seconds=1):
                    middle = low + (high - low) / 2
                    middle = middle.replace(microsecond=0)
                    windows[:0] = [(low, middle), (middle, high)]
                    continue
                raise BadRequest(
                    f"more than {ceiling} records updated within one second at {low.isoformat()}:"
                    " the offset ceiling cannot be walked",
                    code="offset_ceiling",
                    channel=self.name,
                    account=self.account,
                )
            offset = 0
            while True:
                if records:
                    yield records
                offset += limit
                if not records or offset >= total or len(records) < limit:
                    break
                total, records = await page(after, before, offset)

    # -- products and stock ------------------------------------------------------------------

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """A canonical Product from a ``/products/get`` entry."""
        return product_from_lazada(
            raw,
            channel=self.name,
            account=self.account,
            currency=self.currency,
            site=self.settings.site,
        )

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """A canonical Order from an ``/orders/get`` entry with its ``order_items``."""
        return order_from_lazada(
            raw,
            channel=self.name,
            account=self.account,
            currency=self.currency,
            site=self.settings.site,
        )

    async def _product_pages(
        self, *, updated_since: datetime | None, lane: Lane, extra: dict[str, Any] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        site = self.settings.site

        async def page(
            after: datetime | None, before: datetime | None, offset: int
        ) -> tuple[int, list[dict[str, Any]]]:
            params: dict[str, Any] = {
                "filter": "all",
                "offset": offset,
                "limit": PRODUCT_PAGE_SIZE,
                **(extra or {}),
            }
            if after is not None:
                params["update_after"] = format_time(after, site=site)
            if before is not None:
                params["update_before"] = format_time(before, site=site)
            answer = await self._call("GET", "/products/get", params, lane=lane)
            data = answer.get("data") or {}
            products = [p for p in data.get("products") or [] if isinstance(p, dict)]
            return int(data.get("total_products") or 0), products

        end = self.clock() + timedelta(seconds=self.settings.clock_skew_seconds)
        seen: set[str] = set()
        async for records in self._walk(
            page,
            start=updated_since,
            end=end,
            limit=PRODUCT_PAGE_SIZE,
            ceiling=self.product_offset_ceiling,
        ):
            fresh = []
            for raw in records:
                key = str(raw.get("item_id"))
                if key in seen:
                    continue
                seen.add(key)
                for ref in listing_refs(raw):
                    self._listings[ref.sku] = ref
                fresh.append(raw)
            if fresh:
                yield fresh

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every product (or those updated since ``updated_since``), each once."""
        lane = Lane.BACKFILL if updated_since is None else Lane.DEFAULT
        async for records in self._product_pages(updated_since=updated_since, lane=lane):
            for raw in records:
                yield raw

    async def refresh_listings(self) -> dict[str, ListingRef]:
        """Re-read every listing: SKU to item/SKU ids and sellable stock."""
        fresh: dict[str, ListingRef] = {}
        async for records in self._product_pages(updated_since=None, lane=Lane.STOCK):
            for raw in records:
                for ref in listing_refs(raw):
                    fresh[ref.sku] = ref
        self._listings = fresh
        self._refreshed_at = time.monotonic()
        return dict(fresh)

    async def _lookup(self, skus: Sequence[str], lane: Lane) -> dict[str, ListingRef]:
        """The listings of ``skus``, read by ``sku_seller_list`` (100 a call)."""
        found: dict[str, ListingRef] = {}
        for chunk in batched(list(dict.fromkeys(skus)), MAX_SKUS_PER_LOOKUP):
            named = [self._ids(self._listings[s])["SellerSku"] if s in self._listings else s
                     for s in chunk]
            extra = {"sku_seller_list": json.dumps(named, ensure_ascii=False)}
            async for records in self._product_pages(updated_since=None, lane=lane, extra=extra):
                for raw in records:
                    for ref in listing_refs(raw):
                        if ref.sku in chunk:
                            found[ref.sku] = ref
        self._listings.update(found)
        missing = [sku for sku in dict.fromkeys(skus) if sku not in found]
        if missing and time.monotonic() - self._refreshed_at > FULL_READ_EVERY:
            # Lazada matches sku_seller_list as stored: a SellerSku typed with an invisible
            # character is found only by reading every listing (at most once a minute).
            every = await self.refresh_listings()
            found.update({sku: every[sku] for sku in missing if sku in every})
        return found

    async def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """Sellable stock per SKU (what buyers can still buy), one level each."""
        if skus is None:
            refs = await self.refresh_listings()
            wanted = sorted(refs)
        else:
            wanted = list(dict.fromkeys(skus))
            refs = await self._lookup(wanted, Lane.STOCK)
        for sku in wanted:
            ref = refs.get(sku)
            if ref is not None:
                for level in self.stock_levels_from(
                    {"item_id": ref.item_id, "SkuId": ref.sku_id, "SellerSku": ref.sku},
                    partial(stock_levels, ref, channel=self.name, account=self.account),
                    sku=sku,
                ):
                    yield level

    async def _locate(self, skus: Iterable[str], lane: Lane) -> dict[str, ListingRef]:
        needed = list(dict.fromkeys(skus))
        missing = [sku for sku in needed if sku not in self._listings]
        if missing:
            await self._lookup(missing, lane)
        return {sku: self._listings[sku] for sku in needed if sku in self._listings}

    def _ids(self, ref: ListingRef) -> dict[str, Any]:
        return {"ItemId": ref.item_id, "SkuId": ref.sku_id, "SellerSku": ref.seller_sku or ref.sku}

    def _stock_entry(self, ref: ListingRef, quantity: int) -> dict[str, Any]:
        warehouse = self.settings.warehouse_code
        if warehouse:
            block = RawXml(
                "<MultiWarehouseInventory>"
                f"<WarehouseCode>{escape(warehouse)}</WarehouseCode>"
                f"<SellableQuantity>{int(quantity)}</SellableQuantity>"
                "</MultiWarehouseInventory>"
            )
            return {**self._ids(ref), "MultiWarehouseInventories": block}
        return {**self._ids(ref), "SellableQuantity": quantity}

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """Sellable stock: deltas through ``/product/stock/sellable/adjust`` (sent once, read
        back when the answer is lost), absolute figures through ``…/sellable/update``."""
        refs = await self._locate((u.sku for u in batch), Lane.STOCK)
        results: list[WriteResult | None] = [None] * len(batch)
        deltas: list[int] = []
        absolutes: list[int] = []
        for index, update in enumerate(batch):
            if update.sku not in refs:
                results[index] = WriteResult.failure(
                    update.sku,
                    NotFound(
                        f"SKU {update.sku!r} is not listed on this seller", code="sku_not_listed"
                    ),
                )
            elif update.delta is not None:
                deltas.append(index)
            else:
                absolutes.append(index)
        if absolutes:
            entries = [self._stock_entry(refs[batch[i].sku], batch[i].quantity) for i in absolutes]
            outcome = await self._send_payload(
                "/product/stock/sellable/update", absolutes, batch, entries, Lane.STOCK, retry=True
            )
            for index, result in outcome.items():
                results[index] = result
                if result.ok:
                    self._remember(batch[index].sku, batch[index].quantity)
        if deltas:
            for index, result in (await self._send_deltas(deltas, batch, refs)).items():
                results[index] = result
        return [
            r if r is not None else WriteResult.failure(batch[i].sku, "not written", retryable=True)
            for i, r in enumerate(results)
        ]

    async def _send_deltas(
        self, indexes: list[int], batch: Sequence[StockUpdate], refs: dict[str, ListingRef]
    ) -> dict[int, WriteResult]:
        results: dict[int, WriteResult] = {}
        pending = [i for i in indexes if batch[i].delta != 0]
        for index in indexes:
            if batch[index].delta == 0:
                results[index] = WriteResult.success(batch[index].sku)
        for attempt in range(1, DELTA_SEND_ATTEMPTS + 1):
            if not pending:
                break
            entries = [
                self._stock_entry(refs[batch[i].sku], int(batch[i].delta or 0)) for i in pending
            ]
            try:
                outcome = await self._send_payload(
                    "/product/stock/sellable/adjust",
                    pending,
                    batch,
                    entries,
                    Lane.STOCK,
                    retry=False,
                    raise_transient=True,
                )
            except RateLimited as exc:
                if attempt == DELTA_SEND_ATTEMPTS:
                    for index in pending:
                        results[index] = WriteResult.failure(batch[index].sku, exc, retryable=True)
                    break
                await asyncio.sleep(min(exc.retry_after or 1.0, 5.0))
                continue
            except PlatformUnavailable as exc:
                pending = await self._verify_deltas(pending, batch, results, exc)
                continue
            for index, result in outcome.items():
                results[index] = result
                if result.ok:
                    self._remember(batch[index].sku, batch[index].quantity)
            pending = []
        for index in pending:
            results.setdefault(
                index,
                WriteResult.failure(
                    batch[index].sku, "the delta could not be sent", retryable=True
                ),
            )
        return results

    async def _verify_deltas(
        self,
        pending: list[int],
        batch: Sequence[StockUpdate],
        results: dict[int, WriteResult],
        error: ChannelError,
    ) -> list[int]:
        """After a lost answer: which deltas landed, which did not (to send again), and which
        SKUs moved otherwise (reported with ``actual``). A lowering delta whose figure shows
        is not taken for landed: sales may have made it (reported with ``actual``)."""
        try:
            now = await self._lookup([batch[i].sku for i in pending], Lane.STOCK)
        except ChannelError:
            for index in pending:
                results[index] = WriteResult.failure(batch[index].sku, error, retryable=True)
            return []
        again: list[int] = []
        for index in pending:
            update = batch[index]
            ref = now.get(update.sku)
            before = update.quantity - int(update.delta or 0)
            if ref is None or ref.unreadable is not None:
                results[index] = WriteResult.failure(update.sku, error, retryable=True)
            elif ref.sellable == update.quantity and int(update.delta or 0) < 0:
                # A lowering delta: buyers taking as many units as it removes leave the same
                # figure whether it landed or not. Taken for landed, their sale (not ingested
                # yet) would look like units freed, and go to another channel: the figure is
                # reported instead, with the platform's answer (a refusal for now is most
                # likely not landed: the engine then holds the difference as sold unseen).
                results[index] = WriteResult.failure(
                    update.sku,
                    error,
                    code="delta_unconfirmed",
                    actual=ref.sellable,
                )
            elif ref.sellable == update.quantity:
                results[index] = WriteResult.success(
                    update.sku, external_id=f"{ref.item_id}:{ref.sku_id}"
                )
            elif ref.sellable == before:
                again.append(index)
            else:
                results[index] = WriteResult.failure(
                    update.sku,
                    f"the answer was lost and the SKU now lists {ref.sellable}",
                    code="delta_unconfirmed",
                    actual=ref.sellable,
                )
        return again

    def _remember(self, sku: str, quantity: int) -> None:
        ref = self._listings.get(sku)
        if ref is not None:
            self._listings[sku] = ListingRef(
                ref.sku, ref.item_id, ref.sku_id, quantity, ref.total, ref.warehouse,
                seller_sku=ref.seller_sku,
            )

    async def _send_payload(
        self,
        path: str,
        indexes: list[int],
        batch: Sequence[StockUpdate] | Sequence[PriceUpdate],
        entries: list[dict[str, Any]],
        lane: Lane,
        *,
        retry: bool,
        raise_transient: bool = False,
    ) -> dict[int, WriteResult]:
        """POST one XML payload per 50 entries; each index's result (per-SKU ``detail``)."""
        results: dict[int, WriteResult] = {}
        for chunk in batched(list(zip(indexes, entries, strict=True)), MAX_SKUS_PER_PAYLOAD):
            payload = sku_payload(entry for _, entry in chunk)
            try:
                await self._call("POST", path, {"payload": payload}, lane=lane, retry=retry)
            except LazadaBadRequest as exc:
                failed = {
                    str(d.get("seller_sku") or d.get("SellerSku") or ""): str(
                        d.get("message") or exc
                    )
                    for d in exc.detail
                }
                for index, _ in chunk:
                    sku = batch[index].sku
                    if failed and sku not in failed:
                        results[index] = WriteResult.success(sku)
                    else:
                        results[index] = WriteResult.failure(
                            sku, failed.get(sku) or str(exc), code=exc.code
                        )
                continue
            except (PlatformUnavailable, RateLimited):
                if raise_transient:
                    raise
                for index, _ in chunk:
                    results[index] = WriteResult.failure(
                        batch[index].sku, "Lazada did not answer", retryable=True
                    )
                continue
            except ChannelError as exc:
                if isinstance(exc, AuthError):
                    raise
                for index, _ in chunk:
                    results[index] = WriteResult.failure(batch[index].sku, exc)
                continue
            for index, entry in chunk:
                results[index] = WriteResult.success(
                    batch[index].sku, external_id=f"{entry['ItemId']}:{entry['SkuId']}"
                )
        return results

    def _price_refusal(
        self, sku: str, price: Money, refs: Mapping[str, object]
    ) -> WriteResult | None:
        """Why a price of ``sku`` cannot be written (not in the seller's currency, or the SKU
        not listed), or None."""
        if price.currency != self.currency:
            return WriteResult.failure(
                sku,
                f"price is in {price.currency}, the seller sells in {self.currency}",
                code="currency_mismatch",
            )
        if sku not in refs:
            return WriteResult.failure(
                sku, NotFound(f"SKU {sku!r} is not listed on this seller", code="sku_not_listed")
            )
        return None

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """List prices through ``/product/price_quantity/update`` (``<Price>``)."""
        refs = await self._locate((u.sku for u in batch), Lane.DEFAULT)
        results: list[WriteResult | None] = [None] * len(batch)
        sending: list[int] = []
        entries: list[dict[str, Any]] = []
        for index, update in enumerate(batch):
            refused = self._price_refusal(update.sku, update.price, refs)
            if refused is not None:
                results[index] = refused
            else:
                sending.append(index)
                entries.append({**self._ids(refs[update.sku]), "Price": price_text(update.price)})
        if sending:
            outcome = await self._send_payload(
                "/product/price_quantity/update", sending, batch, entries, Lane.DEFAULT, retry=True
            )
            for index, result in outcome.items():
                results[index] = result
        return [
            r if r is not None else WriteResult.failure(batch[i].sku, "not written", retryable=True)
            for i, r in enumerate(results)
        ]

    # -- promotions: a special price with its dates ----------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The site's local time, in which Lazada reads and shows special-price dates."""
        return ZoneInfo(SITE_TIMEZONES.get(self.settings.site, "Asia/Ho_Chi_Minh"))

    def _sale_time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    async def write_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """``Price`` = base, ``SalePrice`` = promoted, ``SaleStartDate``/``SaleEndDate`` in
        the site's local time (to the minute), through ``/product/price_quantity/update``:
        Lazada switches the special price on and off at those times."""
        window = {
            "SaleStartDate": self._sale_time(promotion.starts_at),
            "SaleEndDate": self._sale_time(promotion.ends_at),
        }
        return await self._special_prices(
            promotion,
            lambda item: {
                "Price": price_text(item.base),
                "SalePrice": price_text(item.promoted),
                **window,
            },
        )

    async def end_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """Move the special price's end to now (Lazada has no call that removes a special
        price): the buyer pays ``Price`` (= base, written too) from this minute. Ending an
        ended one again moves an end already past: the shown price stays the base."""
        now = self.clock().replace(second=0, microsecond=0)
        start = min(promotion.starts_at, now - timedelta(minutes=1))
        return await self._special_prices(
            promotion,
            lambda item: {
                "Price": price_text(item.base),
                "SalePrice": price_text(item.promoted),
                "SaleStartDate": self._sale_time(start),
                "SaleEndDate": self._sale_time(now),
            },
        )

    async def _special_prices(
        self,
        promotion: PromotionWrite,
        fields: Callable[[PromotionItem], dict[str, Any]],
    ) -> list[WriteResult]:
        items = promotion.items
        refs = await self._locate((item.sku for item in items), Lane.DEFAULT)
        keys = [PriceUpdate(sku=item.sku, price=item.promoted) for item in items]
        results: list[WriteResult | None] = [None] * len(items)
        sending: list[int] = []
        entries: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            refused = self._price_refusal(item.sku, item.base, refs)
            if refused is not None:
                results[index] = refused
            elif item.promoted >= item.base:
                results[index] = WriteResult.failure(
                    item.sku,
                    "Lazada takes a special price only below the price (nothing is taken off)",
                    code="4119",
                )
            else:
                sending.append(index)
                entries.append({**self._ids(refs[item.sku]), **fields(item)})
        if sending:
            outcome = await self._send_payload(
                "/product/price_quantity/update", sending, keys, entries, Lane.DEFAULT,
                retry=True,
            )
            for index, result in outcome.items():
                results[index] = result
        return [
            r if r is not None else WriteResult.failure(items[i].sku, "not written", retryable=True)
            for i, r in enumerate(results)
        ]

    async def read_selling_prices(self, skus: Sequence[str]) -> dict[str, Money]:
        """Each SKU's ``special_price`` while :attr:`clock` is within ``special_from_time``
        and ``special_to_time`` (local times of the site), else its ``price``."""
        prices: dict[str, Money] = {}
        now = self.clock()
        for chunk in batched(list(dict.fromkeys(skus)), MAX_SKUS_PER_LOOKUP):
            extra = {"sku_seller_list": json.dumps(list(chunk), ensure_ascii=False)}
            async for records in self._product_pages(
                updated_since=None, lane=Lane.DEFAULT, extra=extra
            ):
                for raw in records:
                    for sku in raw.get("skus") or []:
                        seller_sku = str(sku.get("SellerSku") or "")
                        if seller_sku in chunk:
                            prices[seller_sku] = selling_price(
                                sku, self.currency, self.zone, now
                            )
        return prices

    # -- orders ------------------------------------------------------------------------------

    async def _with_items(self, orders: list[dict[str, Any]], lane: Lane) -> list[dict[str, Any]]:
        """``orders`` with their items under ``order_items`` (50 orders per items call)."""
        items: dict[str, list[dict[str, Any]]] = {}
        ids = [str(order["order_id"]) for order in orders]
        for chunk in batched(ids, MAX_ORDERS_PER_ITEMS_CALL):
            answer = await self._call(
                "GET", "/orders/items/get", {"order_ids": f"[{','.join(chunk)}]"}, lane=lane
            )
            for entry in answer.get("data") or []:
                items[str(entry.get("order_id"))] = list(entry.get("order_items") or [])
        return [{**order, "order_items": items.get(str(order["order_id"]), [])} for order in orders]

    async def fetch_orders(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Orders updated since ``updated_since`` (default: ``history_days`` ago), each once.

        ``/orders/get`` by ``update_after``/``update_before``, oldest first; a window past the
        5,000 offset ceiling is cut in two until each half can be paged.
        """
        now = self.clock()
        end = now + timedelta(seconds=self.settings.clock_skew_seconds)
        start = updated_since or now - timedelta(days=self.settings.history_days)
        start = min(start, end)
        lane = Lane.ORDERS if end - start <= timedelta(days=2) else Lane.BACKFILL
        site = self.settings.site

        async def page(
            after: datetime | None, before: datetime | None, offset: int
        ) -> tuple[int, list[dict[str, Any]]]:
            params: dict[str, Any] = {
                "update_after": format_time(after or start, site=site),
                "update_before": format_time(before or end, site=site),
                "sort_by": "updated_at",
                "sort_direction": "ASC",
                "offset": offset,
                "limit": ORDER_PAGE_SIZE,
            }
            answer = await self._call("GET", "/orders/get", params, lane=lane)
            data = answer.get("data") or {}
            orders = [o for o in data.get("orders") or [] if isinstance(o, dict)]
            return int(data.get("countTotal") or 0), orders

        seen: set[str] = set()
        async for records in self._walk(
            page, start=start, end=end, limit=ORDER_PAGE_SIZE, ceiling=self.order_offset_ceiling
        ):
            fresh = []
            for raw in records:
                key = str(raw.get("order_id"))
                if key not in seen:
                    seen.add(key)
                    fresh.append(raw)
            for raw in await self._with_items(fresh, lane) if fresh else []:
                yield raw

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        """One order with its items (``/order/get`` + ``/order/items/get``)."""
        answer = await self._call("GET", "/order/get", {"order_id": external_id}, lane=Lane.ORDERS)
        order = answer.get("data")
        if not isinstance(order, dict) or not order.get("order_id"):
            raise NotFound(
                f"order {external_id} not found",
                code="order_not_found",
                channel=self.name,
                account=self.account,
            )
        items = await self._call(
            "GET", "/order/items/get", {"order_id": external_id}, lane=Lane.ORDERS
        )
        return {**order, "order_items": list(items.get("data") or [])}

    # -- push --------------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check the push ``Authorization``: HMAC(app secret, app key + raw body)."""
        if not self.signer.verify_push(request.body, request.header("authorization")):
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: push signature does not match"
            )

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """Canonical events from a verified push (pushes for another seller yield none)."""
        message = parse_push(request.body)
        if (
            message.seller_id is not None
            and self._seller_id is not None
            and message.seller_id != self._seller_id
        ):
            return []
        return events_from_push(
            message, request.body, channel=self.name, account=self.account, site=self.settings.site
        )

    def order_time(self, value: Any) -> datetime:
        """Any Lazada date as an aware datetime (see :func:`omnisdk_lazada.mapping.parse_time`)."""
        return parse_time(value, site=self.settings.site)
