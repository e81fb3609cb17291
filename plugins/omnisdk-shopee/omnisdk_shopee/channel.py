"""The Shopee channel: one Shopee shop seen through omnisdk's Channel contract.

Reads products (``get_item_list`` offset paging, ``get_item_base_info`` in batches of 50,
``get_model_list`` per item with variations), listed stock, and orders (``get_order_list`` in
15-day windows with cursor paging, ``get_order_detail`` in batches of 50); writes stock
(``update_stock`` with ``seller_stock``, up to 50 models of one item per call) and prices
(``update_price``); verifies and parses push messages; keeps the shop's tokens alive (refresh
at half-life under the token store's lock, the new pair persisted before use).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

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
    ConfigError,
    NotFound,
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
from omnisdk.returns import ReturnBook
from omnisdk_shopee import auth as shopee_auth
from omnisdk_shopee.client import Clock, ShopeeClient, SignatureKind, Signer
from omnisdk_shopee.errors import error_mapper
from omnisdk_shopee.mapping import (
    ListingRef,
    current_prices,
    listing_refs,
    order_from_shopee,
    product_from_shopee,
    stock_levels,
    to_decimal,
    to_json_number,
    to_money,
)
from omnisdk_shopee.returns import RETURN_WINDOW_SECONDS, read_returns
from omnisdk_shopee.settings import LIVE_BASE_URL, ShopeeSettings
from omnisdk_shopee.webhooks import (
    PUSH_TOPICS,
    SUBSCRIBED_CODES,
    encode_push,
    events_from_push,
    parse_push,
)

if TYPE_CHECKING:
    from omnisdk.hook_registry import HookHost

__all__ = ["ORDER_DETAIL_FIELDS", "ORDER_WINDOW_SECONDS", "ShopeeChannel", "time_windows"]

logger = logging.getLogger("omnisdk.shopee")

ORDER_DETAIL_FIELDS = (
    "buyer_user_id,buyer_username,recipient_address,item_list,package_list,pay_time,"
    "total_amount,note,cancel_by,cancel_reason,payment_method,shipping_carrier"
)
"""The optional ``get_order_detail`` fields the mapping reads."""

MAX_MODELS_PER_CALL = 50
"""``update_stock`` / ``update_price``: one item, at most 50 models per call."""
MAX_ITEMS_PER_INFO_CALL = 50
"""``get_item_base_info``: at most 50 item ids per call."""
DISCOUNT_ITEMS_PER_CALL = 100
"""Items per ``add_discount_item`` call (Shopee allows more; 100 keeps errors apart)."""
DISCOUNT_NAME_MAX = 150
"""The longest discount name the sandbox takes [?]."""
DISCOUNT_LEAD_TIME = timedelta(hours=1)
"""How far ahead of now a discount must start, and how long it must last at least (the
``add_discount`` field docs)."""
DISCOUNT_MAX_LENGTH = timedelta(days=180)
"""The longest a discount may last (``discount.discount_period_too_long`` beyond)."""
MAX_ORDERS_PER_DETAIL_CALL = 50
"""``get_order_detail``: at most 50 order numbers per call."""
PAGE_SIZE = 100
"""``get_item_list`` / ``get_order_list``: at most 100 per page."""

_REGION_TIMEZONES = {
    "VN": "Asia/Ho_Chi_Minh",
    "TH": "Asia/Bangkok",
    "ID": "Asia/Jakarta",
    "MY": "Asia/Kuala_Lumpur",
    "SG": "Asia/Singapore",
    "PH": "Asia/Manila",
    "TW": "Asia/Taipei",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "CO": "America/Bogota",
    "CL": "America/Santiago",
}


ORDER_WINDOW_SECONDS = 15 * 86400
"""The widest ``get_order_list`` window: 15 days (its bounds are inclusive unix seconds)."""


def time_windows(
    start: int, end: int, size: int = ORDER_WINDOW_SECONDS
) -> Iterator[tuple[int, int]]:
    """Inclusive ``(from, to)`` windows of at most ``size`` seconds covering ``[start, end]``.

    No second is left out and none is in two windows; ``start > end`` gives nothing.
    """
    if size < 1:
        raise ValueError(f"window size must be at least 1 second, got {size}")
    current = start
    while current <= end:
        upper = min(current + size, end)
        yield current, upper
        current = upper + 1


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ShopeeChannel(Channel):
    """A Shopee shop (Open Platform API v2).

    Besides the :class:`~omnisdk.channel.Channel` contract it offers the authorisation flow:
    :meth:`authorisation_url` and :meth:`exchange_code`. ``clock`` (a callable returning an
    aware datetime) is the source of signed timestamps and token ages; tests pass a sandbox's
    clock so expiry can be tested without waiting.
    """

    name: ClassVar[str] = "shopee"
    reauthorise_advice: ClassVar[str] = "authorise the shop again"
    title: ClassVar[str] = "Shopee"
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
        promotion_mechanism=PromotionMechanism.DISCOUNT_CAMPAIGN,
        promotion_lead_time=DISCOUNT_LEAD_TIME,
        stock_push_mode=StockPushMode.ABSOLUTE,
        max_stock_batch=MAX_MODELS_PER_CALL,
        max_price_batch=MAX_MODELS_PER_CALL,
        max_product_batch=MAX_ITEMS_PER_INFO_CALL,
        page_size=PAGE_SIZE,
        # Shopee publishes no per-API numbers for v2 (the v1-era figure was 1000 calls a
        # minute per shop); stay well under it and back off on error_rate_limit.
        rate=RateBudget(requests_per_second=10.0, burst=10),
        access_token_ttl=shopee_auth.ACCESS_TOKEN_TTL,
        refresh_token_ttl=shopee_auth.REFRESH_TOKEN_TTL,
        webhook_topics=tuple(PUSH_TOPICS[code] for code in SUBSCRIBED_CODES),
    )
    settings_model: ClassVar[type[ShopeeSettings]] = ShopeeSettings
    sandbox: ClassVar[str | None] = "omnisdk_shopee.sandbox.app:ShopeeSandbox"
    default_base_url: ClassVar[str | None] = LIVE_BASE_URL
    external_id_keys: ClassVar[tuple[str, ...]] = ("order_sn", "item_id")

    settings: ShopeeSettings

    retry_backoff: ClassVar[float] = 0.5
    """Seconds the HTTP layer's exponential back-off starts from (tests make it tiny)."""

    def __init__(
        self,
        settings: ShopeeSettings | Mapping[str, Any],
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
        self.signer = Signer(self.settings.partner_id, self.settings.partner_key.get_secret_value())
        self._client: ShopeeClient | None = None
        self._listings: dict[str, ListingRef] = {}
        self._token_shop_id: int | None = None
        self._returns = ReturnBook()

    # -- plumbing ----------------------------------------------------------------------------

    def create_http_client(self, **options: Any) -> HttpClient:
        """The HTTP client, on the configured request rate and the channel's back-off."""
        rate = self.limits.rate
        if self.settings.requests_per_second:
            rps = self.settings.requests_per_second
            rate = RateBudget(requests_per_second=rps, burst=max(1, int(rps)))
        return super().create_http_client(rate=rate, backoff=self.retry_backoff, **options)

    def parse_error(self, response: httpx.Response) -> ChannelError | None:
        """Shopee's error bodies (often with HTTP 200), see :func:`error_mapper`."""
        return error_mapper(response)

    @property
    def client(self) -> ShopeeClient:
        """The signed-call client of this shop."""
        if self._client is None:
            self._client = ShopeeClient(self.http, self.signer, self, clock=self.clock)
        return self._client

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        self._client = None
        await super().aclose()

    @property
    def shop_id(self) -> int:
        """The shop's id: from the settings, else learnt from the code exchange."""
        if self.settings.shop_id is not None:
            return self.settings.shop_id
        if self._token_shop_id is not None:
            return self._token_shop_id
        raise ConfigError(
            "no shop_id: set it, or authorise the shop first (exchange_code)",
            key=f"channels.{self.account}.settings.shop_id",
        )

    # -- tokens ------------------------------------------------------------------------------

    @property
    def token_keeper(self) -> TokenKeeper:
        """The keeper of this shop's tokens, on the channel's clock."""
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
        it and learns its real lifetime.
        """
        settings = self.settings
        if settings.access_token is None:
            return None
        now = self.clock()
        expires = settings.token_expires_at
        if expires is None:
            expires = now if settings.refresh_token is not None else None
        issued = min(now, expires - shopee_auth.ACCESS_TOKEN_TTL) if expires else now
        extra = {"shop_id": str(settings.shop_id)} if settings.shop_id else {}
        return Token(
            access_token=settings.access_token,
            refresh_token=settings.refresh_token,
            issued_at=issued,
            expires_at=expires,
            refresh_expires_at=settings.refresh_expires_at,
            extra=extra,
        )

    async def refresh_token(self, token: Token) -> Token:
        """Trade the single-use refresh token for a new pair (the keeper persists it)."""
        shop = self.settings.shop_id or int(token.extra.get("shop_id") or 0)
        if not shop:
            raise ConfigError(
                "cannot refresh the token without a shop_id",
                key=f"channels.{self.account}.settings.shop_id",
            )
        return await shopee_auth.refresh(self.client, token, shop_id=shop)

    async def current_access_token(self) -> str:
        """The access token to send now; a lost authorisation is reported once, then raised."""
        self._raise_if_lost()
        try:
            token = await self.token_keeper.current()
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None
        return self._use(token)

    def _use(self, token: Token) -> str:
        shop = token.extra.get("shop_id")
        if shop:
            self._token_shop_id = int(shop)
        value = token.access_token.get_secret_value()
        self.http.add_secret(value)
        return value

    async def refused_access_token(self, refused: str) -> str:
        """Shopee refused ``refused``: refresh once (unless another task already did)."""
        self._raise_if_lost()
        try:
            token = await self.token_keeper.force_refresh()
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None
        return self._use(token)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        lane: Lane = Lane.DEFAULT,
    ) -> dict[str, Any]:
        self._raise_if_lost()
        try:
            return await self.client.call(method, path, params=params, body=body, lane=lane)
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None

    # -- authorisation -----------------------------------------------------------------------

    def authorisation_url(self, redirect_url: str | None = None, *, cancel: bool = False) -> str:
        """The link the seller opens to authorise this app (valid for 5 minutes)."""
        redirect = redirect_url or self.settings.redirect_url
        if not redirect:
            raise ConfigError(
                "no redirect URL: pass one or set redirect_url",
                key=f"channels.{self.account}.settings.redirect_url",
            )
        return shopee_auth.authorisation_url(
            self.base_url, self.signer, redirect, int(self.clock().timestamp()), cancel=cancel
        )

    async def exchange_code(self, code: str, *, shop_id: int | None = None) -> Token:
        """Trade the code from the authorisation redirect for tokens and save them at once.

        A shop that needed re-authorisation works again afterwards.
        """
        shop = shop_id or self.settings.shop_id
        if shop is None:
            raise ConfigError(
                "exchange_code needs the shop_id from the redirect",
                key=f"channels.{self.account}.settings.shop_id",
            )
        async with self.tokens.token_lock(self.name, self.account):
            token = await shopee_auth.exchange_code(self.client, code, shop_id=shop)
            await self.tokens.save_token(self.name, self.account, token)
        self.http.add_secret(token.access_token.get_secret_value())
        if token.refresh_token is not None:
            self.http.add_secret(token.refresh_token.get_secret_value())
        self._keeper = None  # the next call loads the saved pair
        self._token_shop_id = shop
        self._lost = None
        return token

    async def check(self) -> ChannelInfo:
        """Call ``get_shop_info`` with the current credentials and describe the shop."""
        answer = await self._call("GET", "/api/v2/shop/get_shop_info")
        region = str(answer.get("region") or self.settings.region)
        return ChannelInfo(
            name=str(answer.get("shop_name") or f"Shopee shop {self.shop_id}"),
            currency=self.settings.currency,
            timezone=_REGION_TIMEZONES.get(region),
            details={
                "shop_id": str(self.shop_id),
                "region": region,
                "status": str(answer.get("status") or ""),
            },
        )

    # -- products and stock ------------------------------------------------------------------

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """A canonical Product from a Shopee item (see :mod:`omnisdk_shopee.mapping`)."""
        return product_from_shopee(
            raw, channel=self.name, account=self.account, currency=self.settings.currency
        )

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """A canonical Order from a ``get_order_detail`` entry."""
        return order_from_shopee(
            raw, channel=self.name, account=self.account, currency=self.settings.currency
        )

    async def _item_ids(
        self, *, updated_since: datetime | None, lane: Lane
    ) -> AsyncIterator[list[int]]:
        offset = 0
        while True:
            params: dict[str, Any] = {
                "offset": offset,
                "page_size": PAGE_SIZE,
                "item_status": list(self.settings.item_statuses),
            }
            if updated_since is not None:
                params["update_time_from"] = int(updated_since.timestamp())
                params["update_time_to"] = int(self.clock().timestamp())
            answer = await self._call(
                "GET", "/api/v2/product/get_item_list", params=params, lane=lane
            )
            page = answer.get("response") or {}
            ids = [int(entry["item_id"]) for entry in page.get("item") or []]
            if ids:
                yield ids
            if not page.get("has_next_page") or not ids:
                return
            next_offset = int(page.get("next_offset") or offset + len(ids))
            if next_offset <= offset:
                raise BadRequest(
                    f"get_item_list did not move on from offset {offset}",
                    code="paging_stuck",
                    channel=self.name,
                    account=self.account,
                )
            offset = next_offset

    async def _raw_items(
        self, item_ids: Sequence[int], lane: Lane
    ) -> AsyncIterator[dict[str, Any]]:
        """Base info (and models) of ``item_ids``, 50 per call; indexes their SKUs."""
        for chunk in batched(item_ids, MAX_ITEMS_PER_INFO_CALL):
            answer = await self._call(
                "GET",
                "/api/v2/product/get_item_base_info",
                params={"item_id_list": ",".join(map(str, chunk))},
                lane=lane,
            )
            for item in (answer.get("response") or {}).get("item_list") or []:
                raw = dict(item)
                if raw.get("has_model"):
                    models = await self._call(
                        "GET",
                        "/api/v2/product/get_model_list",
                        params={"item_id": raw["item_id"]},
                        lane=lane,
                    )
                    raw["model_info"] = models.get("response") or {}
                for ref in listing_refs(raw):
                    self._listings[ref.sku] = ref
                yield raw

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every listed item (or those changed since ``updated_since``), with its models."""
        lane = Lane.BACKFILL if updated_since is None else Lane.DEFAULT
        async for ids in self._item_ids(updated_since=updated_since, lane=lane):
            async for raw in self._raw_items(ids, lane):
                yield raw

    async def refresh_listings(self) -> dict[str, ListingRef]:
        """Re-read every listing: SKU to item/model ids and listed stock."""
        fresh: dict[str, ListingRef] = {}
        async for ids in self._item_ids(updated_since=None, lane=Lane.STOCK):
            async for raw in self._raw_items(ids, Lane.STOCK):
                for ref in listing_refs(raw):
                    fresh[ref.sku] = ref
        self._listings = fresh
        return dict(fresh)

    async def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """Listed seller stock per SKU (one level per Shopee location)."""
        wanted = list(dict.fromkeys(skus)) if skus is not None else None
        known = wanted is not None and all(sku in self._listings for sku in wanted)
        if wanted is not None and known:
            item_ids = sorted({self._listings[sku].item_id for sku in wanted})
            async for _raw in self._raw_items(item_ids, Lane.STOCK):
                pass
            refs = self._listings
        else:
            refs = await self.refresh_listings()
        for sku in wanted if wanted is not None else sorted(refs):
            ref = refs.get(sku)
            if ref is not None:
                for level in self.stock_levels_from(
                    {"item_id": ref.item_id, "model_id": ref.model_id, "sku": ref.sku},
                    partial(stock_levels, ref, channel=self.name, account=self.account),
                    sku=sku,
                ):
                    yield level

    async def _locate(self, skus: Iterable[str]) -> dict[str, ListingRef]:
        needed = set(skus)
        if not needed <= self._listings.keys():
            await self.refresh_listings()
        return {sku: self._listings[sku] for sku in needed if sku in self._listings}

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """Set seller stock: one ``update_stock`` call per item (at most 50 models each)."""
        location_default = self.settings.location_id

        def entry(update: StockUpdate, ref: ListingRef) -> tuple[Any, dict[str, Any]]:
            location = update.location or location_default
            stock: dict[str, Any] = {"stock": update.quantity}
            if location:
                stock["location_id"] = location
            return (ref.model_id, location or ""), {
                "model_id": ref.model_id,
                "seller_stock": [stock],
            }

        return await self._write_models(
            batch, "/api/v2/product/update_stock", "stock_list", entry, Lane.STOCK
        )

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """Set prices (Shopee's ``original_price``): one ``update_price`` call per item."""
        currency = self.settings.currency
        bad = {
            index: WriteResult.failure(
                update.sku,
                f"price is in {update.price.currency}, the shop sells in {currency}",
                code="currency_mismatch",
            )
            for index, update in enumerate(batch)
            if update.price.currency != currency
        }

        def entry(update: PriceUpdate, ref: ListingRef) -> tuple[Any, dict[str, Any]]:
            return (ref.model_id,), {
                "model_id": ref.model_id,
                "original_price": to_json_number(update.price.amount),
            }

        good = [update for index, update in enumerate(batch) if index not in bad]
        written = iter(
            await self._write_models(
                good, "/api/v2/product/update_price", "price_list", entry, Lane.DEFAULT
            )
        )
        return [bad[index] if index in bad else next(written) for index in range(len(batch))]

    # -- promotions: a shop discount (add_discount / add_discount_item / end_discount) -----

    def _discount_name(self, promotion: PromotionWrite) -> str:
        """The discount's name: the promotion's, with its id (how a rerun finds it again)."""
        tag = f" [{promotion.id}]"
        return promotion.name[: DISCOUNT_NAME_MAX - len(tag)] + tag

    async def _find_discount(self, name: str) -> int | None:
        """The upcoming or ongoing discount called ``name``, if any."""
        for status in ("upcoming", "ongoing"):
            page = 1
            while True:
                answer = await self._call(
                    "GET",
                    "/api/v2/discount/get_discount_list",
                    params={"discount_status": status, "page_no": page, "page_size": 100},
                )
                response = answer.get("response") or {}
                for entry in response.get("discount_list") or []:
                    if entry.get("discount_name") == name:
                        return int(entry["discount_id"])
                if not response.get("more"):
                    break
                page += 1
        return None

    async def _discount(self, discount_id: int) -> dict[str, Any] | None:
        """A discount with its items, or None when Shopee no longer knows it."""
        try:
            answer = await self._call(
                "GET", "/api/v2/discount/get_discount", params={"discount_id": discount_id}
            )
        except ChannelError as exc:
            if getattr(exc, "code", None) == "discount.error_not_found":
                return None
            raise
        return dict(answer.get("response") or {})

    async def write_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """One shop discount per promotion, its items at their promotion prices.

        Shopee starts a discount no sooner than an hour after it is created: a promotion
        that starts sooner starts on Shopee at that first possible minute (the plan says
        so). The discount is found again by its name, so a rerun (or a rerun after a crash)
        adds only what is missing and changes a price that moved.
        """
        items = promotion.items
        earliest = self.clock() + DISCOUNT_LEAD_TIME + timedelta(minutes=1)
        start = max(promotion.starts_at, earliest)
        if promotion.ends_at - start < DISCOUNT_LEAD_TIME:
            reason = (
                "too late for Shopee: a discount starts at least an hour after it is made "
                "and lasts at least an hour"
            )
            return [WriteResult.failure(i.sku, reason, code="discount_too_late") for i in items]
        if promotion.ends_at - start > DISCOUNT_MAX_LENGTH:
            reason = "too long for Shopee: a discount lasts at most 180 days"
            return [WriteResult.failure(i.sku, reason, code="discount_too_long") for i in items]
        refs = await self._locate(item.sku for item in items)
        results: list[WriteResult | None] = [None] * len(items)
        wanted: dict[tuple[int, int], int] = {}
        for index, item in enumerate(items):
            ref = refs.get(item.sku)
            if item.promoted.currency != self.settings.currency:
                results[index] = WriteResult.failure(
                    item.sku,
                    f"price is in {item.promoted.currency}, the shop sells in "
                    f"{self.settings.currency}",
                    code="currency_mismatch",
                )
            elif ref is None:
                results[index] = WriteResult.failure(
                    item.sku,
                    NotFound(f"SKU {item.sku!r} is not listed on this shop", code="sku_not_listed"),
                )
            else:
                wanted[(ref.item_id, ref.model_id)] = index
        if not wanted:
            return [r or WriteResult.failure(items[i].sku, "not written") for i, r in
                    enumerate(results)]
        name = self._discount_name(promotion)
        discount_id = await self._find_discount(name)
        if discount_id is None:
            answer = await self._call(
                "POST",
                "/api/v2/discount/add_discount",
                body={
                    "discount_name": name,
                    "start_time": int(start.timestamp()),
                    "end_time": int(promotion.ends_at.timestamp()),
                },
            )
            discount_id = int((answer.get("response") or {})["discount_id"])
        current = await self._discount(discount_id) or {}
        listed: dict[tuple[int, int], Any] = {
            (int(entry["item_id"]), int(model["model_id"])): to_decimal(
                model["model_promotion_price"]
            )
            for entry in current.get("item_list") or []
            for model in entry.get("model_list") or []
        }
        adding: dict[int, list[tuple[int, int]]] = {}
        updating: dict[int, list[tuple[int, int]]] = {}
        for key, index in wanted.items():
            price = items[index].promoted.amount
            if key not in listed:
                adding.setdefault(key[0], []).append((key[1], index))
            elif listed[key] != price:
                updating.setdefault(key[0], []).append((key[1], index))
            else:
                results[index] = WriteResult.success(items[index].sku, external_id=str(discount_id))
        for path, groups in (
            ("/api/v2/discount/add_discount_item", adding),
            ("/api/v2/discount/update_discount_item", updating),
        ):
            if groups:
                await self._discount_items(path, discount_id, groups, items, results)
        return [r or WriteResult.failure(items[i].sku, "not written", retryable=True)
                for i, r in enumerate(results)]

    async def _discount_items(
        self,
        path: str,
        discount_id: int,
        groups: dict[int, list[tuple[int, int]]],
        items: Sequence[PromotionItem],
        results: list[WriteResult | None],
    ) -> None:
        def entry(item_id: int, models: list[tuple[int, int]]) -> dict[str, Any]:
            if models == [(0, models[0][1])]:
                price = items[models[0][1]].promoted.amount
                return {"item_id": item_id, "item_promotion_price": to_json_number(price)}
            return {
                "item_id": item_id,
                "model_list": [
                    {
                        "model_id": model_id,
                        "model_promotion_price": to_json_number(items[index].promoted.amount),
                    }
                    for model_id, index in models
                ],
            }

        chosen = sorted(groups.items())
        for chunk in batched(chosen, DISCOUNT_ITEMS_PER_CALL):
            try:
                answer = await self._call(
                    "POST",
                    path,
                    body={
                        "discount_id": discount_id,
                        "item_list": [entry(item_id, models) for item_id, models in chunk],
                    },
                )
            except ChannelError as exc:
                if isinstance(exc, AuthError):
                    raise
                for _, models in chunk:
                    for _, index in models:
                        results[index] = WriteResult.failure(items[index].sku, exc)
                continue
            errors = {
                (int(e.get("item_id") or 0), int(e.get("model_id") or 0)): e
                for e in (answer.get("response") or {}).get("error_list") or []
            }
            for item_id, models in chunk:
                for model_id, index in models:
                    error = errors.get((item_id, model_id))
                    results[index] = (
                        WriteResult.failure(
                            items[index].sku,
                            str(error.get("fail_message") or "refused"),
                            code=str(error.get("fail_error") or "refused"),
                        )
                        if error
                        else WriteResult.success(items[index].sku, external_id=str(discount_id))
                    )

    async def end_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """End the promotion's discount: ``end_discount`` when it runs, ``delete_discount``
        when it has not started, nothing when it has ended (or is gone). When only some of
        its items end (an account opted out later), those are taken out of it instead."""
        items = promotion.items
        ids = {int(i.external_id) for i in items if i.external_id and i.external_id.isdigit()}
        if not ids:
            found = await self._find_discount(self._discount_name(promotion))
            ids = {found} if found is not None else set()
        refs = await self._locate(item.sku for item in items)
        ours = {(r.item_id, r.model_id) for r in refs.values()}
        try:
            for discount_id in sorted(ids):
                await self._end_discount(discount_id, ours)
        except ChannelError as exc:
            if isinstance(exc, AuthError):
                raise
            return [WriteResult.failure(item.sku, exc) for item in items]
        return [WriteResult.success(item.sku) for item in items]

    async def _end_discount(self, discount_id: int, ours: set[tuple[int, int]]) -> None:
        current = await self._discount(discount_id)
        if current is None or current.get("status") == "expired":
            return
        inside = {
            (int(entry["item_id"]), int(model["model_id"]))
            for entry in current.get("item_list") or []
            for model in entry.get("model_list") or []
        }
        if inside - ours:
            for item_id, model_id in sorted(inside & ours):
                await self._call(
                    "POST",
                    "/api/v2/discount/delete_discount_item",
                    body={"discount_id": discount_id, "item_id": item_id, "model_id": model_id},
                )
            return
        path = (
            "/api/v2/discount/end_discount"
            if current.get("status") == "ongoing"
            else "/api/v2/discount/delete_discount"
        )
        await self._call("POST", path, body={"discount_id": discount_id})

    async def read_selling_prices(self, skus: Sequence[str]) -> dict[str, Money]:
        """Each SKU's ``price_info.current_price`` (a running discount's price included)."""
        refs = await self._locate(skus)
        wanted = set(skus)
        prices: dict[str, Money] = {}
        item_ids = sorted({ref.item_id for ref in refs.values()})
        async for raw in self._raw_items(item_ids, Lane.DEFAULT):
            for sku, amount in current_prices(raw).items():
                if sku in wanted:
                    prices[sku] = to_money(amount, self.settings.currency)
        return prices

    async def _write_models(
        self,
        batch: Sequence[Any],
        path: str,
        list_name: str,
        entry: Callable[[Any, ListingRef], tuple[Any, dict[str, Any]]],
        lane: Lane,
    ) -> list[WriteResult]:
        """Group ``batch`` by item, send one call per item, and report every update."""
        refs = await self._locate(update.sku for update in batch)
        results: list[WriteResult | None] = [None] * len(batch)
        groups: dict[int, dict[Any, tuple[dict[str, Any], list[int]]]] = {}
        for index, update in enumerate(batch):
            ref = refs.get(update.sku)
            if ref is None:
                results[index] = WriteResult.failure(
                    update.sku,
                    NotFound(
                        f"SKU {update.sku!r} is not listed on this shop", code="sku_not_listed"
                    ),
                )
                continue
            key, payload = entry(update, ref)
            slot = groups.setdefault(ref.item_id, {})
            # The same model twice in one batch: the later value wins, both get its result.
            previous = slot.get(key)
            slot[key] = (payload, [*(previous[1] if previous else []), index])
        for item_id, slot in groups.items():
            payloads = [payload for payload, _ in slot.values()]
            try:
                answer = await self._call(
                    "POST", path, lane=lane, body={"item_id": item_id, list_name: payloads}
                )
            except ChannelError as exc:
                if isinstance(exc, AuthError):
                    raise
                for _, indexes in slot.values():
                    for index in indexes:
                        results[index] = WriteResult.failure(batch[index].sku, exc)
                continue
            response = answer.get("response") or {}
            failed = {
                int(row.get("model_id") or 0): str(row.get("failed_reason") or "failed")
                for row in response.get("failure_list") or []
            }
            succeeded = {
                int(row.get("model_id") or 0) for row in response.get("success_list") or []
            }
            for payload, indexes in slot.values():
                model_id = int(payload["model_id"])
                external = f"{item_id}:{model_id}"
                for index in indexes:
                    sku = batch[index].sku
                    if model_id in failed:
                        results[index] = WriteResult.failure(
                            sku, failed[model_id], code="failure_list"
                        )
                    elif model_id in succeeded:
                        results[index] = WriteResult.success(sku, external_id=external)
                    else:
                        results[index] = WriteResult.failure(
                            sku,
                            "Shopee reported neither success nor failure for this model",
                            code="no_result",
                            retryable=True,
                        )
                    if path.endswith("update_stock") and model_id not in failed:
                        self._remember_stock(sku, batch[index])
        return [
            result
            if result is not None
            else WriteResult.failure(
                batch[index].sku, "not written", code="no_result", retryable=True
            )
            for index, result in enumerate(results)
        ]

    def _remember_stock(self, sku: str, update: Any) -> None:
        ref = self._listings.get(sku)
        if ref is None or not isinstance(update, StockUpdate):
            return
        location = update.location or self.settings.location_id or next(iter(ref.stock), "")
        self._listings[sku] = ListingRef(
            ref.sku,
            ref.item_id,
            ref.model_id,
            {**ref.stock, location: update.quantity},
            ref.reserved,
        )

    # -- orders ------------------------------------------------------------------------------

    async def _order_details(self, order_sns: Sequence[str], lane: Lane) -> list[dict[str, Any]]:
        details: list[dict[str, Any]] = []
        for chunk in batched(order_sns, MAX_ORDERS_PER_DETAIL_CALL):
            answer = await self._call(
                "GET",
                "/api/v2/order/get_order_detail",
                lane=lane,
                params={
                    "order_sn_list": ",".join(chunk),
                    "response_optional_fields": ORDER_DETAIL_FIELDS,
                },
            )
            details.extend((answer.get("response") or {}).get("order_list") or [])
        return details

    async def _refresh_returns(self, lane: Lane) -> set[str]:
        """Read the returns updated since the last read (the first: ``history_days`` back)
        into the book; the orders whose returns changed."""
        now = int(self.clock().timestamp())
        skew = self.settings.clock_skew_seconds
        end = now + skew
        book = self._returns
        start = (
            book.read_until - 2 * skew
            if book.read_until is not None
            else now - self.settings.history_days * 86400
        )

        async def call(params: dict[str, Any]) -> dict[str, Any]:
            return await self._call(
                "GET", "/api/v2/returns/get_return_list", lane=lane, params=params
            )

        changed = await read_returns(book, call, time_windows(start, end, RETURN_WINDOW_SECONDS))
        book.read_until = end
        return changed

    def _with_returns(self, raw: dict[str, Any]) -> dict[str, Any]:
        """``raw`` with its order's returns under ``"returns"`` (see :mod:`.returns`)."""
        return {**raw, "returns": self._returns.of(str(raw.get("order_sn")))}

    async def fetch_orders(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Orders updated since ``updated_since``, oldest window first, each order once.

        Shopee lists at most 15 days per ``get_order_list`` call, so the span is walked in
        consecutive windows (``[from, from + 15 d]``, then from the next second on: no gap,
        no overlap). With no ``updated_since`` the walk starts ``history_days`` ago; it ends
        ``clock_skew_seconds`` past our clock, so a Shopee clock running ahead loses nothing.
        The returns updated since the last read come first (:mod:`omnisdk_shopee.returns`):
        each order carries its returns, and an order whose returns changed is yielded even
        when the order itself did not change.
        """
        now = int(self.clock().timestamp())
        end = now + self.settings.clock_skew_seconds
        if updated_since is None:
            start = now - self.settings.history_days * 86400
        else:
            start = min(int(updated_since.timestamp()), end)
        lane = Lane.ORDERS if end - start <= ORDER_WINDOW_SECONDS else Lane.BACKFILL
        refunded = await self._refresh_returns(lane)
        seen: set[str] = set()
        for window_from, window_to in time_windows(start, end, ORDER_WINDOW_SECONDS):
            cursor = ""
            while True:
                answer = await self._call(
                    "GET",
                    "/api/v2/order/get_order_list",
                    lane=lane,
                    params={
                        "time_range_field": "update_time",
                        "time_from": window_from,
                        "time_to": window_to,
                        "page_size": PAGE_SIZE,
                        "cursor": cursor,
                        "response_optional_fields": "order_status",
                    },
                )
                page = answer.get("response") or {}
                fresh = [
                    str(entry["order_sn"])
                    for entry in page.get("order_list") or []
                    if str(entry["order_sn"]) not in seen
                ]
                fresh = list(dict.fromkeys(fresh))
                for raw in await self._order_details(fresh, lane):
                    order_sn = str(raw.get("order_sn"))
                    if order_sn in seen:
                        continue
                    seen.add(order_sn)
                    yield self._with_returns(raw)
                next_cursor = str(page.get("next_cursor") or "")
                if not page.get("more"):
                    break
                if not next_cursor or next_cursor == cursor:
                    raise BadRequest(
                        "get_order_list said 'more' without a new cursor",
                        code="paging_stuck",
                        channel=self.name,
                        account=self.account,
                    )
                cursor = next_cursor
        # Orders a return changed: the order itself may not have changed since.
        for raw in await self._order_details(sorted(refunded - seen), lane):
            order_sn = str(raw.get("order_sn"))
            if order_sn not in seen:
                seen.add(order_sn)
                yield self._with_returns(raw)

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        """One ``get_order_detail`` entry by its ``order_sn`` (after a push hint)."""
        details = await self._order_details([external_id], Lane.ORDERS)
        for raw in details:
            if str(raw.get("order_sn")) == external_id:
                await self._refresh_returns(Lane.ORDERS)
                return self._with_returns(raw)
        raise NotFound(
            f"order {external_id} not found",
            code="order_not_found",
            channel=self.name,
            account=self.account,
        )

    # -- push --------------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check the push's ``Authorization`` against the registered callback URL and body.

        The URL is the configured one only: ``push_callback_url``, else the receiver's
        configured URL for this account (``request.callback_url``). Never the request's own
        URL: it is built from the client's ``Host`` header, so a push signed for any host
        would verify.
        """
        url = self.settings.push_callback_url or request.callback_url
        if not url:
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: cannot verify a push without the callback URL "
                "(set push_callback_url, or [engine] webhook_public_url)"
            )
        if not self.signer.verify_push(url, request.body, request.header("authorization")):
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: push signature does not match"
            )

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """Canonical events from a verified push (pushes for another shop yield none)."""
        message = parse_push(request.body)
        if (
            message.shop_id is not None
            and self.settings.shop_id is not None
            and message.shop_id != self.settings.shop_id
        ):
            return []
        return events_from_push(message, request.body, channel=self.name, account=self.account)

    async def lost_push_events(self) -> list[ChannelEvent]:
        """Pushes Shopee could not deliver (last 3 days), as events; each page is confirmed
        as consumed once read, so a second call returns only newer ones.

        Partner-level: it returns this app's lost pushes of every shop; those of other shops
        are confirmed but left out.
        """
        events: list[ChannelEvent] = []
        while True:
            answer = await self.client.get("/api/v2/push/get_lost_push_message", lane=Lane.ORDERS)
            page = answer.get("response") or {}
            messages = page.get("push_message_list") or []
            for message in messages:
                body = encode_push(message)
                events += self.parse_webhook(WebhookRequest(body=body))
            last = page.get("last_message_id")
            if messages and last:
                await self.client.post(
                    "/api/v2/push/confirm_consumed_lost_push_message",
                    {"last_message_id": int(last)},
                    lane=Lane.ORDERS,
                )
            if not page.get("has_next_page") or not messages:
                return events

    async def register_webhooks(self, url: str) -> list[str]:
        """Point the app's push at ``url`` and switch on the codes omnisdk acts on.

        Push configuration belongs to the app (partner), not to one shop: every shop the app
        serves pushes to the same URL. ``set_push_config_on`` takes Shopee's push codes.
        """
        await self.client.post(
            "/api/v2/push/set_app_push_config",
            {"callback_url": url, "set_push_config_on": list(SUBSCRIBED_CODES)},
            kind=SignatureKind.PUBLIC,
        )
        return [PUSH_TOPICS[code] for code in SUBSCRIBED_CODES]

    async def unregister_webhooks(self, url: str) -> None:
        """Switch off the push codes :meth:`register_webhooks` switched on."""
        await self.client.post(
            "/api/v2/push/set_app_push_config",
            {"callback_url": url, "set_push_config_off": list(SUBSCRIBED_CODES)},
            kind=SignatureKind.PUBLIC,
        )
