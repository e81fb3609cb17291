"""The POS channel: a retailer's stores (KiotViet, its first backend) through omnisdk's contract.

What it reads: branches (canonical Locations: each store is a stock location and a pick-up
point), products (master/variant/unit products grouped into canonical Products), stock per
branch (``onHand``/``reserved``), sales (invoices and orders, one canonical order per sale)
and customers (E.164 phones). What it writes: prices, stock counts per branch
(:meth:`PosChannel.write_branch_stock`), customers (:meth:`PosChannel.customer_for_phone`)
and reservations for orders collected in a store (:meth:`PosChannel.reserve_for_pickup`).
Webhooks are verified in every signature variant KiotViet may use and parsed into events.

Why the channel does not declare ``WRITE_STOCK``: the engine pushes each listing a *quota*
(what that channel may still sell). A store's ``onHand`` is not a listing but the physical
count on its shelf, which a cashier lowers without asking anyone; writing a quota into it
would corrupt it. So the stores feed the pool the other way: their counter sales arrive as
orders collected at the branch (stock committed at that location), and the merchant gives
online channels a branch's units only through their allocation rule (see the README).

Budget: KiotViet allows 5,000 GETs an hour per retailer; the HTTP layer spends at most
``gets_per_hour`` (default 4,900) an hour, and the client renews a refused token once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
    ChannelError,
    NotFound,
    ReauthorisationRequired,
    UnsupportedOperation,
    WebhookVerificationError,
)
from omnisdk.http import HttpClient, Lane, RateBudget
from omnisdk.models import (
    ChannelEvent,
    Customer,
    EventKind,
    Location,
    Money,
    Order,
    Phone,
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
from omnisdk_pos import auth as kv_auth
from omnisdk_pos.client import PAGE_SIZE, KiotVietClient
from omnisdk_pos.errors import error_mapper
from omnisdk_pos.mapping import (
    SaleKind,
    UnitOf,
    branch_code,
    customer_from_kiotviet,
    group_products,
    is_marketplace_sale,
    location_from_branch,
    order_from_document,
    product_from_group,
    sale_id,
    sale_kind,
    sku_of_code,
    stock_levels,
    units_index,
)
from omnisdk_pos.settings import LIVE_BASE_URL, PosSettings
from omnisdk_pos.timefmt import format_local, parse_time
from omnisdk_pos.webhooks import (
    SIGNATURE_HEADER,
    SUBSCRIBED_TYPES,
    parse_envelope,
    verify_signature,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from omnisdk.hook_registry import HookHost

__all__ = ["OMNISDK_MARK", "PosChannel"]

logger = logging.getLogger("omnisdk.pos")

MAX_LIST_UPDATE = 100
"""Products per ``/listupdatedproducts`` call (KiotViet publishes no figure; 100 is safe)."""

MAX_PRICE_BOOK_LINES = 100
"""Lines per ``/pricebooks/detail`` call (not published either; the same cautious 100)."""

RETURNS_OVERLAP = timedelta(minutes=5)
"""How far back of the last read each read of ``/returns`` starts again (a return saved
while the last read ran is not missed; the book keeps each once)."""
OMNISDK_MARK = "omnisdk:"
"""How the description of an order omnisdk itself created in the POS begins: such orders
are never read back as POS sales (the online order they mirror is already counted)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _local_phone(phone: Phone) -> str:
    """A Vietnamese number as KiotViet stores it (``0901234567``); others in E.164."""
    text = phone.e164 or phone.raw
    return "0" + text[3:] if text.startswith("+84") else text


class PosChannel(Channel):
    """A retailer's POS (KiotViet Public API): branches, stock, sales, customers.

    ``clock`` (a callable returning an aware datetime) is the source of token ages and
    order windows; tests pass a sandbox's clock so a token's 24 h can pass in no time.
    """

    name: ClassVar[str] = "pos"
    title: ClassVar[str] = "POS (KiotViet)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.READ_PRODUCTS,
            Capability.READ_STOCK,
            Capability.WRITE_PRICES,
            Capability.READ_ORDERS,
            Capability.READ_REFUNDS,
            Capability.READ_CUSTOMERS,
            Capability.READ_LOCATIONS,
            Capability.WEBHOOKS,
        }
    )
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        promotion_mechanism=PromotionMechanism.PRICE_LIST,
        stock_push_mode=StockPushMode.ABSOLUTE,
        max_stock_batch=MAX_LIST_UPDATE,
        max_price_batch=MAX_LIST_UPDATE,
        max_product_batch=MAX_LIST_UPDATE,
        page_size=PAGE_SIZE,
        rate=RateBudget(requests_per_second=4_900 / 3_600, burst=20),
        access_token_ttl=kv_auth.TOKEN_TTL,
        webhook_topics=SUBSCRIBED_TYPES,
    )
    settings_model: ClassVar[type[PosSettings]] = PosSettings
    sandbox: ClassVar[str | None] = "omnisdk_pos.sandbox.app:KiotVietSandbox"
    default_base_url: ClassVar[str | None] = LIVE_BASE_URL
    external_id_keys: ClassVar[tuple[str, ...]] = ("code", "id")

    settings: PosSettings

    retry_backoff: ClassVar[float] = 0.5
    """Seconds the HTTP layer's exponential back-off starts from (tests make it tiny)."""

    def __init__(
        self,
        settings: PosSettings | Mapping[str, Any],
        *,
        account: str = "default",
        plugins: HookHost | None = None,
        tokens: TokenStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(
            settings, account=account, plugins=plugins, tokens=tokens, transport=transport
        )
        self.clock = clock or _utcnow
        self._client: KiotVietClient | None = None
        self._branches: dict[int, dict[str, Any]] = {}
        self._codes: dict[int, str] = dict(self.settings.branch_codes)
        self._retailer_id: int | None = None
        self._product_ids: dict[str, int] = {}
        self._units: dict[str, UnitOf] = {}
        self._marketplace_channels: set[int] | None = None
        self._returns = ReturnBook()
        self.skipped_marketplace = 0
        """Sales read and skipped because KiotViet synced them from a marketplace."""

    # -- plumbing ----------------------------------------------------------------------------

    def create_http_client(self, **options: Any) -> HttpClient:
        """The HTTP client, within the hourly GET budget and the channel's back-off."""
        per_hour = self.settings.gets_per_hour
        rate = RateBudget(requests_per_second=per_hour / 3_600, burst=20)
        return super().create_http_client(rate=rate, backoff=self.retry_backoff, **options)

    def parse_error(self, response: httpx.Response) -> ChannelError | None:
        """KiotViet's error envelope (see :func:`omnisdk_pos.errors.error_mapper`)."""
        return error_mapper(response)

    @property
    def client(self) -> KiotVietClient:
        """The API client of this retailer."""
        if self._client is None:
            self._client = KiotVietClient(self.http, self, self.settings.retailer)
        return self._client

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        self._client = None
        await super().aclose()

    # -- tokens ------------------------------------------------------------------------------

    @property
    def token_keeper(self) -> TokenKeeper:
        """The keeper of the retailer's token, renewed at half-life on the channel's clock."""
        if self._keeper is None:
            self._keeper = TokenKeeper(
                channel=self.name,
                account=self.account,
                store=self.tokens,
                refresh=self._refresh_and_redact,
                clock=self.clock,
            )
        return self._keeper

    async def _grant(self) -> Token:
        settings = self.settings
        token = await kv_auth.fetch_token(
            self.http,
            settings.token_url,
            settings.client_id,
            settings.client_secret.get_secret_value(),
            now=self.clock(),
        )
        self.http.add_secret(token.access_token.get_secret_value())
        return token

    async def refresh_token(self, token: Token) -> Token:
        """A new client-credentials grant (KiotViet has no refresh token)."""
        return await self._grant()

    async def current_access_token(self) -> str:
        """The token to send now: the stored one, renewed when due, or a first grant."""
        self._raise_if_lost()
        try:
            stored = await self.tokens.load_token(self.name, self.account)
            if stored is None or stored.is_expired(self.clock()):
                async with self.tokens.token_lock(self.name, self.account):
                    stored = await self.tokens.load_token(self.name, self.account)
                    if stored is None or stored.is_expired(self.clock()):
                        await self.tokens.save_token(self.name, self.account, await self._grant())
                        self._keeper = None
            token = await self.token_keeper.current()
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None
        value = token.access_token.get_secret_value()
        self.http.add_secret(value)
        return value

    async def refused_access_token(self, refused: str) -> str:
        """KiotViet refused ``refused``: a new grant (unless another task already got one)."""
        self._raise_if_lost()
        try:
            token = await self.token_keeper.force_refresh()
        except ReauthorisationRequired as exc:
            raise self._authorisation_lost(exc) from None
        value = token.access_token.get_secret_value()
        self.http.add_secret(value)
        return value

    def _authorisation_lost(self, exc: ReauthorisationRequired) -> ReauthorisationRequired:
        # KiotViet's channel has always fired the hook itself too, when the loss is new.
        new = not self.needs_reauthorisation
        super()._authorisation_lost(exc)
        if new:
            self.plugins.hook.omnisdk_channel_needs_reauthorisation(
                channel=self.name, account=self.account, reason=str(exc)
            )
        return exc

    async def _get(
        self, path: str, params: Mapping[str, Any] | None = None, *, lane: Lane = Lane.DEFAULT
    ) -> Any:
        return await self.client.get(path, params, lane=lane)

    async def _rows(
        self, path: str, params: Mapping[str, Any] | None = None, *, lane: Lane = Lane.DEFAULT
    ) -> AsyncIterator[dict[str, Any]]:
        async for page in self.client.pages(path, params, lane=lane):
            for row in page.rows:
                yield row

    # -- branches ----------------------------------------------------------------------------

    async def load_branches(self) -> dict[int, dict[str, Any]]:
        """Read the branches (and learn their location codes and the retailer id)."""
        branches: dict[int, dict[str, Any]] = {}
        async for raw in self._rows("/branches", lane=Lane.ORDERS):
            branches[int(raw["id"])] = raw
            self._codes.setdefault(int(raw["id"]), branch_code(raw, self.settings.branch_codes))
            if raw.get("retailerId") is not None:
                self._retailer_id = int(raw["retailerId"])
        self._branches = branches
        return dict(branches)

    async def _ensure_branches(self) -> None:
        if not self._branches:
            await self.load_branches()

    def location_code(self, branch_id: int) -> str:
        """The location code of branch ``branch_id`` (``ValueError`` for one never read)."""
        code = self._codes.get(int(branch_id))
        if code is None:
            raise ValueError(f"branch {branch_id} is unknown (read the branches first)")
        return code

    def branch_id(self, location: str | None) -> int:
        """The branch of location code ``location`` (None: the default branch)."""
        if location is None:
            if self.settings.default_branch is not None:
                return self.settings.default_branch
            if not self._codes:
                raise ValueError("no branch known: read the branches first")
            return min(self._branches) if self._branches else min(self._codes)
        for branch, code in self._codes.items():
            if code == location:
                return branch
        raise ValueError(f"no branch has location code {location!r}")

    async def stream_locations(self) -> AsyncIterator[Location]:
        """Every branch as a canonical Location (stock location and pick-up point)."""
        for raw in (await self.load_branches()).values():
            yield location_from_branch(
                raw,
                code=self.location_code(int(raw["id"])),
                channel=self.name,
                account=self.account,
            )

    async def check(self) -> ChannelInfo:
        """Fetch a token and read the branches: proof the credentials and retailer work."""
        branches = await self.load_branches()
        return ChannelInfo(
            name=self.settings.retailer,
            currency="VND",
            timezone="Asia/Ho_Chi_Minh",
            details={
                "backend": self.settings.backend,
                "retailer_id": str(self._retailer_id or ""),
                "branches": ", ".join(self._codes[b] for b in sorted(branches)),
            },
        )

    # -- products and stock ------------------------------------------------------------------

    def parse_product(self, raw: dict[str, Any]) -> Product:
        """A canonical Product from one group ``{"products": [...]}`` of KiotViet products."""
        return product_from_group(list(raw["products"]), channel=self.name, account=self.account)

    async def _all_products(self, lane: Lane) -> list[dict[str, Any]]:
        products = [
            raw async for raw in self._rows("/products", {"includeInventory": True}, lane=lane)
        ]
        self._product_ids = {
            sku_of_code(raw["code"]): int(raw["id"]) for raw in products
        }
        self._units = units_index(products)
        return products

    async def fetch_products(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Product groups (master, variants, units), each whole; with ``updated_since`` only
        groups with a member modified since (the whole list is read: a group's members may
        sit on different pages)."""
        products = await self._all_products(
            Lane.BACKFILL if updated_since is None else Lane.DEFAULT
        )
        for group in group_products(products):
            if updated_since is not None and not any(
                raw.get("modifiedDate") and parse_time(raw["modifiedDate"]) >= updated_since
                for raw in group
            ):
                continue
            yield {"products": group}

    async def stream_stock(self, skus: Sequence[str] | None = None) -> AsyncIterator[StockLevel]:
        """``onHand``/``reserved`` per SKU and branch (``GET /productOnHands``), base units
        only: a carton's stock is its bottles'."""
        await self._ensure_branches()
        if not self._product_ids:
            await self._all_products(Lane.STOCK)
        wanted = set(skus) if skus is not None else None
        async for raw in self._rows("/productOnHands", lane=Lane.STOCK):
            code = sku_of_code(raw.get("code"))
            if code in self._units or (wanted is not None and code not in wanted):
                continue
            for level in self.stock_levels_from(
                raw,
                partial(
                    stock_levels,
                    raw,
                    code_of=self.location_code,
                    channel=self.name,
                    account=self.account,
                ),
                sku=code,
            ):
                yield level

    async def _ids_for(self, skus: Sequence[str]) -> dict[str, int]:
        if not set(skus) <= self._product_ids.keys():
            await self._all_products(Lane.STOCK)
        return {sku: self._product_ids[sku] for sku in skus if sku in self._product_ids}

    async def _list_update(
        self, entries: list[tuple[int, str, dict[str, Any]]], operation: str
    ) -> dict[int, WriteResult]:
        """``PUT /listupdatedproducts`` of ``(index, sku, entry)``; a failed call fails its
        entries (an auth failure is raised)."""
        results = await self._in_chunks(
            entries,
            MAX_LIST_UPDATE,
            lambda chunk: self.client.call(
                "PUT", "/listupdatedproducts", body={"listProducts": chunk}, lane=Lane.STOCK
            ),
            lambda entry: str(entry["id"]),
        )
        logger.debug("%s/%s: %s of %d products", self.name, self.account, operation, len(entries))
        return results

    @staticmethod
    async def _in_chunks(
        entries: list[tuple[int, str, dict[str, Any]]],
        size: int,
        call: Callable[[list[dict[str, Any]]], Awaitable[Any]],
        external_id: Callable[[dict[str, Any]], str],
    ) -> dict[int, WriteResult]:
        """``call`` each chunk of ``size`` of the ``(index, sku, entry)`` entries' bodies; a
        failed call fails its entries (an auth failure is raised), results by index."""
        results: dict[int, WriteResult] = {}
        for chunk in batched(entries, size):
            try:
                await call([entry for _, _, entry in chunk])
            except ChannelError as exc:
                if isinstance(exc, AuthError):
                    raise
                for index, sku, _ in chunk:
                    results[index] = WriteResult.failure(sku, exc)
                continue
            for index, sku, entry in chunk:
                results[index] = WriteResult.success(sku, external_id=external_id(entry))
        return results

    async def write_prices_batch(self, batch: Sequence[PriceUpdate]) -> list[WriteResult]:
        """Set ``basePrice`` (VND, whole đồng) of each SKU in one list update."""
        results, known = await self._whole_dong_prices([(u.sku, u.price) for u in batch])
        entries = [
            (index, sku, {"id": product_id, "basePrice": dong})
            for index, sku, product_id, dong in known
        ]
        results.update(await self._list_update(entries, "price update"))
        return [results[index] for index in range(len(batch))]

    async def _whole_dong_prices(
        self, prices: Sequence[tuple[str, Money]]
    ) -> tuple[dict[int, WriteResult], list[tuple[int, str, int, int]]]:
        """Of ``prices`` (SKU, price), the failures by index (not in VND, SKU not in the POS)
        and the rest as (index, SKU, product id, whole đồng)."""
        ids = await self._ids_for([sku for sku, _ in prices])
        failures: dict[int, WriteResult] = {}
        known: list[tuple[int, str, int, int]] = []
        for index, (sku, money) in enumerate(prices):
            if money.currency != "VND":
                failures[index] = WriteResult.failure(
                    sku, f"price is in {money.currency}, KiotViet sells in VND",
                    code="currency_mismatch",
                )
            elif sku not in ids:
                failures[index] = WriteResult.failure(
                    sku, NotFound(f"SKU {sku!r} is not in the POS", code="unknown_sku")
                )
            else:
                known.append((index, sku, ids[sku], int(money.amount)))
        return failures, known

    # -- promotions: a price book -----------------------------------------------------------
    #
    # KiotViet's public API writes the prices of a price book (``POST /pricebooks/detail``)
    # but cannot create, date, switch or empty one: the merchant creates the book and names
    # it in ``promotion_price_book``. The engine writes the promoted prices when a promotion
    # starts and writes the base prices back ("neutralises" the lines) when it ends.

    def promotion_support(self) -> str | None:
        """None when ``promotion_price_book`` is set; otherwise what the merchant must do."""
        if self.settings.promotion_price_book is None:
            return (
                "KiotViet takes promotions as a price book the merchant creates (the API "
                "cannot create one): create it and set promotion_price_book"
            )
        return None

    async def write_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """Each SKU's promoted price into the promotion price book."""
        return await self._price_book_lines(promotion, lambda item: item.promoted)

    async def end_promotion(self, promotion: PromotionWrite) -> list[WriteResult]:
        """Each SKU's base price back into the price book (a line cannot be removed), so
        the book sells at the base price: writing it twice is harmless."""
        return await self._price_book_lines(promotion, lambda item: item.base)

    async def _price_book_lines(
        self, promotion: PromotionWrite, price: Callable[[PromotionItem], Money]
    ) -> list[WriteResult]:
        book = self.settings.promotion_price_book
        if book is None:
            raise UnsupportedOperation(self.promotion_support() or "no price book")
        items = promotion.items
        results, known = await self._whole_dong_prices([(item.sku, price(item)) for item in items])
        lines = [
            (index, sku, {"productId": product_id, "price": dong})
            for index, sku, product_id, dong in known
        ]
        results.update(
            await self._in_chunks(
                lines,
                MAX_PRICE_BOOK_LINES,
                lambda chunk: self.client.call(
                    "POST",
                    "/pricebooks/detail",
                    body={"priceBookId": book, "details": chunk},
                ),
                lambda _: str(book),
            )
        )
        return [results[index] for index in range(len(items))]

    async def read_selling_prices(self, skus: Sequence[str]) -> dict[str, Money]:
        """The promotion price book's price of each SKU while the book is switched on and
        :attr:`clock` is within its dates, else ``basePrice`` (``GET /products`` with
        ``includePricebook``). Whether a cashier must pick the book at the counter is not
        confirmed; online orders through the API carry the price they are sent with."""
        wanted = set(skus)
        book = self.settings.promotion_price_book
        now = self.clock()
        prices: dict[str, Money] = {}
        async for raw in self._rows("/products", {"includePricebook": True}):
            code = str(raw.get("code"))
            if code not in wanted:
                continue
            price = Money.of(Decimal(str(raw.get("basePrice") or 0)), "VND")
            for line in raw.get("priceBooks") or []:
                if (
                    book is not None
                    and line.get("priceBookId") == book
                    and line.get("isActive", True)
                    and parse_time(str(line["startDate"])) <= now < parse_time(
                        str(line["endDate"])
                    )
                ):
                    price = Money.of(Decimal(str(line["price"])), "VND")
            prices[code] = price
        return prices

    async def write_branch_stock(self, updates: Sequence[StockUpdate]) -> list[WriteResult]:
        """Set the stock count (``onHand``) of SKUs at branches: a stock take, not a quota.

        ``location`` is the branch's location code (None: the default branch); batches of
        100 per call; an unknown SKU or branch, or a unit SKU (stock is kept on the base
        unit), fails alone. One result per update, in order.
        """
        await self._ensure_branches()
        ids = await self._ids_for([u.sku for u in updates])
        results: dict[int, WriteResult] = {}
        entries = []
        for index, update in enumerate(updates):
            try:
                branch = self.branch_id(update.location)
            except ValueError as exc:
                results[index] = WriteResult.failure(update.sku, str(exc), code="unknown_branch")
                continue
            if update.sku in self._units:
                results[index] = WriteResult.failure(
                    update.sku,
                    f"{update.sku} is a selling unit: count its base unit "
                    f"{self._units[update.sku].base_sku}",
                    code="unit_sku",
                )
            elif update.sku not in ids:
                results[index] = WriteResult.failure(
                    update.sku,
                    NotFound(f"SKU {update.sku!r} is not in the POS", code="unknown_sku"),
                )
            else:
                entries.append(
                    (
                        index,
                        update.sku,
                        {
                            "id": ids[update.sku],
                            "inventories": [{"branchId": branch, "onHand": update.quantity}],
                        },
                    )
                )
        results.update(await self._list_update(entries, "stock count"))
        return [results[index] for index in range(len(updates))]

    # -- sales -------------------------------------------------------------------------------

    def parse_order(self, raw: dict[str, Any]) -> Order:
        """A canonical Order from an invoice or an order (see :mod:`omnisdk_pos.mapping`)."""
        return order_from_document(
            raw,
            channel=self.name,
            account=self.account,
            branch_code_of=self.location_code,
            units=self._units,
        )

    async def marketplace_channel_ids(self) -> set[int]:
        """The sale channels that are marketplaces KiotViet syncs (by name), read once."""
        if self._marketplace_channels is None:
            names = tuple(n.lower() for n in self.settings.marketplace_channels)
            found = set()
            async for raw in self._rows("/salechannel", lane=Lane.ORDERS):
                if str(raw.get("name") or "").strip().lower().startswith(names):
                    found.add(int(raw["id"]))
            self._marketplace_channels = found
        return self._marketplace_channels

    async def _skip(self, raw: Mapping[str, Any]) -> bool:
        """True for a sale not to count: marketplace-synced, or created by omnisdk itself."""
        if str(raw.get("description") or "").startswith(OMNISDK_MARK):
            return True
        if not self.settings.skip_marketplace_sales:
            return False
        if is_marketplace_sale(
            raw,
            markers=self.settings.marketplace_markers,
            channel_ids=await self.marketplace_channel_ids(),
        ):
            self.skipped_marketplace += 1
            return True
        return False

    async def _refresh_returns(self, lane: Lane) -> set[str]:
        """Read the returns (``GET /returns``) changed since the last read (the first:
        ``history_days`` back, then 5 minutes of overlap) into the book; the ids of the
        invoices whose returns changed."""
        now = self.clock()
        book = self._returns
        since = (
            book.read_until - RETURNS_OVERLAP
            if book.read_until is not None
            else now - timedelta(days=self.settings.history_days)
        )
        params = {
            "lastModifiedFrom": format_local(since),
            "orderBy": "modifiedDate",
            "orderDirection": "Asc",
        }
        changed: set[str] = set()
        async for raw in self._rows("/returns", params, lane=lane):
            invoice = str(raw.get("invoiceId") or "")
            stamp = raw.get("modifiedDate") or raw.get("createdDate") or raw.get("returnDate")
            version = parse_time(stamp) if stamp else now
            if book.add(invoice, str(raw.get("id") or ""), version, raw):
                changed.add(invoice)
        book.read_until = now
        return changed

    def _with_returns(self, raw: dict[str, Any]) -> dict[str, Any]:
        """An invoice with its returns under ``"returns"`` (an order has none of its own)."""
        if sale_kind(raw) != SaleKind.INVOICE or raw.get("id") is None:
            return raw
        return {**raw, "returns": self._returns.of(str(raw["id"]))}

    async def fetch_orders(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Invoices, then orders, changed since ``updated_since`` (``history_days`` back when
        None), each sale once: an invoice made from an order stands for that order, and the
        order itself is not yielded again. Marketplace-synced sales are skipped.

        The returns changed since the last read come first: every invoice carries its
        returns (``"returns"``), and an invoice a return changed is read and yielded even
        when the invoice itself did not change."""
        await self._ensure_branches()
        if not self._product_ids:
            await self._all_products(Lane.ORDERS)
        since = updated_since or self.clock() - timedelta(days=self.settings.history_days)
        lane = Lane.ORDERS if updated_since is not None else Lane.BACKFILL
        refunded = await self._refresh_returns(lane)
        seen: set[str] = set()
        invoices: set[str] = set()
        reloaded = False
        for path in ("/invoices", "/orders"):
            params = {
                "lastModifiedFrom": format_local(since),
                "orderBy": "modifiedDate",
                "orderDirection": "Asc",
                "includePayment": True,
            }
            async for raw in self._rows(path, params, lane=lane):
                if raw.get("modifiedDate") and parse_time(raw["modifiedDate"]) < since:
                    continue
                if not reloaded and not self._knows_lines(raw):
                    # A product (or a unit) new since the last read; once per pass, as a
                    # deleted product on an old sale would otherwise cost a read each time.
                    await self._all_products(lane)
                    reloaded = True
                key = sale_id(raw)
                if key in seen or await self._skip(raw):
                    continue
                seen.add(key)
                if path == "/invoices":
                    invoices.add(str(raw.get("id")))
                yield self._with_returns(raw)
        for invoice_id in sorted(refunded - invoices):
            raw = dict(await self._get(f"/invoices/{invoice_id}", lane=lane))
            if sale_id(raw) in seen or await self._skip(raw):
                continue
            seen.add(sale_id(raw))
            yield self._with_returns(raw)

    def _knows_lines(self, raw: Mapping[str, Any]) -> bool:
        details = raw.get("invoiceDetails") or raw.get("orderDetails") or []
        return all(str(d.get("productCode")) in self._product_ids for d in details)

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        """One sale by its canonical id: an order (``DH...``, as its newest invoice when it
        has one) or an invoice (``HD...``)."""
        await self._ensure_branches()
        code = external_id.strip()
        if sale_kind({"code": code}) == "order":
            order = await self._get(f"/orders/code/{code}", lane=Lane.ORDERS)
            invoices: dict[str, Any] = await self._get(
                "/invoices", {"orderId": order["id"]}, lane=Lane.ORDERS
            )
            rows: list[dict[str, Any]] = [
                r for r in invoices.get("data") or [] if r.get("status") != 2
            ]
            if rows:
                newest = max(rows, key=lambda r: (str(r.get("modifiedDate") or ""), int(r["id"])))
                await self._refresh_returns(Lane.ORDERS)
                return self._with_returns(dict(newest))
            return dict(order)
        invoice = dict(await self._get(f"/invoices/code/{code}", lane=Lane.ORDERS))
        await self._refresh_returns(Lane.ORDERS)
        return self._with_returns(invoice)

    async def reserve_for_pickup(self, order: Order, location: str) -> str:
        """Mirror an online order to be collected at ``location`` as a KiotViet order at that
        branch, so the store's stock shows it reserved; its KiotViet code.

        The order's description starts with :data:`OMNISDK_MARK`, so reading sales back
        never counts it a second time. Lines whose SKU the POS does not know are refused.
        """
        await self._ensure_branches()
        branch = self.branch_id(location)
        ids = await self._ids_for(list(order.quantities()))
        missing = sorted(set(order.quantities()) - ids.keys())
        if missing:
            raise NotFound(
                f"SKUs not in the POS: {', '.join(missing)}",
                code="unknown_sku",
                channel=self.name,
                account=self.account,
            )
        body = {
            "branchId": branch,
            "description": f"{OMNISDK_MARK}{order.channel_ref}",
            "purchaseDate": format_local(order.created_at),
            "makeInvoice": False,
            "orderDetails": [
                {
                    "productId": ids[line.sku],
                    "productCode": line.sku,
                    "quantity": line.quantity,
                    "price": int(line.unit_price.amount),
                }
                for line in order.lines
            ],
        }
        answer = await self.client.call("POST", "/orders", body=body, lane=Lane.ORDERS)
        return str(answer["code"])

    # -- customers ---------------------------------------------------------------------------

    def parse_customer(self, raw: dict[str, Any]) -> Customer:
        """A canonical Customer (E.164 phones)."""
        return customer_from_kiotviet(raw, channel=self.name, account=self.account)

    async def fetch_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Customers changed since ``updated_since`` (all when None)."""
        params = {"lastModifiedFrom": format_local(updated_since)} if updated_since else {}
        async for raw in self._rows("/customers", params, lane=Lane.DEFAULT):
            yield raw

    async def find_customer(self, phone: Phone | str) -> Customer | None:
        """The customer with this phone (KiotViet matches loosely; the E.164 must be equal)."""
        wanted = phone if isinstance(phone, Phone) else Phone.parse(phone)
        if wanted.match_key is None:
            return None
        answer = await self._get("/customers", {"contactNumber": _local_phone(wanted)})
        for raw in (answer or {}).get("data") or []:
            customer = self.map_customer(raw)
            if any(p.match_key == wanted.match_key for p in customer.phones):
                return customer
        return None

    async def customer_for_phone(self, phone: Phone | str, *, name: str) -> Customer:
        """The customer with this phone, created (named ``name``) when there is none."""
        wanted = phone if isinstance(phone, Phone) else Phone.parse(phone)
        if wanted.match_key is None:
            raise ValueError(f"{wanted.raw!r} is not a usable phone number (masked or invalid)")
        found = await self.find_customer(wanted)
        if found is not None:
            return found
        answer = await self.client.call(
            "POST",
            "/customers",
            body={"name": name, "contactNumber": _local_phone(wanted)},
            lane=Lane.ORDERS,
        )
        created = answer.get("data", answer) if isinstance(answer, dict) else answer
        return self.map_customer(dict(created))

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Check ``X-Hub-Signature`` against the raw body (variants A-D, ``sha256=``)."""
        secret = self.settings.webhook_secret
        if secret is None:
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: no webhook_secret configured, deliveries cannot "
                "be verified"
            )
        if not verify_signature(
            secret.get_secret_value(), request.body, request.header(SIGNATURE_HEADER)
        ):
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: {SIGNATURE_HEADER} does not match the body"
            )

    def parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        """One event per object of every notification (another retailer's: none)."""
        envelope = parse_envelope(request.body)
        events: list[ChannelEvent] = []
        for n_index, note in enumerate(envelope.notifications):
            if (
                self._retailer_id is not None
                and note.retailer_id is not None
                and note.retailer_id != self._retailer_id
            ):
                continue
            items: list[tuple[dict[str, Any] | None, str | None]] = [
                (obj, None) for obj in note.objects
            ] or [(None, str(removed)) for removed in note.removed_ids]
            for o_index, (obj, removed) in enumerate(items):
                kind, external = self._event_of(note.type, obj, removed)
                events.append(
                    ChannelEvent(
                        kind=kind,
                        channel=self.name,
                        account=self.account,
                        topic=note.type,
                        delivery_id=f"kiotviet:{envelope.id}:{n_index}:{o_index}",
                        external_id=external,
                        occurred_at=parse_time(obj["modifiedDate"])
                        if obj and obj.get("modifiedDate")
                        else None,
                        raw=obj if obj is not None else {"removeId": removed},
                    )
                )
        return events

    def _event_of(
        self, kind: str, obj: dict[str, Any] | None, removed: str | None
    ) -> tuple[EventKind, str | None]:
        if kind in ("invoice.update", "order.update") and obj is not None:
            if str(obj.get("description") or "").startswith(OMNISDK_MARK):
                return EventKind.OTHER, sale_id(obj)
            markers = self.settings.marketplace_markers
            channels = self._marketplace_channels or set()
            if self.settings.skip_marketplace_sales and is_marketplace_sale(
                obj, markers=markers, channel_ids=channels
            ):
                return EventKind.OTHER, sale_id(obj)
            status = obj.get("status")
            cancelled = (kind, status) in (("invoice.update", 2), ("order.update", 4))
            return (EventKind.ORDER_CANCELLED if cancelled else EventKind.ORDER_UPDATED), sale_id(
                obj
            )
        if kind == "stock.update" and obj is not None:
            return EventKind.STOCK_CHANGED, str(obj.get("productCode") or obj.get("productId"))
        if kind == "product.update" and obj is not None:
            return EventKind.PRODUCT_UPDATED, str(obj.get("code") or obj.get("id"))
        if kind == "product.delete":
            return EventKind.PRODUCT_DELETED, removed
        if kind == "customer.update" and obj is not None:
            return EventKind.CUSTOMER_UPDATED, str(obj.get("id"))
        return EventKind.OTHER, removed or (str(obj.get("id")) if obj else None)

    def webhook_record(self, event: ChannelEvent) -> dict[str, Any] | None:
        """An ``invoice.update``/``order.update`` carries the document whole (an invoice
        made from an order carries that order's sale), with the returns known of it (so a
        delivery never reads as a refund undone); product deliveries are hints (a product
        is one member of a group)."""
        if (
            event.kind
            in (EventKind.ORDER_CREATED, EventKind.ORDER_UPDATED, EventKind.ORDER_CANCELLED)
            and event.raw
        ):
            return self._with_returns(dict(event.raw))
        return None

    async def register_webhooks(self, url: str) -> list[str]:
        """Register ``url`` for :data:`~omnisdk_pos.webhooks.SUBSCRIBED_TYPES` with the
        webhook secret (same-type registrations are replaced: one per type)."""
        secret = self.settings.webhook_secret
        if secret is None:
            raise WebhookVerificationError(
                f"{self.name}/{self.account}: set webhook_secret before registering webhooks"
            )
        await self.load_branches()
        existing = [raw async for raw in self._rows("/webhooks", lane=Lane.DEFAULT)]
        for raw in existing:
            if raw.get("type") in SUBSCRIBED_TYPES:
                await self.client.call("DELETE", f"/webhooks/{raw['id']}")
        for kind in SUBSCRIBED_TYPES:
            await self.client.call(
                "POST",
                "/webhooks",
                body={
                    "Webhook": {
                        "Type": kind,
                        "Url": url,
                        "IsActive": True,
                        "Description": f"omnisdk {kind}",
                        "Secret": secret.get_secret_value(),
                    }
                },
            )
        return list(SUBSCRIBED_TYPES)

    async def unregister_webhooks(self, url: str) -> None:
        """Delete this URL's registrations."""
        existing = [raw async for raw in self._rows("/webhooks", lane=Lane.DEFAULT)]
        for raw in existing:
            if raw.get("url") == url:
                await self.client.call("DELETE", f"/webhooks/{raw['id']}")
