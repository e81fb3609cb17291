"""The Channel contract: what a channel plugin implements, and what the engine relies on.

A channel class describes one platform (Shopify, Shopee, a POS...). An instance talks to one
*account* on it (one shop). The engine never checks types: it reads a channel's
:class:`Capability` set and :class:`ChannelLimits` and acts on them.

A plugin author subclasses :class:`Channel`, declares ``name``, ``capabilities``, ``limits``
and ``settings_model``, and implements the methods its capabilities promise. **Plugins fetch,
the core maps**: a plugin's ``fetch_products``/``fetch_orders``/``fetch_customers`` yield raw
platform records page by page and ``fetch_order`` returns one; the base class's
``stream_*``/``get_order`` map each record through the mapping hooks (default: the plugin's
``parse_*``), quarantine what cannot be mapped through ``omnisdk_record_rejected`` and count
both in :attr:`Channel.mapping_stats`. Writes go through :meth:`Channel.write_stock` and
friends, which split work into the platform's largest batches and turn a failed batch into
per-item failures so one bad item never fails the others.
"""

from __future__ import annotations

import enum
import itertools
import logging
import math
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from omnisdk.auth import MemoryTokenStore, Token, TokenKeeper, TokenStore
from omnisdk.errors import (
    ChannelError,
    ConfigError,
    Conflict,
    MappingError,
    OmnisdkError,
    PluginError,
    ReauthorisationRequired,
    UnsupportedOperation,
    WebhookBodyError,
)
from omnisdk.hook_registry import HookHost, default_hook_registry
from omnisdk.http import (
    DEFAULT_REQUEST_ID_FIELDS,
    DEFAULT_REQUEST_ID_HEADERS,
    HttpClient,
    RateBudget,
    RateLimiterFactory,
)
from omnisdk.models import (
    ChannelEvent,
    Customer,
    EventKind,
    Location,
    Money,
    Order,
    OrderStatus,
    PriceUpdate,
    Product,
    PromotionMechanism,
    PromotionWrite,
    StockLevel,
    StockPushMode,
    StockUpdate,
    canonical_sku,
)
from omnisdk.refusals import RefusalCountFactory

__all__ = [
    "Capability",
    "Channel",
    "ChannelInfo",
    "ChannelLimits",
    "ChannelSettings",
    "MappingStats",
    "OrderUpdate",
    "PlatformSkus",
    "RecordCounts",
    "RecordKind",
    "WebhookRequest",
    "WriteResult",
]

logger = logging.getLogger("omnisdk.channel")

T = TypeVar("T")
Item = TypeVar("Item", StockUpdate, PriceUpdate, Product)
Mapped = TypeVar("Mapped", Product, Order, Customer)

RecordKind = Literal["product", "order", "customer", "stock"]
"""The kinds of raw record the core maps or sets aside (the ``kind`` of
``omnisdk_record_rejected``); ``"stock"`` is a listed figure :meth:`Channel.stock_levels_from`
could not read."""

_ORDER_EVENTS = frozenset(
    {EventKind.ORDER_CREATED, EventKind.ORDER_UPDATED, EventKind.ORDER_CANCELLED}
)


class Capability(enum.StrEnum):
    """Something a channel can do. The engine asks for capabilities, never for types."""

    READ_PRODUCTS = "read_products"
    WRITE_PRODUCTS = "write_products"
    READ_STOCK = "read_stock"
    WRITE_STOCK = "write_stock"
    WRITE_PRICES = "write_prices"
    READ_ORDERS = "read_orders"
    WRITE_ORDERS = "write_orders"
    """Update an order's status or fulfilment (ship, tracking number, cancel)."""
    READ_CUSTOMERS = "read_customers"
    READ_LOCATIONS = "read_locations"
    WEBHOOKS = "webhooks"
    """The platform pushes events; the channel can verify and parse them."""
    READ_REFUNDS = "read_refunds"
    """Orders read from the platform carry what was paid back (``Order.refund_total``, every
    partial refund or return added up), so the sales report's refunds and net are the
    platform's."""


class ChannelLimits(BaseModel):
    """What a platform allows, as data the engine acts on (and the docs tables are made of).

    ``stock_push_mode`` is the strongest way the platform takes a stock figure. Batch sizes are
    the most items one API call accepts. ``rate`` is the request budget per account.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    stock_push_mode: StockPushMode = StockPushMode.ABSOLUTE
    max_stock_batch: int = Field(default=1, ge=1)
    max_price_batch: int = Field(default=1, ge=1)
    max_product_batch: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1)
    rate: RateBudget = RateBudget(requests_per_second=2.0, burst=2)
    access_token_ttl: timedelta | None = None
    refresh_token_ttl: timedelta | None = None
    webhook_topics: tuple[str, ...] = ()
    promotion_mechanism: PromotionMechanism | None = None
    """How the platform expresses a time-limited price cut; None: it cannot, and a promotion
    plan says so for the channel instead of silently leaving its price as it is."""
    promotion_lead_time: timedelta | None = None
    """How long before its start a promotion must reach the platform (None: any time); a
    promotion written later starts there that much after it was written, and the plan
    says so."""


class ChannelSettings(BaseModel):
    """Base of every channel's settings model (the ``[[channels]]`` entry in omnisdk.toml).

    Plugins subclass it and declare their credentials as :class:`~pydantic.SecretStr` so they
    never appear in reprs, logs or errors. ``base_url`` points the channel at a sandbox or a
    regional endpoint.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    base_url: str | None = None
    """Where the platform's API is: a regional endpoint, or a sandbox (unset: the platform's
    production URL)."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds one HTTP request to the platform may take."""
    max_attempts: int = Field(default=5, ge=1)
    """Tries per request, with backoff that honours ``Retry-After``, before the error is
    raised (stock writes are tried once: the pusher retries them from a fresh figure)."""
    reauth_after: int = Field(default=3, ge=1)
    """Requests in a row the platform may refuse for authorisation (401/403 or its own auth
    error) before the account is marked ``needs_reauth``; any success resets the count."""

    def secret_values(self) -> list[str]:
        """The plain values of every secret field, so the HTTP layer can redact them."""
        return [
            value.get_secret_value()
            for value in self.__dict__.values()
            if isinstance(value, SecretStr) and value.get_secret_value()
        ]


class ChannelInfo(BaseModel):
    """What :meth:`Channel.check` learnt about the account: proof the credentials work."""

    model_config = ConfigDict(extra="forbid")

    name: str
    currency: str | None = None
    timezone: str | None = None
    details: dict[str, str] = Field(default_factory=dict)


class WriteResult(BaseModel):
    """The outcome of one item in a batch write.

    ``key`` is the SKU (or the product's first SKU). On failure ``error`` says why and ``code``
    is the platform's code; ``retryable`` tells whether trying again may help; ``status`` is
    the HTTP status the platform answered the failed call with (None: no answer came). For a
    lost compare-and-swap, ``actual`` is what the platform holds now.
    """

    model_config = ConfigDict(extra="forbid")

    key: str
    ok: bool
    external_id: str | None = None
    error: str | None = None
    code: str | None = None
    retryable: bool = False
    actual: int | None = None
    status: int | None = None

    @classmethod
    def success(cls, key: str, *, external_id: str | None = None) -> WriteResult:
        """A successful item."""
        return cls(key=key, ok=True, external_id=external_id)

    @classmethod
    def failure(cls, key: str, error: str | BaseException, *, code: str | None = None,
                retryable: bool | None = None, actual: int | None = None) -> WriteResult:
        """A failed item; an exception's message, code, retryability and HTTP status are used
        when given."""
        status = None
        if isinstance(error, BaseException):
            answered = getattr(error, "status", None)
            status = answered if isinstance(answered, int) else None
            code = code or getattr(error, "code", None)
            if retryable is None:
                retryable = bool(getattr(error, "retryable", False))
            if actual is None and isinstance(error, Conflict):
                actual = error.actual
            error = str(error) or type(error).__name__
        return cls(key=key, ok=False, error=error, code=code, retryable=bool(retryable),
                   actual=actual, status=status)


class OrderUpdate(BaseModel):
    """A change to push to a channel's order: a new status and what goes with it."""

    model_config = ConfigDict(extra="forbid")

    external_id: str
    status: OrderStatus
    tracking_number: str | None = None
    carrier: str | None = None
    location: str | None = None
    note: str | None = None


class WebhookRequest(BaseModel):
    """A webhook delivery as received: raw body bytes (signatures cover them) and headers.

    Header names are lower-cased on the way in. ``url`` is the URL as the request itself
    states it (built from the client's ``Host`` header: anyone can choose it, so it is for
    logs only and never part of a verification). ``callback_url`` is the URL this account's
    deliveries are configured to reach, set by the receiver from its configuration
    (``[engine] webhook_public_url``, else its own address); a platform that signs the URL
    (Shopee) is verified against it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    body: bytes
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    callback_url: str | None = None

    def __init__(self, **data: Any) -> None:
        headers = data.get("headers") or {}
        data["headers"] = {str(k).lower(): str(v) for k, v in dict(headers).items()}
        super().__init__(**data)

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass
class RecordCounts:
    """How many records of one kind a channel mapped, and how many it set aside."""

    mapped: int = 0
    rejected: int = 0


@dataclass
class MappingStats:
    """Per kind counts of what a channel's streams, ``get_order`` and webhooks mapped.

    They only grow (a caller wanting one pass's share reads them before and after).
    """

    product: RecordCounts = field(default_factory=RecordCounts)
    order: RecordCounts = field(default_factory=RecordCounts)
    customer: RecordCounts = field(default_factory=RecordCounts)
    stock: RecordCounts = field(default_factory=RecordCounts)

    def of(self, kind: RecordKind) -> RecordCounts:
        """The counts of ``kind``."""
        counts: RecordCounts = getattr(self, kind)
        return counts

    @property
    def rejected(self) -> int:
        """Records of every kind set aside."""
        return (
            self.product.rejected + self.order.rejected + self.customer.rejected
            + self.stock.rejected
        )


class PlatformSkus:
    """The platform's own spelling of the SKUs whose canonical form differs, learnt from what
    a channel reads.

    A merchant may type a SKU in a platform's admin with a zero-width space or decomposed
    accents; the engine knows it by its canonical form (:func:`~omnisdk.models.canonical_sku`)
    and asks for that. A platform that filters by SKU on its side, or that addresses a
    listing by its SKU, must be sent its own spelling: :meth:`learn` each SKU read,
    :meth:`platform` when naming one. A SKU asked for and not found may be spelt otherwise
    on the platform: :meth:`full_read_due` says when reading every listing to learn it is
    worth it (at most every ``full_read_every`` seconds).
    """

    def __init__(self, *, full_read_every: float = 60.0) -> None:
        self._spelling: dict[str, str] = {}
        self._full_read_every = full_read_every
        self._full_read_at = -math.inf

    def learn(self, raw: object) -> str | None:
        """The canonical SKU of a platform's ``raw`` one (None: none), remembering the
        platform's spelling when it differs."""
        sku = canonical_sku(raw)
        if sku is not None and isinstance(raw, str) and raw != sku:
            self._spelling[sku] = raw
        return sku

    def platform(self, sku: str) -> str:
        """How the platform spells the canonical ``sku`` (as it is, unless learnt)."""
        return self._spelling.get(sku, sku)

    def full_read_due(self, missing: Iterable[str]) -> bool:
        """True when SKUs were ``missing`` from a filtered read and no full read was made
        lately; the caller then reads every listing (the time is taken as of now)."""
        if not any(True for _ in missing):
            return False
        now = time.monotonic()
        if now - self._full_read_at < self._full_read_every:
            return False
        self._full_read_at = now
        return True


def batched(items: Iterable[T], size: int) -> Iterable[list[T]]:
    """Split ``items`` into lists of at most ``size``."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class Channel:
    """Base class of every channel. Subclass it in a plugin.

    Class attributes a subclass declares:

    ``name``
        The channel type, e.g. ``"shopify"``: the ``type`` in omnisdk.toml.
    ``title``
        A human name, e.g. ``"Shopify"``.
    ``capabilities``
        The set of :class:`Capability` it offers.
    ``limits``
        Its :class:`ChannelLimits`.
    ``settings_model``
        Its :class:`ChannelSettings` subclass.
    ``sandbox``
        ``"module:Class"`` of its sandbox (imported only when asked for, so a production
        install needs no sandbox dependencies), or None.
    ``request_id_headers``, ``request_id_fields``
        Response headers and JSON body fields carrying the platform's id for a request
        (first found wins); a plugin adds its platform's own to the generic ones.
    ``external_id_keys``
        Fields of a raw record that hold its id, first found wins: the id a rejected record
        is quarantined under.

    Construct one per account: ``ShopifyChannel(settings, account="hanoi")``. Use it as an
    async context manager (or call :meth:`aclose`) so its HTTP connections are released.
    ``plugins`` is the registry whose hooks the channel maps through
    (:meth:`omnisdk.plugins.Plugins.create_channel` passes itself); without one the channel
    uses the process's default registry, installed plugins' hooks included.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    limits: ClassVar[ChannelLimits] = ChannelLimits()
    settings_model: ClassVar[type[ChannelSettings]] = ChannelSettings
    sandbox: ClassVar[str | None] = None
    default_base_url: ClassVar[str | None] = None
    request_id_headers: ClassVar[tuple[str, ...]] = DEFAULT_REQUEST_ID_HEADERS
    request_id_fields: ClassVar[tuple[str, ...]] = DEFAULT_REQUEST_ID_FIELDS
    external_id_keys: ClassVar[tuple[str, ...]] = ("id", "external_id")
    reauthorise_advice: ClassVar[str] = ""
    """What the merchant must do once the authorisation is lost (e.g. "authorise the shop
    again"), added to the error every later call raises."""

    def __init__(
        self,
        settings: ChannelSettings | Mapping[str, Any],
        *,
        account: str = "default",
        plugins: HookHost | None = None,
        tokens: TokenStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not isinstance(settings, self.settings_model):
            try:
                settings = self.settings_model.model_validate(
                    settings.model_dump() if isinstance(settings, BaseModel) else dict(settings)
                )
            except ValidationError as exc:
                raise _settings_error(self.name, account, exc) from None
        self.settings = settings
        self.account = account
        self._plugins = plugins
        self.tokens: TokenStore = tokens or MemoryTokenStore()
        self._transport = transport
        self._http: HttpClient | None = None
        self._keeper: TokenKeeper | None = None
        self._lost: str | None = None
        self.rate_limiters: RateLimiterFactory | None = None
        """Builds the account's rate limiter instead of :class:`~omnisdk.http.HttpClient`
        (set before the first request; the engine sets it when given ``rate_limiters``)."""
        self.refusal_counts: RefusalCountFactory | None = None
        """Builds where the account's authorisation refusals in a row are counted
        (:class:`~omnisdk.refusals.RefusalCount`; None: in the HTTP client only). The engine
        sets one on the store, so ``reauth_after`` counts over every process."""
        self.mapping_stats = MappingStats()
        self.platform_skus = PlatformSkus()
        """The platform's spelling of SKUs whose canonical form differs (see the class)."""
        """What this channel mapped and rejected, per kind, since it was built."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} account={self.account!r}>"

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def plugins(self) -> HookHost:
        """The registry whose hooks this channel calls (the process default if not given)."""
        if self._plugins is None:
            self._plugins = default_hook_registry()
        return self._plugins

    @property
    def base_url(self) -> str:
        """Where the platform's API is: the settings' ``base_url`` or the channel default."""
        url = self.settings.base_url or self.default_base_url
        if not url:
            raise ConfigError(f"{self.name}/{self.account}: no base_url configured")
        return url

    @property
    def http(self) -> HttpClient:
        """The account's HTTP client (created on first use, reused after)."""
        if self._http is None:
            self._http = self.create_http_client()
        return self._http

    def create_http_client(self, **options: Any) -> HttpClient:
        """Build the account's HTTP client from the settings and limits.

        A plugin adds or overrides :class:`~omnisdk.http.HttpClient` keyword arguments by
        calling ``super().create_http_client(error_mapper=..., ...)`` from its override.
        """
        defaults: dict[str, Any] = {
            "base_url": self.base_url,
            "channel": self.name,
            "account": self.account,
            "rate": self.limits.rate,
            "timeout": self.settings.timeout,
            "max_attempts": self.settings.max_attempts,
            "reauth_after": self.settings.reauth_after,
            "secrets": self.settings.secret_values(),
            "transport": self._transport,
            "request_id_headers": self.request_id_headers,
            "request_id_fields": self.request_id_fields,
            "error_mapper": self.parse_error,
        }
        merged = {**defaults, **options}
        if self.rate_limiters is not None and merged.get("limiter") is None:
            budget = merged.pop("rate", None) or RateBudget(requests_per_second=math.inf)
            merged["limiter"] = self.rate_limiters(self.name, self.account, budget)
        if self.refusal_counts is not None and merged.get("refusals") is None:
            merged["refusals"] = self.refusal_counts(self.name, self.account)
        return HttpClient(**merged)

    def parse_error(self, response: httpx.Response) -> ChannelError | None:
        """The error a platform response means, or None to let the HTTP status decide.

        The HTTP client asks for every response (it is its
        :data:`~omnisdk.http.ErrorMapper`). Plugins whose platform reports errors in the body
        (HTTP 200 with an error code, GraphQL ``errors``) override it; the default reads
        nothing, and a failed status becomes the matching error with the message found in
        the usual body fields.
        """
        return None

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- credentials -----------------------------------------------------------------------

    def initial_token(self) -> Token | None:
        """The token the settings carry (a static access token), if any."""
        return None

    async def refresh_token(self, token: Token) -> Token:
        """Exchange ``token`` for a fresh one. Channels with expiring tokens override this.

        Raise :class:`~omnisdk.errors.ReauthorisationRequired` when the platform says the
        refresh token is no longer valid.
        """
        raise UnsupportedOperation(f"{self.name} tokens cannot be refreshed")

    @property
    def token_keeper(self) -> TokenKeeper:
        """The keeper that hands out this account's current access token."""
        if self._keeper is None:
            overridden = type(self).refresh_token is not Channel.refresh_token
            self._keeper = TokenKeeper(
                channel=self.name, account=self.account, store=self.tokens,
                refresh=self._refresh_and_redact if overridden else None,
                initial=self.initial_token(),
            )
        return self._keeper

    def forget_credentials(self) -> None:
        """Drop the token this channel holds in memory, the refusals it counted and a lost
        authorisation it remembers, so the next call starts again from the token store (the
        engine calls it when an account it saw stopped for want of authorisation is
        ``active`` again, maybe authorised by ``channels reauthorise`` in another process)."""
        self._keeper = None
        self._lost = None
        if self._http is not None:
            self._http.auth_failures = 0

    @property
    def needs_reauthorisation(self) -> bool:
        """True once the account's authorisation is known to be gone (calls then stop)."""
        return self._lost is not None

    def _raise_if_lost(self) -> None:
        """Raise :class:`~omnisdk.errors.ReauthorisationRequired` once the authorisation is
        lost, without asking the platform again (a spent refresh token stays spent)."""
        if self._lost is not None:
            advice = f"; {self.reauthorise_advice}" if self.reauthorise_advice else ""
            raise ReauthorisationRequired(
                f"stopped: {self._lost}{advice}", channel=self.name, account=self.account
            )

    def _authorisation_lost(self, exc: ReauthorisationRequired) -> ReauthorisationRequired:
        """Remember that the authorisation is lost (logged once); ``exc``, to raise. The
        engine that catches it marks the account ``needs_reauth`` and fires
        ``omnisdk_channel_needs_reauthorisation`` once."""
        if self._lost is None:
            self._lost = str(exc)
            logger.error("%s/%s needs re-authorisation: %s", self.name, self.account, exc)
        return exc

    async def _refresh_and_redact(self, token: Token) -> Token:
        fresh = await self.refresh_token(token)
        if self._http is not None:
            self._http.add_secret(fresh.access_token.get_secret_value())
            if fresh.refresh_token is not None:
                self._http.add_secret(fresh.refresh_token.get_secret_value())
        return fresh

    async def access_token(self) -> str:
        """The access token to send now, refreshed first when it is past half its life."""
        token = await self.token_keeper.current()
        value = token.access_token.get_secret_value()
        self.http.add_secret(value)
        return value

    async def check(self) -> ChannelInfo:
        """Connect with the configured credentials and say what account this is."""
        raise UnsupportedOperation(f"{self.name} does not implement check()")

    # -- mapping (through the hooks, so an app can wrap or replace it) -------------------

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """Turn one raw platform product into a canonical Product (plugins implement this)."""
        raise UnsupportedOperation(f"{self.name} does not map products")

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """Turn one raw platform order into a canonical Order (plugins implement this)."""
        raise UnsupportedOperation(f"{self.name} does not map orders")

    def parse_customer(self, raw: dict[str, Any]) -> Customer:
        """Turn one raw platform customer into a canonical Customer (plugins implement this)."""
        raise UnsupportedOperation(f"{self.name} does not map customers")

    def map_product(self, raw: dict[str, Any]) -> Product:
        """Map through the ``omnisdk_map_product`` hook (default: :meth:`parse_product`)."""
        product: Product = self._map("product", raw, self.plugins.hook.omnisdk_map_product)
        return product

    def map_order(self, raw: dict[str, Any]) -> Order:
        """Map through the ``omnisdk_map_order`` hook (default: :meth:`parse_order`)."""
        order: Order = self._map("order", raw, self.plugins.hook.omnisdk_map_order)
        return order

    def map_customer(self, raw: dict[str, Any]) -> Customer:
        """Map through the ``omnisdk_map_customer`` hook (default: :meth:`parse_customer`)."""
        customer: Customer = self._map("customer", raw, self.plugins.hook.omnisdk_map_customer)
        return customer

    def external_id_of(self, raw: Mapping[str, Any]) -> str | None:
        """The platform's id of a raw record: the first of :attr:`external_id_keys` it has."""
        for key in self.external_id_keys:
            value = raw.get(key) if isinstance(raw, Mapping) else None
            # Only a string or a number is an id: a broken record's list or dict is not (and
            # would make a log line and a quarantine key of its whole repr).
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)[:255]
        return None

    def _map(self, kind: RecordKind, raw: dict[str, Any], hook: Callable[..., Any]) -> Any:
        try:
            result = hook(channel=self, raw=raw)
        except MappingError:
            raise
        # Any exception is about this one record (a wrong type, a figure out of range, an
        # impossible timestamp, absurd nesting): it is quarantined with its type and message,
        # and the rest of the stream goes on.
        except Exception as exc:
            raise MappingError(_describe(exc), channel=f"{self.name}/{self.account}", kind=kind,
                               external_id=self.external_id_of(raw)) from exc
        if result is None:
            raise MappingError("no plugin mapped this payload", channel=self.name, kind=kind,
                               external_id=self.external_id_of(raw))
        self.mapping_stats.of(kind).mapped += 1
        return result

    def _reject(self, kind: RecordKind, raw: dict[str, Any], exc: MappingError) -> None:
        """Set a record that could not be mapped aside: log, count, ``omnisdk_record_rejected``."""
        logger.warning("%s", exc)
        self.mapping_stats.of(kind).rejected += 1
        self.plugins.hook.omnisdk_record_rejected(
            channel=self, kind=kind, external_id=exc.external_id, raw=raw, reason=str(exc))

    async def _mapped(self, kind: RecordKind, records: AsyncIterator[dict[str, Any]],
                      mapper: Callable[[dict[str, Any]], Mapped]) -> AsyncIterator[Mapped]:
        """Map each fetched record; one that cannot be mapped is rejected and the rest go on."""
        try:
            async for raw in records:
                try:
                    item = mapper(raw)
                except MappingError as exc:
                    self._reject(kind, raw, exc)
                    continue
                yield item
        finally:  # a consumer that stops early closes the fetch too (its pages, its streams)
            if isinstance(records, AsyncGenerator):
                await records.aclose()

    # -- reading: the base maps what the plugin fetches ------------------------------------

    def fetch_products(self, *, updated_since: datetime | None = None
                       ) -> AsyncIterator[dict[str, Any]]:
        """Every raw product (or those changed since ``updated_since``), page by page.

        Plugins with ``READ_PRODUCTS`` implement it as an async generator of raw records.
        """
        raise self._unsupported(Capability.READ_PRODUCTS)

    def fetch_orders(self, *, updated_since: datetime | None = None
                     ) -> AsyncIterator[dict[str, Any]]:
        """Raw orders created or changed since ``updated_since`` (all when None), page by page."""
        raise self._unsupported(Capability.READ_ORDERS)

    def fetch_customers(self, *, updated_since: datetime | None = None
                        ) -> AsyncIterator[dict[str, Any]]:
        """Raw customers created or changed since ``updated_since``, page by page."""
        raise self._unsupported(Capability.READ_CUSTOMERS)

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        """One raw order by the platform's id; :class:`~omnisdk.errors.NotFound` if none."""
        raise self._unsupported(Capability.READ_ORDERS)

    def stream_products(self, *, updated_since: datetime | None = None
                        ) -> AsyncIterator[Product]:
        """Every product (or those changed since ``updated_since``), fetched page by page.

        The plugin's :meth:`fetch_products` records, mapped; a record that cannot be mapped
        is quarantined and the rest go on.
        """
        records = self.fetch_products(updated_since=updated_since)
        return self._mapped("product", records, self.map_product)

    def stream_orders(self, *, updated_since: datetime | None = None) -> AsyncIterator[Order]:
        """Orders created or changed since ``updated_since`` (all when None), page by page.

        The engine keeps ``updated_since`` as its polling cursor, with an overlap; ingestion
        is idempotent, so an order seen twice changes nothing twice.
        """
        records = self.fetch_orders(updated_since=updated_since)
        return self._mapped("order", records, self.map_order)

    def stream_customers(self, *, updated_since: datetime | None = None
                         ) -> AsyncIterator[Customer]:
        """Customers created or changed since ``updated_since``, page by page."""
        records = self.fetch_customers(updated_since=updated_since)
        return self._mapped("customer", records, self.map_customer)

    def stream_locations(self) -> AsyncIterator[Location]:
        """The account's locations (warehouses, stores)."""
        raise self._unsupported(Capability.READ_LOCATIONS)

    def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """Listed stock per SKU (and location, where the platform keeps it per location).

        Build each raw record's levels through :meth:`stock_levels_from`, so one listing the
        platform reports nonsense for (10**30 units, a fraction, text) is set aside and the
        read goes on (the conformance suite holds every plugin to it).
        """
        raise self._unsupported(Capability.READ_STOCK)

    async def stock_of_skus(
        self,
        skus: Sequence[str] | None,
        read: Callable[[list[str] | None], AsyncIterator[StockLevel]],
        *,
        per_call: int,
    ) -> AsyncIterator[StockLevel]:
        """``stream_stock`` for a platform that filters stock reads by SKU on its side.

        ``read(names)`` yields the levels of the listings the platform has under ``names``
        (its own spellings, at most ``per_call``), or of every listing for None; it should
        :meth:`PlatformSkus.learn` each SKU it reads. A SKU asked for and not found may be
        spelt otherwise there (an invisible character typed in its admin): every listing
        is then read to find it, at most once a minute (:meth:`PlatformSkus.full_read_due`).
        """
        if skus is None:
            async for level in read(None):
                yield level
            return
        wanted = list(dict.fromkeys(skus))
        found: set[str] = set()
        for chunk in batched(wanted, per_call):
            async for level in read([self.platform_skus.platform(sku) for sku in chunk]):
                found.add(level.sku)
                yield level
        missing = {sku for sku in wanted if sku not in found}
        if self.platform_skus.full_read_due(missing):
            async for level in read(None):
                if level.sku in missing:
                    yield level

    def stock_levels_from(
        self,
        raw: Any,
        build: Callable[[], Iterable[StockLevel] | StockLevel | None],
        *,
        sku: str | None,
    ) -> list[StockLevel]:
        """The levels ``build()`` makes of one raw stock record (a level, several, or None
        for a record without one), or none when it cannot.

        A record whose figure cannot be read is rejected like a record that cannot be mapped
        (logged, counted as ``"stock"`` in :attr:`mapping_stats`, ``omnisdk_record_rejected``
        with the account, the SKU and why, which the engine quarantines) and ``[]`` is
        returned, so the read goes on with the other listings. ``sku`` (else the raw
        record's id) names the record. Figures are read with
        :func:`~omnisdk.models.listed_count`.
        """
        try:
            built = build()
            if built is None:
                return []
            return [built] if isinstance(built, StockLevel) else list(built)
        # Building levels is pure: whatever it raises (a figure out of range, a wrong type, a
        # missing key) is about this one record.
        except Exception as exc:
            payload = raw if isinstance(raw, dict) else {"record": repr(raw)[:500]}
            key = sku or self.external_id_of(payload)
            plain = isinstance(exc, MappingError | ValueError) and not isinstance(
                exc, ValidationError
            )
            why = str(exc) if plain else _describe(exc)
            error = MappingError(f"listed stock not read: {why}",
                                 channel=f"{self.name}/{self.account}", kind="stock",
                                 external_id=key)
            self._reject("stock", payload, error)
            return []

    async def get_order(self, external_id: str) -> Order:
        """One order by the platform's id (after a webhook hint): :meth:`fetch_order`, mapped.

        An order that cannot be mapped raises :class:`~omnisdk.errors.MappingError`.
        """
        return self.map_order(await self.fetch_order(external_id))

    # -- writing ---------------------------------------------------------------------------

    async def write_stock(self, updates: Iterable[StockUpdate]) -> list[WriteResult]:
        """Set listed stock, in batches of ``limits.max_stock_batch``; one result per update."""
        self.require(Capability.WRITE_STOCK)
        return await self._write_in_batches(updates, self.limits.max_stock_batch,
                                            self.write_stock_batch, lambda u: u.sku)

    async def write_prices(self, updates: Iterable[PriceUpdate]) -> list[WriteResult]:
        """Set prices, in batches of ``limits.max_price_batch``; one result per update."""
        self.require(Capability.WRITE_PRICES)
        return await self._write_in_batches(updates, self.limits.max_price_batch,
                                            self.write_prices_batch, lambda u: u.sku)

    async def write_products(self, products: Iterable[Product]) -> list[WriteResult]:
        """Create or update listings, in batches of ``limits.max_product_batch``."""
        self.require(Capability.WRITE_PRODUCTS)
        return await self._write_in_batches(products, self.limits.max_product_batch,
                                            self.write_products_batch, lambda p: p.skus[0])

    async def write_stock_batch(self, batch: Sequence[StockUpdate]) -> list[WriteResult]:
        """Write one batch (never larger than the limit); return one result per item, in order."""
        raise self._unsupported(Capability.WRITE_STOCK)

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """Write one batch of prices; return one result per item, in order."""
        raise self._unsupported(Capability.WRITE_PRICES)

    async def write_products_batch(self, batch: Sequence[Product]) -> list[WriteResult]:
        """Create or update one batch of products; return one result per item, in order."""
        raise self._unsupported(Capability.WRITE_PRODUCTS)

    async def update_order(self, update: OrderUpdate) -> WriteResult:
        """Move an order along on the platform (ship with tracking, cancel, ...)."""
        raise self._unsupported(Capability.WRITE_ORDERS)

    # -- promotions ------------------------------------------------------------------------
    #
    # A channel that declares ``limits.promotion_mechanism`` implements the three methods
    # below through that mechanism. The engine calls them; it keeps each item's
    # ``external_id`` and hands it back to :meth:`end_promotion`.

    def promotion_support(self) -> str | None:
        """None when this account can show promotions; otherwise why not, in a sentence the
        promotion plan prints (the default: the platform declares no mechanism).

        A plugin overrides it when support depends on the account's settings (a price book
        the merchant has to create first, for instance).
        """
        if self.limits.promotion_mechanism is None:
            return f"{self.title or self.name} has no way to express a promotion"
        return None

    async def write_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """Show ``promotion``'s promoted prices through the platform's own mechanism.

        One result per item, in order; a failed item fails alone. ``external_id`` of a
        success is the platform's handle the engine returns in :meth:`end_promotion` (a
        discount id, ...). A mechanism that carries dates
        (:attr:`PromotionMechanism.platform_dated`) writes them, so the platform switches the
        price on and off itself; the others show the promoted price now (the engine calls
        this only once the promotion has started). Writing the same promotion twice must
        leave the platform as writing it once did.
        """
        raise UnsupportedOperation(self.promotion_support() or "write_promotion is not built")

    async def end_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """Stop showing ``promotion`` and show each item's ``base`` price again.

        One result per item, in order. Ending an item that has already ended (on the
        platform's own schedule, or by an earlier call that crashed before the engine
        recorded it) succeeds and changes nothing.
        """
        raise UnsupportedOperation(self.promotion_support() or "end_promotion is not built")

    async def read_selling_prices(self, skus: Sequence[str]) -> dict[str, Money]:
        """The price a buyer pays now for each of ``skus`` (promotions included), read back
        from the platform; SKUs the platform does not list are left out."""
        raise UnsupportedOperation(
            self.promotion_support() or "read_selling_prices is not built"
        )

    async def _write_in_batches(
        self, items: Iterable[Item], size: int,
        write: Callable[[Sequence[Item]], Awaitable[list[WriteResult]]],
        key: Callable[[Item], str],
    ) -> list[WriteResult]:
        results: list[WriteResult] = []
        for batch in batched(items, size):
            try:
                answer = await write(batch)
            except ReauthorisationRequired:
                raise  # the account is stopped: no later batch can succeed either
            except ChannelError as exc:
                # The whole call failed (after the HTTP layer's retries): every item in this
                # batch failed for that reason; the other batches still go.
                logger.warning("%s/%s: batch of %d failed: %s", self.name, self.account,
                               len(batch), exc)
                answer = [WriteResult.failure(key(item), exc) for item in batch]
            if len(answer) != len(batch):
                raise PluginError(
                    f"{self.name}: a batch write returned {len(answer)} results for "
                    f"{len(batch)} items (the contract is one result per item, in order)"
                )
            results.extend(answer)
        return results

    # -- webhooks --------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check the delivery's signature; raise WebhookVerificationError if it is wrong."""
        raise self._unsupported(Capability.WEBHOOKS)

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """Turn a verified delivery into events (unknown topics: ``EventKind.OTHER``).

        Leave ``order``/``product`` unset: when the delivery carries the object whole, say so
        in :meth:`webhook_record` and the base maps it.
        """
        raise self._unsupported(Capability.WEBHOOKS)

    def webhook_record(self, event: ChannelEvent) -> dict[str, Any] | None:
        """The raw record ``event``'s delivery carries whole, or None when it is a hint only.

        The base maps it into the event: as the ``order`` of an order event, the ``product``
        of a ``PRODUCT_UPDATED`` one. One that cannot be mapped is quarantined and the event
        goes on as a hint (the engine then fetches the object).
        """
        return None

    def receive_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """Verify, parse, then map a delivery.

        A bad signature raises :class:`WebhookVerificationError`; a signed body that cannot
        be read raises its subclass :class:`WebhookBodyError`.
        """
        self.verify_webhook(request)
        try:
            events = self.parse_webhook(request)
            return [self._with_record(event) for event in events]
        # ArithmeticError, RecursionError and OSError: huge figures, absurdly deep nesting and
        # out-of-range timestamps in a signed body are a bad body (400), not a server error;
        # AttributeError and LookupError: a body of another shape (``null``, a list where an
        # object belongs, an empty list), found by the conformance fuzz case.
        except (
            ValueError,
            LookupError,
            AttributeError,
            TypeError,
            ArithmeticError,
            RecursionError,
            OSError,
            ValidationError,
        ) as exc:
            raise WebhookBodyError(
                f"{self.name}/{self.account}: webhook body could not be read: {_describe(exc)}"
            ) from exc

    def _with_record(self, event: ChannelEvent) -> ChannelEvent:
        raw = self.webhook_record(event)
        kind: RecordKind
        if raw is None:
            return event
        if event.kind in _ORDER_EVENTS:
            kind = "order"
        elif event.kind is EventKind.PRODUCT_UPDATED:
            kind = "product"
        else:
            return event
        try:
            mapped = self.map_order(raw) if kind == "order" else self.map_product(raw)
        except MappingError as exc:
            self._reject(kind, raw, exc)
            return event
        return event.model_copy(update={kind: mapped})

    async def register_webhooks(self, url: str) -> list[str]:
        """Subscribe ``url`` to the channel's webhook topics; return the topics subscribed."""
        raise self._unsupported(Capability.WEBHOOKS)

    async def unregister_webhooks(self, url: str) -> None:
        """Remove this app's webhook subscriptions for ``url``."""
        raise self._unsupported(Capability.WEBHOOKS)

    # -- helpers ---------------------------------------------------------------------------

    def require(self, capability: Capability) -> None:
        """Raise UnsupportedOperation unless the channel declares ``capability``."""
        if capability not in self.capabilities:
            raise self._unsupported(capability)

    def _unsupported(self, capability: Capability) -> UnsupportedOperation:
        return UnsupportedOperation(
            f"channel {self.name!r} does not support {capability.value}"
            + ("" if capability in self.capabilities else " (not in its capabilities)")
        )

    def ref(self, external_id: str | int) -> dict[str, str]:
        """A ChannelRef dict for an object of this account: ``{"channel", "account", ...}``."""
        return {"channel": self.name, "account": self.account, "external_id": str(external_id)}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(p) for p in error["loc"]) or exc.title
            bad = error.get("input")
            shown = repr(bad) if not isinstance(bad, dict | list) else type(bad).__name__
            parts.append(f"{where}: {error['msg']} (got {shown[:80]})")
        return "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


def _settings_error(channel: str, account: str, exc: ValidationError) -> OmnisdkError:
    from omnisdk.errors import ConfigError

    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"])
        lines.append(f"{where}: {error['msg']}")
    return ConfigError(f"invalid settings for {channel} channel: " + "; ".join(lines),
                       key=f"channels.{account}")
