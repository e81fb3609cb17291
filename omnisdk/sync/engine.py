"""The engine: one object that keeps every channel account in step with the store.

:class:`Engine` is the Python API for embedding omnisdk (the CLI and the runtimes call the same
methods). It owns the store, the plugin registry and one :class:`~omnisdk.channel.Channel` per
configured account, and offers the operations of the sync engine::

    async with Engine(load_config()) as engine:
        await engine.set_stock("ÁO-THUN-ĐỎ-M", 12, location="hcm-q1")
        await engine.poll_orders("shopee-hanoi")      # ingest what the channel sold
        await engine.push()                           # tell every channel what it may sell

:class:`SyncEngine` offers the same operations to plain (non-async) code.

The store is synchronous and thread-safe; the engine runs each store transaction in a worker
thread. Event hooks are fired after the transaction that caused them has committed, and a
hook that raises is logged, never allowed to break the engine.

The work itself is done by the modules beside this one (intake, stock, pusher, customers,
catalog, reconciliation, status); each receives the engine's
:class:`~omnisdk.sync.context.SyncContext` (store, channels, clock, hooks), never the Engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from omnisdk.auth import TokenStore
from omnisdk.channel import Capability, Channel, ChannelInfo
from omnisdk.config import ChannelConfig, Config, build_channel, load_config
from omnisdk.errors import OmnisdkError, UsageError
from omnisdk.http import RateLimiterFactory
from omnisdk.models import ChannelEvent, Order, OrderStatus, Promotion
from omnisdk.plugins import Plugins, default_plugins
from omnisdk.store import PromotionListing, Store, StoredPromotion, StoreTokenStore
from omnisdk.store.refusal_count import StoreRefusalCount
from omnisdk.sync import (
    accounts,
    catalog,
    customer_view,
    customers,
    first_count,
    intake,
    notify,
    promotions,
    pusher,
    reconcile,
    removal,
    sales,
    stock,
)
from omnisdk.sync import status as engine_status
from omnisdk.sync.catalog import ApplyStats, ImportStats, Plan
from omnisdk.sync.channels import ChannelPool
from omnisdk.sync.context import NOT_OPEN, RejectedRecords, SyncContext
from omnisdk.sync.customer_view import CustomerView
from omnisdk.sync.customers import CustomerHistory
from omnisdk.sync.first_count import FirstCountStats
from omnisdk.sync.intake import IngestResult, SyncStats
from omnisdk.sync.promotions import PromotionPlan, PromotionRun
from omnisdk.sync.pusher import PushStats
from omnisdk.sync.reconcile import ReconcileReport
from omnisdk.sync.removal import RemovalReport
from omnisdk.sync.sales import SalesGroup, SalesReport
from omnisdk.sync.sellable import sellable
from omnisdk.sync.status import StatusReport
from omnisdk.sync.stock import StockView

__all__ = ["CycleStats", "Engine", "SyncEngine"]

logger = logging.getLogger("omnisdk.sync")

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CycleStats:
    """What one :meth:`Engine.sync_once` did: order polls, the push, the reconciliation.

    ``errors`` maps an account to what stopped one of its steps (the others went on).
    """

    polls: tuple[SyncStats, ...]
    push: PushStats
    reconcile: ReconcileReport | None = None
    errors: Mapping[str, str] = field(default_factory=dict)


class Engine:
    """The sync engine over one store and the channel accounts of one config.

    ``plugins`` defaults to the process-wide registry; ``store`` to the config's store URL
    (opened and migrated on :meth:`open`, closed on :meth:`aclose`; a store passed in is left
    open). ``transports`` gives an httpx transport per account name (tests connect channels to
    in-process sandboxes with ``httpx.ASGITransport``). ``clock`` returns the current aware UTC
    time. ``rate_limiters`` builds each account's rate limiter (the scale-out runtime shares
    budgets between processes with it; default: one limiter per channel, in this process).
    Use it as an async context manager, or call :meth:`open` and :meth:`aclose`.
    """

    def __init__(
        self,
        config: Config,
        *,
        plugins: Plugins | None = None,
        store: Store | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        clock: Callable[[], datetime] | None = None,
        rate_limiters: RateLimiterFactory | None = None,
        lazy_channels: bool = False,
    ) -> None:
        self.config = config
        self._lazy_channels = lazy_channels
        self._rate_limiters = rate_limiters
        self.plugins = plugins if plugins is not None else default_plugins()
        self._store = store
        self._owns_store = store is None
        self._transports = dict(transports or {})
        self._clock: Callable[[], datetime] = clock or _utcnow
        self.channels = ChannelPool(config, self.plugins, self._pool_channel)
        """One channel per configured account, by account name: every one built on
        :meth:`open`, or with ``lazy_channels`` each on its first lookup (empty while the
        engine is closed)."""
        self._tokens: StoreTokenStore | None = None
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._context: SyncContext | None = None
        self._hooks: RejectedRecords | None = None
        self._opened = False
        self._rejected: Counter[tuple[str, str]] = Counter()

    @classmethod
    def from_config_file(cls, path: Path | None = None, **kwargs: Any) -> Engine:
        """An engine for the config file at ``path`` (found as ``load_config`` says).

        ``kwargs`` go to the constructor; ``plugins`` is also used to validate the file.
        """
        config = load_config(path, plugins=kwargs.get("plugins"))
        return cls(config, **kwargs)

    def __repr__(self) -> str:
        names = ", ".join(entry.name for entry in self.config.channels)
        return f"<Engine accounts=[{names}] {'open' if self._opened else 'closed'}>"

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store (available once :meth:`open` ran, or when one was passed in)."""
        if self._store is None:
            raise UsageError(NOT_OPEN)
        return self._store

    @property
    def _ctx(self) -> SyncContext:
        """What the engine's parts receive (built once a store is there)."""
        if self._context is None:
            self._context = SyncContext(
                config=self.config,
                store=self.store,
                plugins=self.plugins,
                channels=self.channels,
                clock=self._clock,
                owner=self._owner,
                rejected=self._rejected,
            )
        return self._context

    @property
    def is_open(self) -> bool:
        """True between :meth:`open` and :meth:`aclose`."""
        return self._opened

    async def open(self) -> None:
        """Open the store, register the engine's hooks, build a channel per account."""
        if self._opened:
            return
        if self._store is None:
            url = self.config.store.url
            self._store = await asyncio.to_thread(self._open_store, url)
        store = self._store
        hooks = self._hooks = RejectedRecords(self._ctx)
        self.plugins.register(hooks, name=f"omnisdk.engine:{id(self)}")
        try:
            self._tokens = StoreTokenStore(store)
            self.channels.start()
            await asyncio.to_thread(self._ensure_accounts, store)
            if not self._lazy_channels:
                self.channels.open_all()
        except BaseException:
            await self._close_channels()
            self.plugins.unregister(hooks)
            raise
        self._opened = True

    def _ensure_accounts(self, store: Store) -> None:
        with store.session() as session:
            store.ensure_accounts(
                session, [(entry.name, entry.type) for entry in self.config.channels]
            )

    def _pool_channel(self, entry: ChannelConfig) -> Channel:
        """The pool's builder: ``entry``'s channel on the store's tokens."""
        if self._tokens is None:
            raise UsageError(NOT_OPEN)
        return self._build_channel(entry, self._tokens)

    async def release_channels(self, keep: int) -> int:
        """Close the least recently used channels until at most ``keep`` stay open (a
        closed one is built again when next needed); returns how many were closed. Call it
        between passes: a channel in use must not be closed."""
        return await self.channels.trim(keep)

    def _open_store(self, url: str) -> Store:
        store = Store(url, clock=self._clock)
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    async def aclose(self) -> None:
        """Close the channels' connections, unregister the hooks, close an owned store."""
        if not self._opened:
            return
        self._opened = False
        await self._close_channels()
        if self._hooks is not None and self.plugins.pm.is_registered(self._hooks):
            self.plugins.unregister(self._hooks)
        self._hooks = None
        if self._owns_store and self._store is not None:
            store, self._store = self._store, None
            self._context = None
            await asyncio.to_thread(store.close)

    async def _close_channels(self) -> None:
        # The same pool object: the context and webhook receivers hold it.
        await self.channels.aclose()
        self._tokens = None

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- accounts ----------------------------------------------------------------------------

    def channel(self, account: str) -> Channel:
        """The channel of ``account``; a clear error when it is not configured or not open."""
        if not self._opened:
            raise UsageError(NOT_OPEN)
        return self._ctx.channel(account)

    async def is_stopped(self, account: str) -> bool:
        """True when the engine must not talk to ``account`` (re-authorisation, archived)."""
        return await accounts.is_stopped(self._ctx, account)

    async def reauthorise(self, account: str) -> ChannelInfo:
        """Take the credentials the config now gives ``account`` as its authorisation.

        A channel built from the ``[[channels]]`` entry, blind to the token the store holds
        (which wins over the config's otherwise, and is the one that was refused), checks them
        against the platform. When they work, the token that check used or obtained replaces
        the stored one, the account is ``active`` again and the engine talks to it from now
        on; the platform's answer is returned. When they do not, the error is raised and the
        account stays as it was (a token the platform issued during the check is kept all the
        same: with single-use refresh tokens it is the only live one). An archived account is
        refused: it was retired on purpose.
        """
        if not self._opened:
            raise UsageError(NOT_OPEN)
        entry = self.config.channel(account)
        info = await accounts.reauthorise(
            self._ctx,
            account,
            lambda tokens: self._build_channel(entry, tokens),
        )
        old = self.channels.replace(
            account, self._build_channel(entry, StoreTokenStore(self.store))
        )
        if old is not None:
            await old.aclose()
        return info

    def _build_channel(self, entry: ChannelConfig, tokens: TokenStore) -> Channel:
        channel = build_channel(
            entry, self.plugins, tokens=tokens, transport=self._transports.get(entry.name)
        )
        channel.rate_limiters = self._rate_limiters
        store = self.store
        channel.refusal_counts = lambda _type, account: StoreRefusalCount(store, account)
        return channel

    # -- orders (omnisdk.sync.intake) ------------------------------------------------------

    async def ingest_order(self, order: Order) -> IngestResult:
        """Apply one order (idempotent): save it, move stock, resolve its customer, mark pushes.

        The same order seen twice, an older version, or one replayed after a crash changes
        nothing; a newer version moves stock along its new status.
        """
        return await intake.ingest_order(self._ctx, order)

    async def ingest_orders(self, orders: Sequence[Order]) -> list[IngestResult | Exception]:
        """Apply a page of orders as :meth:`ingest_order` applies each, in one transaction.

        Orders the store holds already cost one read for the page and no write. One result
        per order, in order; an order that could not be ingested has, in its place, the error
        that stopped it (the others were ingested all the same).
        """
        return await intake.ingest_orders(self._ctx, orders)

    async def record_order(self, order: Order | Mapping[str, Any]) -> IngestResult:
        """Record an order the app took itself (chat, phone, a channel without an order API).

        ``order`` is an :class:`~omnisdk.models.Order` or its dict form; its ``channel_ref``
        names the account (``{"channel": "facebook", "account": "fb-page", "external_id":
        "chat-0042"}``). It goes through the same path as channel orders.
        """
        return await intake.record_order(self._ctx, order)

    async def update_order(
        self,
        account: str,
        external_id: str,
        status: OrderStatus,
        *,
        tracking_number: str | None = None,
        carrier: str | None = None,
        note: str | None = None,
    ) -> IngestResult:
        """Move an order to ``status`` (ship, cancel...): on the channel, then in the store.

        Channels with the ``write_orders`` capability are told first (a refusal raises and
        changes nothing); the new version is then ingested, moving stock accordingly.
        """
        return await intake.update_order(
            self._ctx,
            account,
            external_id,
            status,
            tracking_number=tracking_number,
            carrier=carrier,
            note=note,
        )

    async def poll_orders(self, account: str) -> SyncStats:
        """Read the orders ``account`` changed since its cursor and ingest them."""
        return await intake.poll_orders(self._ctx, account)

    async def poll_customers(self, account: str) -> SyncStats:
        """Read the customers ``account`` changed since its cursor into the one customer view.

        Each record goes through the identity resolution orders use (merges explained, the
        ``omnisdk_customer_merged`` hook fired); one that cannot be mapped or resolved is
        quarantined and the others go on.
        """
        return await intake.poll_customers(self._ctx, account)

    async def poll_products(self, account: str) -> SyncStats:
        """Bind the listings ``account`` changed since its cursor to the master catalog.

        Each listed variant whose SKU the master has is bound to the account (by SKU) and a
        new binding is queued for a stock push; SKUs the master lacks are counted in
        :attr:`SyncStats.unknown`, never created (that is :meth:`import_catalog`'s job). The
        master catalog is never changed.
        """
        return await intake.poll_products(self._ctx, account)

    async def handle_events(self, account: str, events: list[ChannelEvent]) -> None:
        """Act on webhook events of ``account`` (hints: orders are ingested or fetched).

        A redelivered event (same delivery id) is a no-op; an event that cannot be processed
        is quarantined and the others go on.
        """
        await intake.handle_events(self._ctx, account, events)

    async def handle_event_batch(
        self, account: str, events: list[ChannelEvent]
    ) -> intake.EventBatch:
        """Act on the events of many webhook deliveries of ``account`` at once, set-based:
        the orders they carry ingested as one page with their delivery ids remembered in the
        same transaction (a redelivery is a no-op), the orders they only name fetched, or a
        poll asked for (:attr:`~omnisdk.sync.intake.EventBatch.poll_needed`) when they name
        many. See :mod:`omnisdk.sync.intake.webhook_batches`."""
        return await intake.handle_event_batch(self._ctx, account, events)

    # -- stock (omnisdk.sync.stock, omnisdk.sync.pusher) -----------------------------------

    async def set_stock(
        self,
        sku: str,
        quantity: int,
        *,
        location: str | None = None,
        reason: str = "count",
        key: str | None = None,
        create: bool = False,
    ) -> bool:
        """Record a stock count: on hand of ``sku`` at ``location`` becomes ``quantity``.

        ``key`` makes the count idempotent (a new one is made when None); returns False when
        that key was applied before. A SKU neither in the master catalog nor listed by an
        account, or a location the config does not name, raises
        :class:`~omnisdk.errors.UnknownRecord`; a quantity outside 0..``MAX_QUANTITY``
        :class:`~omnisdk.errors.InvalidValue`. The SKU is normalised like every canonical SKU.
        ``create=True`` accepts a SKU or location not known yet: for a stock take read from a
        system that is itself the truth for them (a POS's branches and SKUs), never for input
        a person typed.
        """
        return await stock.set_stock(
            self._ctx, sku, quantity, location=location, reason=reason, key=key, create=create
        )

    async def adjust_stock(
        self,
        sku: str,
        delta: int,
        *,
        location: str | None = None,
        key: str | None = None,
        reason: str = "adjust",
    ) -> bool:
        """Add ``delta`` (negative to remove) to on hand of ``sku`` at ``location``.

        ``key`` makes the adjustment idempotent (a delivery note number, say); returns False
        when that key was applied before. A removal that would take on hand below zero raises
        :class:`~omnisdk.errors.InsufficientStock` (saying what is on hand) and changes
        nothing; unknown SKUs and locations are refused as by :meth:`set_stock`.
        """
        return await stock.adjust_stock(
            self._ctx, sku, delta, location=location, key=key, reason=reason
        )

    async def stock_view(self, sku: str) -> StockView:
        """On hand and reserved per location; sellable, pushed and listed per account."""
        return await stock.stock_view(self._ctx, sku)

    async def sellable(self, account: str, sku: str) -> int:
        """What ``account`` may list of ``sku`` now (the allocation hook's answer)."""
        return await asyncio.to_thread(sellable, self._ctx, account, stock.manual_sku(sku))

    async def mark_dirty(self, skus: Sequence[str], accounts: Sequence[str] | None = None) -> int:
        """Queue a stock push of ``skus`` to ``accounts`` (default: every account listing them).

        Returns how many (account, SKU) pushes were queued.
        """
        return await stock.mark_dirty(self._ctx, skus, accounts)

    async def add_listing(self, account: str, sku: str, *, external_id: str | None = None) -> bool:
        """Record that ``account`` lists ``sku`` (its id there if known) and queue a push.

        The catalog import binds listings itself; this is for listings made another way.
        Returns True when the listing was new.
        """
        return await stock.add_listing(self._ctx, account, sku, external_id=external_id)

    async def push(self, account: str | None = None) -> PushStats:
        """Drain the outbox: push due stock figures to ``account`` (or to every account)."""
        return await pusher.push(self._ctx, account)

    async def retry_failed_pushes(self, account: str | None = None) -> int:
        """Queue every push that failed for good once more (the cause fixed); returns how many."""
        return await pusher.retry_failed(self._ctx, account)

    # -- customers (omnisdk.sync.customers) ------------------------------------------------

    async def customer_history(self, customer_id: str) -> CustomerHistory:
        """A customer (after merges) and their orders across every channel, oldest first."""
        return await customers.customer_history(self._ctx, customer_id)

    async def customer_view(self, customer_id: str) -> CustomerView:
        """One customer, 360°: contacts (masked ones marked), every channel identity, each
        merge with its reason, every order on every channel and at every store, lifetime
        value per currency and the channel used last. ``customer_id`` may be a record merged
        away: the view is of the customer it was merged into."""
        return await customer_view.customer_view(self._ctx, customer_id)

    async def find_customers(self, contact: str) -> list[CustomerView]:
        """The customers known by ``contact``: a phone number in any written form
        (``0912 345 678``, ``84912345678``, ``+84 912 345 678``) or an email address."""
        return await customer_view.find_customers(self._ctx, contact)

    async def deliver_notifications(self) -> int:
        """Call ``omnisdk_notify_customer`` again for notifications still pending a minute
        after their last try (the hook raised, or the process died before calling it);
        ``sync_once`` does this every cycle. Returns how many were delivered."""
        return await notify.redeliver(self._ctx)

    async def undo_customer_merge(self, merge_id: int) -> None:
        """Undo a customer merge: the merged-away record and its identities come back."""
        await asyncio.to_thread(self.store.undo_merge, merge_id)

    # -- catalog (omnisdk.sync.catalog, E2) ----------------------------------------------

    async def import_catalog(
        self, account: str, *, progress: Callable[[ImportStats], None] | None = None
    ) -> ImportStats:
        """Build (or extend) the master catalog from ``account``'s listings, binding by SKU;
        ``progress`` is called with the running figures after each listing."""
        return await catalog.import_catalog(self._ctx, account, progress=progress)

    async def count_listed_stock(self, account: str) -> FirstCountStats:
        """Take what ``account`` lists now as the first count of every SKU with no stock
        recorded yet (at the location its orders reserve at); counted SKUs are kept."""
        return await first_count.count_listed_stock(self._ctx, account)

    async def remove_account(self, account: str, *, dry_run: bool = False) -> RemovalReport:
        """Retire ``account``: its listings to 0, its webhooks removed, the account archived
        (its quotas go back to the others); orders, customers and bindings stay. See
        :mod:`omnisdk.sync.removal`."""
        return await removal.remove_account(self._ctx, account, dry_run=dry_run)

    async def plan(self, accounts: Sequence[str] | None = None) -> Plan:
        """What a catalog sync would send to ``accounts`` (default: all), without sending."""
        return await catalog.plan(self._ctx, accounts)

    async def apply(self, plan: Plan | None = None) -> ApplyStats:
        """Send ``plan`` (a fresh plan of every account when None)."""
        return await catalog.apply(self._ctx, plan)

    # -- promotions (omnisdk.sync.promotions) ----------------------------------------------

    async def add_promotion(self, promotion: Promotion) -> None:
        """Add (or change) a promotion of the master catalog, kept in the store.

        Nothing is written to the channels until :meth:`run_promotions` (which ``omnisdk
        run`` calls every minute). A promotion from ``[[promotions]]`` is changed in the
        config instead; an ended one cannot be brought back under the same id.
        """
        await promotions.add_promotion(self._ctx, promotion)

    async def promotions(self, *, include_ended: bool = True) -> list[StoredPromotion]:
        """Every promotion (``[[promotions]]`` and added ones), by start time; one taken out
        of the config is ended (and restored at the next :meth:`run_promotions`)."""
        return await promotions.list_promotions(self._ctx, include_ended=include_ended)

    async def promotion_listings(self, promotion_id: str | None = None) -> list[PromotionListing]:
        """What each account shows of each promotion (or of one): applied, ended or failed."""
        return await asyncio.to_thread(self.store.promotion_listings, promotion_id)

    async def plan_promotions(self, at: datetime | None = None) -> PromotionPlan:
        """What every promotion not ended at ``at`` (default now) sets on each account listing
        a covered SKU, through the channel's declared mechanism, and which items of ended
        promotions are still to be restored. An account that cannot express a promotion is
        planned as ``unsupported`` (with the reason); nothing is written."""
        return await promotions.plan_promotions(self._ctx, at)

    async def run_promotions(self, at: datetime | None = None) -> PromotionRun:
        """Carry the promotion plan out at ``at`` (default now): write what is due through
        each channel's mechanism and restore the base price of what has ended. Idempotent:
        a second run, or a run after a crash half-way, writes only what is not done yet."""
        return await promotions.run_promotions(self._ctx, at)

    async def end_promotion(self, promotion_id: str) -> PromotionRun:
        """End a promotion now (before its end time) and restore every account's base price."""
        return await promotions.end_promotion(self._ctx, promotion_id)

    def now(self) -> datetime:
        """The engine's current time (aware UTC; the injected clock in tests)."""
        return self._clock()

    async def next_promotion_change(self) -> datetime | None:
        """The next start or end of a promotion not ended yet (None: none to come): when
        :meth:`run_promotions` has something new to do (the local runtime wakes then)."""
        return await promotions.next_change(self._ctx)

    async def reconcile(self, accounts: Sequence[str] | None = None) -> ReconcileReport:
        """Compare listed stock with what each account should list; repair drift and oversells."""
        return await reconcile.reconcile(self._ctx, accounts)

    async def status(self) -> StatusReport:
        """The engine's state: accounts, outbox depth, failed pushes, quarantine, cursors."""
        return await engine_status.status(self._ctx)

    async def sales_report(
        self,
        by: SalesGroup | str = SalesGroup.CHANNEL,
        *,
        since: datetime | date | None = None,
        until: datetime | date | None = None,
    ) -> SalesReport:
        """Revenue from the one order book, grouped ``by`` channel, account, location, SKU
        or day, one row per group and currency (amounts in two currencies are never added).

        ``since`` is included and ``until`` excluded; a date (or a naive datetime) is read in
        the shop's ``[engine] timezone``, where days are counted too. The store aggregates in
        one query (see :mod:`omnisdk.sync.sales` for what each figure means).
        """
        return await sales.sales_report(self._ctx, by, since=since, until=until)

    # -- the whole cycle -------------------------------------------------------------------

    async def sync_once(self, *, reconcile: bool = True) -> CycleStats:
        """One full cycle: poll every account's orders, push the outbox, then reconcile.

        One account failing never stops the others: its error is reported in
        :attr:`CycleStats.errors`.
        """
        errors: dict[str, str] = {}
        polls: list[SyncStats] = []
        names = [
            name
            for name in self.channels
            if Capability.READ_ORDERS in self.channels.capabilities(name)
        ]
        results = await asyncio.gather(
            *(self.poll_orders(name) for name in names), return_exceptions=True
        )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, SyncStats):
                polls.append(result)
            elif isinstance(result, Exception):
                errors[name] = _describe(result)
            elif isinstance(result, BaseException):
                raise result
        pushed = await self.push()
        await self.deliver_notifications()
        report: ReconcileReport | None = None
        if reconcile:
            try:
                report = await self.reconcile()
            except (ImportError, OmnisdkError) as exc:
                errors["reconcile"] = _describe(exc)
        cycle = CycleStats(polls=tuple(polls), push=pushed, reconcile=report, errors=errors)
        return cycle


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class SyncEngine:
    """The :class:`Engine` for plain (non-async) code: same operations, blocking calls.

    A private event loop runs in a background thread; each method submits the engine's
    coroutine to it and waits::

        with SyncEngine(load_config()) as engine:
            engine.set_stock("ÁO-THUN-ĐỎ-M", 12)
            engine.sync_once()

    The constructor takes the :class:`Engine` constructor's arguments. The engine itself is
    :attr:`engine` (its attributes, such as ``store`` and ``channels``, are usable directly).
    """

    def __init__(self, config: Config, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="omnisdk-sync-engine", daemon=True
        )
        self._thread.start()
        self.engine = Engine(config, **kwargs)
        self._closed = False
        try:
            self._run(self.engine.open())
        except BaseException:
            self._stop_loop()
            raise

    @classmethod
    def from_config_file(cls, path: Path | None = None, **kwargs: Any) -> SyncEngine:
        """A sync engine for the config file at ``path`` (found as ``load_config`` says)."""
        return cls(load_config(path, plugins=kwargs.get("plugins")), **kwargs)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coroutine.close()
            raise UsageError("the SyncEngine is closed")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    def close(self) -> None:
        """Close the engine and stop its event loop (idempotent)."""
        if self._closed:
            return
        try:
            self._run(self.engine.aclose())
        finally:
            self._closed = True
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Each method mirrors the Engine method of the same name.

    def ingest_order(self, order: Order) -> IngestResult:
        """See :meth:`Engine.ingest_order`."""
        return self._run(self.engine.ingest_order(order))

    def record_order(self, order: Order | Mapping[str, Any]) -> IngestResult:
        """See :meth:`Engine.record_order`."""
        return self._run(self.engine.record_order(order))

    def update_order(
        self, account: str, external_id: str, status: OrderStatus, **kwargs: Any
    ) -> IngestResult:
        """See :meth:`Engine.update_order`."""
        return self._run(self.engine.update_order(account, external_id, status, **kwargs))

    def poll_orders(self, account: str) -> SyncStats:
        """See :meth:`Engine.poll_orders`."""
        return self._run(self.engine.poll_orders(account))

    def poll_customers(self, account: str) -> SyncStats:
        """See :meth:`Engine.poll_customers`."""
        return self._run(self.engine.poll_customers(account))

    def poll_products(self, account: str) -> SyncStats:
        """See :meth:`Engine.poll_products`."""
        return self._run(self.engine.poll_products(account))

    def handle_events(self, account: str, events: list[ChannelEvent]) -> None:
        """See :meth:`Engine.handle_events`."""
        self._run(self.engine.handle_events(account, events))

    def set_stock(self, sku: str, quantity: int, **kwargs: Any) -> bool:
        """See :meth:`Engine.set_stock`."""
        return self._run(self.engine.set_stock(sku, quantity, **kwargs))

    def adjust_stock(self, sku: str, delta: int, **kwargs: Any) -> bool:
        """See :meth:`Engine.adjust_stock`."""
        return self._run(self.engine.adjust_stock(sku, delta, **kwargs))

    def stock_view(self, sku: str) -> StockView:
        """See :meth:`Engine.stock_view`."""
        return self._run(self.engine.stock_view(sku))

    def sellable(self, account: str, sku: str) -> int:
        """See :meth:`Engine.sellable`."""
        return self._run(self.engine.sellable(account, sku))

    def mark_dirty(self, skus: Sequence[str], accounts: Sequence[str] | None = None) -> int:
        """See :meth:`Engine.mark_dirty`."""
        return self._run(self.engine.mark_dirty(skus, accounts))

    def add_listing(self, account: str, sku: str, *, external_id: str | None = None) -> bool:
        """See :meth:`Engine.add_listing`."""
        return self._run(self.engine.add_listing(account, sku, external_id=external_id))

    def push(self, account: str | None = None) -> PushStats:
        """See :meth:`Engine.push`."""
        return self._run(self.engine.push(account))

    def retry_failed_pushes(self, account: str | None = None) -> int:
        """See :meth:`Engine.retry_failed_pushes`."""
        return self._run(self.engine.retry_failed_pushes(account))

    def customer_history(self, customer_id: str) -> CustomerHistory:
        """See :meth:`Engine.customer_history`."""
        return self._run(self.engine.customer_history(customer_id))

    def customer_view(self, customer_id: str) -> CustomerView:
        """See :meth:`Engine.customer_view`."""
        return self._run(self.engine.customer_view(customer_id))

    def find_customers(self, contact: str) -> list[CustomerView]:
        """See :meth:`Engine.find_customers`."""
        return self._run(self.engine.find_customers(contact))

    def deliver_notifications(self) -> int:
        """See :meth:`Engine.deliver_notifications`."""
        return self._run(self.engine.deliver_notifications())

    def undo_customer_merge(self, merge_id: int) -> None:
        """See :meth:`Engine.undo_customer_merge`."""
        self._run(self.engine.undo_customer_merge(merge_id))

    def reauthorise(self, account: str) -> ChannelInfo:
        """See :meth:`Engine.reauthorise`."""
        return self._run(self.engine.reauthorise(account))

    def import_catalog(
        self, account: str, *, progress: Callable[[ImportStats], None] | None = None
    ) -> ImportStats:
        """See :meth:`Engine.import_catalog`."""
        return self._run(self.engine.import_catalog(account, progress=progress))

    def plan(self, accounts: Sequence[str] | None = None) -> Plan:
        """See :meth:`Engine.plan`."""
        return self._run(self.engine.plan(accounts))

    def apply(self, plan: Plan | None = None) -> ApplyStats:
        """See :meth:`Engine.apply`."""
        return self._run(self.engine.apply(plan))

    def add_promotion(self, promotion: Promotion) -> None:
        """See :meth:`Engine.add_promotion`."""
        self._run(self.engine.add_promotion(promotion))

    def promotions(self, *, include_ended: bool = True) -> list[StoredPromotion]:
        """See :meth:`Engine.promotions`."""
        return self._run(self.engine.promotions(include_ended=include_ended))

    def promotion_listings(self, promotion_id: str | None = None) -> list[PromotionListing]:
        """See :meth:`Engine.promotion_listings`."""
        return self._run(self.engine.promotion_listings(promotion_id))

    def plan_promotions(self, at: datetime | None = None) -> PromotionPlan:
        """See :meth:`Engine.plan_promotions`."""
        return self._run(self.engine.plan_promotions(at))

    def run_promotions(self, at: datetime | None = None) -> PromotionRun:
        """See :meth:`Engine.run_promotions`."""
        return self._run(self.engine.run_promotions(at))

    def end_promotion(self, promotion_id: str) -> PromotionRun:
        """See :meth:`Engine.end_promotion`."""
        return self._run(self.engine.end_promotion(promotion_id))

    def next_promotion_change(self) -> datetime | None:
        """See :meth:`Engine.next_promotion_change`."""
        return self._run(self.engine.next_promotion_change())

    def reconcile(self, accounts: Sequence[str] | None = None) -> ReconcileReport:
        """See :meth:`Engine.reconcile`."""
        return self._run(self.engine.reconcile(accounts))

    def sync_once(self, *, reconcile: bool = True) -> CycleStats:
        """See :meth:`Engine.sync_once`."""
        return self._run(self.engine.sync_once(reconcile=reconcile))

    def sales_report(
        self,
        by: SalesGroup | str = SalesGroup.CHANNEL,
        *,
        since: datetime | date | None = None,
        until: datetime | date | None = None,
    ) -> SalesReport:
        """See :meth:`Engine.sales_report`."""
        return self._run(self.engine.sales_report(by, since=since, until=until))

    def status(self) -> StatusReport:
        """See :meth:`Engine.status`."""
        return self._run(self.engine.status())
