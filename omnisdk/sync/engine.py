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
thread (:meth:`Engine.db`). Event hooks are fired after the transaction that caused them has
committed, and a hook that raises is logged, never allowed to break the engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar

import httpx

from omnisdk.allocation import AllocationRule
from omnisdk.channel import Capability, Channel
from omnisdk.config import ChannelConfig, Config, build_channel, load_config
from omnisdk.errors import OmnisdkError, ReauthorisationRequired
from omnisdk.hookspecs import hookimpl
from omnisdk.models import ChannelEvent, Order, OrderStatus
from omnisdk.plugins import Plugins, default_plugins
from omnisdk.store import AccountStatus, Store, StoreTokenStore

if TYPE_CHECKING:
    from omnisdk.sync.catalog import ApplyStats, ImportStats, Plan
    from omnisdk.sync.customers import CustomerHistory
    from omnisdk.sync.intake import IngestResult, SyncStats
    from omnisdk.sync.pusher import PushStats
    from omnisdk.sync.reconcile import ReconcileReport
    from omnisdk.sync.status import StatusReport
    from omnisdk.sync.stock import StockView

__all__ = ["CycleStats", "Engine", "SyncEngine"]

logger = logging.getLogger("omnisdk.sync")

T = TypeVar("T")
P = ParamSpec("P")

STOPPED_STATUSES = frozenset({AccountStatus.NEEDS_REAUTH, AccountStatus.ARCHIVED})
"""Account statuses the engine does not talk to the channel in."""


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


class _EngineHooks:
    """The engine's own hook implementations, registered in its :class:`Plugins`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @hookimpl
    def omnisdk_record_rejected(
        self,
        channel: Channel,
        kind: str,
        external_id: str | None,
        raw: dict[str, Any],
        reason: str,
    ) -> None:
        """Quarantine a payload one of this engine's channels could not map."""
        engine = self._engine
        if engine.channels.get(channel.account) is not channel:
            return  # another engine's channel sharing the registry: not ours to keep
        engine.store.quarantine(channel.account, kind, external_id, reason, raw)
        engine._rejected[(channel.account, kind)] += 1


class Engine:
    """The sync engine over one store and the channel accounts of one config.

    ``plugins`` defaults to the process-wide registry; ``store`` to the config's store URL
    (opened and migrated on :meth:`open`, closed on :meth:`aclose`; a store passed in is left
    open). ``transports`` gives an httpx transport per account name (tests connect channels to
    in-process sandboxes with ``httpx.ASGITransport``). ``clock`` returns the current aware UTC
    time. Use it as an async context manager, or call :meth:`open` and :meth:`aclose`.
    """

    def __init__(
        self,
        config: Config,
        *,
        plugins: Plugins | None = None,
        store: Store | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.plugins = plugins if plugins is not None else default_plugins()
        self._store = store
        self._owns_store = store is None
        self._transports = dict(transports or {})
        self.clock: Callable[[], datetime] = clock or _utcnow
        self.channels: dict[str, Channel] = {}
        """One channel per configured account, by account name (built on :meth:`open`)."""
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """This engine's name as a lease owner in the outbox."""
        self._hooks = _EngineHooks(self)
        self._opened = False
        self._reauth_lock = threading.Lock()
        self._rejected: Counter[tuple[str, str]] = Counter()

    @classmethod
    def from_config_file(cls, path: Path | None = None, **kwargs: Any) -> Engine:
        """An engine for the config file at ``path`` (found as ``load_config`` says).

        ``kwargs`` go to the constructor; ``plugins`` is also used to validate the file.
        """
        config = load_config(path, plugins=kwargs.get("plugins"))
        return cls(config, **kwargs)

    def __repr__(self) -> str:
        accounts = ", ".join(entry.name for entry in self.config.channels)
        return f"<Engine accounts=[{accounts}] {'open' if self._opened else 'closed'}>"

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store (available once :meth:`open` ran, or when one was passed in)."""
        if self._store is None:
            raise OmnisdkError("the engine is not open: call `await engine.open()` first")
        return self._store

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
        self.plugins.register(self._hooks, name=f"omnisdk.engine:{id(self)}")
        try:
            tokens = StoreTokenStore(store)
            for entry in self.config.channels:
                channel = build_channel(
                    entry, self.plugins, tokens=tokens, transport=self._transports.get(entry.name)
                )
                self.channels[entry.name] = channel
                await self.db(store.ensure_account, entry.name, entry.type)
        except BaseException:
            await self._close_channels()
            self.plugins.unregister(self._hooks)
            raise
        self._opened = True

    def _open_store(self, url: str) -> Store:
        store = Store(url, clock=self.clock)
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
        if self.plugins.pm.is_registered(self._hooks):
            self.plugins.unregister(self._hooks)
        if self._owns_store and self._store is not None:
            store, self._store = self._store, None
            await asyncio.to_thread(store.close)

    async def _close_channels(self) -> None:
        channels, self.channels = list(self.channels.values()), {}
        for channel in channels:
            try:
                await channel.aclose()
            except Exception:  # closing must go on for the others
                logger.exception("closing %r failed", channel)

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

    # -- helpers the engine modules share --------------------------------------------------

    async def db(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the synchronous store call ``fn(*args, **kwargs)`` in a worker thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def now(self) -> datetime:
        """The engine's current time (aware UTC)."""
        return self.clock()

    def account_config(self, account: str) -> ChannelConfig:
        """The ``[[channels]]`` entry of ``account`` (ConfigError listing the others if none)."""
        return self.config.channel(account)

    def channel(self, account: str) -> Channel:
        """The channel of ``account``; a clear error when it is not configured or not open."""
        found = self.channels.get(account)
        if found is None:
            if not self._opened:
                raise OmnisdkError("the engine is not open: call `await engine.open()` first")
            self.config.channel(account)  # raises the ConfigError naming the accounts
            raise OmnisdkError(f"channel account {account!r} has no channel")
        return found

    def location_of(self, account: str) -> str:
        """The location code orders of ``account`` reserve at (engine default if unset)."""
        for entry in self.config.channels:
            if entry.name == account:
                return entry.location or self.config.engine.default_location
        return self.config.engine.default_location

    def rule_of(self, account: str) -> AllocationRule:
        """The allocation rule of ``account`` (the default rule for unconfigured accounts)."""
        for entry in self.config.channels:
            if entry.name == account:
                return entry.allocation
        return AllocationRule()

    def stock_accounts(self) -> dict[str, Channel]:
        """The configured accounts whose channel takes stock writes, by name."""
        return {
            name: channel
            for name, channel in self.channels.items()
            if Capability.WRITE_STOCK in channel.capabilities
        }

    async def account_status(self, account: str) -> AccountStatus:
        """The stored status of ``account`` (``active`` when it is not registered yet)."""
        row = await self.db(self.store.get_account, account)
        return row.status if row is not None else AccountStatus.ACTIVE

    async def is_stopped(self, account: str) -> bool:
        """True when the engine must not talk to ``account`` (re-authorisation, archived)."""
        return await self.account_status(account) in STOPPED_STATUSES

    async def lost_authorisation(self, account: str, reason: str | BaseException) -> bool:
        """Stop ``account``: set it ``needs_reauth`` and fire the hook, the first time only.

        Returns True when this call changed the status (and fired
        ``omnisdk_channel_needs_reauthorisation``). Call it wherever a
        :class:`~omnisdk.errors.ReauthorisationRequired` is caught.
        """
        text = str(reason) or type(reason).__name__
        channel = self.channels.get(account)
        channel_type = channel.name if channel is not None else self.account_config(account).type
        changed = await self.db(self._stop_account, account, channel_type)
        if changed:
            logger.warning("%s: authorisation lost, the account is stopped: %s", account, text)
            self.fire(
                "omnisdk_channel_needs_reauthorisation",
                channel=channel_type,
                account=account,
                reason=text,
            )
        return changed

    def _stop_account(self, account: str, channel_type: str) -> bool:
        with self._reauth_lock, self.store.session() as session:
            row = self.store.ensure_account(account, channel_type, session=session)
            if row.status is AccountStatus.NEEDS_REAUTH:
                return False
            self.store.set_account_status(account, AccountStatus.NEEDS_REAUTH, session=session)
            return True

    async def reauthorised(self, account: str) -> None:
        """A person authorised ``account`` again: set it ``active`` so the engine resumes it."""
        await self.db(self.store.set_account_status, account, AccountStatus.ACTIVE)
        channel = self.channels.get(account)
        if channel is not None:
            channel._keeper = None  # forget the refusal the token keeper remembered

    async def guarded(self, account: str, work: Awaitable[T]) -> T | None:
        """Await ``work`` for ``account``; on lost authorisation stop the account, return None."""
        try:
            return await work
        except ReauthorisationRequired as exc:
            await self.lost_authorisation(account, exc)
            return None

    def rejections(self, account: str, kind: str) -> int:
        """How many ``kind`` records (``"customer"``, ...) of ``account`` its channel could not
        map and this engine quarantined since it was built (pollers count a pass's share)."""
        return self._rejected[(account, kind)]

    def fire(self, hook: str, **kwargs: Any) -> None:
        """Call event hook ``hook``; an implementation that raises is logged and ignored."""
        try:
            getattr(self.plugins.hook, hook)(**kwargs)
        except Exception:
            logger.exception("a %s hook implementation failed", hook)

    # -- orders (omnisdk.sync.intake) ------------------------------------------------------

    async def ingest_order(self, order: Order) -> IngestResult:
        """Apply one order (idempotent): save it, move stock, resolve its customer, mark pushes.

        The same order seen twice, an older version, or one replayed after a crash changes
        nothing; a newer version moves stock along its new status.
        """
        from omnisdk.sync import intake

        return await intake.ingest_order(self, order)

    async def record_order(self, order: Order | Mapping[str, Any]) -> IngestResult:
        """Record an order the app took itself (chat, phone, a channel without an order API).

        ``order`` is an :class:`~omnisdk.models.Order` or its dict form; its ``channel_ref``
        names the account (``{"channel": "facebook", "account": "fb-page", "external_id":
        "chat-0042"}``). It goes through the same path as channel orders.
        """
        from omnisdk.sync import intake

        return await intake.record_order(self, order)

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
        from omnisdk.sync import intake

        return await intake.update_order(
            self,
            account,
            external_id,
            status,
            tracking_number=tracking_number,
            carrier=carrier,
            note=note,
        )

    async def poll_orders(self, account: str) -> SyncStats:
        """Read the orders ``account`` changed since its cursor and ingest them."""
        from omnisdk.sync import intake

        return await intake.poll_orders(self, account)

    async def poll_customers(self, account: str) -> SyncStats:
        """Read the customers ``account`` changed since its cursor into the one customer view.

        Each record goes through the identity resolution orders use (merges explained, the
        ``omnisdk_customer_merged`` hook fired); one that cannot be mapped or resolved is
        quarantined and the others go on.
        """
        from omnisdk.sync import intake

        return await intake.poll_customers(self, account)

    async def poll_products(self, account: str) -> SyncStats:
        """Bind the listings ``account`` changed since its cursor to the master catalogue.

        Each listed variant whose SKU the master has is bound to the account (by SKU) and a
        new binding is queued for a stock push; SKUs the master lacks are counted in
        :attr:`SyncStats.unknown`, never created (that is :meth:`import_catalog`'s job). The
        master catalogue is never changed.
        """
        from omnisdk.sync import intake

        return await intake.poll_products(self, account)

    async def handle_events(self, account: str, events: list[ChannelEvent]) -> None:
        """Act on webhook events of ``account`` (hints: orders are ingested or fetched).

        A redelivered event (same delivery id) is a no-op; an event that cannot be processed
        is quarantined and the others go on.
        """
        from omnisdk.sync import intake

        await intake.handle_events(self, account, events)

    # -- stock (omnisdk.sync.stock, omnisdk.sync.pusher) -----------------------------------

    async def set_stock(
        self,
        sku: str,
        quantity: int,
        *,
        location: str | None = None,
        reason: str = "count",
        key: str | None = None,
    ) -> bool:
        """Record a stock count: on hand of ``sku`` at ``location`` becomes ``quantity``.

        ``key`` makes the count idempotent (a new one is made when None); returns False when
        that key was applied before.
        """
        from omnisdk.sync import stock

        return await stock.set_stock(self, sku, quantity, location=location, reason=reason, key=key)

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
        when that key was applied before.
        """
        from omnisdk.sync import stock

        return await stock.adjust_stock(self, sku, delta, location=location, key=key, reason=reason)

    async def stock_view(self, sku: str) -> StockView:
        """On hand and reserved per location; sellable, pushed and listed per account."""
        from omnisdk.sync import stock

        return await stock.stock_view(self, sku)

    async def sellable(self, account: str, sku: str) -> int:
        """What ``account`` may list of ``sku`` now (the allocation hook's answer)."""
        from omnisdk.sync import pusher

        return await self.db(pusher.sellable, self, account, sku)

    async def mark_dirty(self, skus: Sequence[str], accounts: Sequence[str] | None = None) -> int:
        """Queue a stock push of ``skus`` to ``accounts`` (default: every account listing them).

        Returns how many (account, SKU) pushes were queued.
        """
        from omnisdk.sync import stock

        return await stock.mark_dirty(self, skus, accounts)

    async def add_listing(self, account: str, sku: str, *, external_id: str | None = None) -> bool:
        """Record that ``account`` lists ``sku`` (its id there if known) and queue a push.

        The catalogue import binds listings itself; this is for listings made another way.
        Returns True when the listing was new.
        """
        from omnisdk.sync import stock

        return await stock.add_listing(self, account, sku, external_id=external_id)

    async def push(self, account: str | None = None) -> PushStats:
        """Drain the outbox: push due stock figures to ``account`` (or to every account)."""
        from omnisdk.sync import pusher

        return await pusher.push(self, account)

    async def retry_failed_pushes(self, account: str | None = None) -> int:
        """Queue every push that failed for good once more (the cause fixed); returns how many."""
        from omnisdk.sync import pusher

        return await pusher.retry_failed(self, account)

    # -- customers (omnisdk.sync.customers) ------------------------------------------------

    async def customer_history(self, customer_id: str) -> CustomerHistory:
        """A customer (after merges) and their orders across every channel, oldest first."""
        from omnisdk.sync import customers

        return await customers.customer_history(self, customer_id)

    async def undo_customer_merge(self, merge_id: int) -> None:
        """Undo a customer merge: the merged-away record and its identities come back."""
        await self.db(self.store.undo_merge, merge_id)

    # -- catalogue (omnisdk.sync.catalog, E2) ----------------------------------------------

    async def import_catalog(self, account: str) -> ImportStats:
        """Build (or extend) the master catalogue from ``account``'s listings, binding by SKU."""
        from omnisdk.sync import catalog

        return await catalog.import_catalog(self, account)

    async def plan(self, accounts: Sequence[str] | None = None) -> Plan:
        """What a catalogue sync would send to ``accounts`` (default: all), without sending."""
        from omnisdk.sync import catalog

        return await catalog.plan(self, accounts)

    async def apply(self, plan: Plan | None = None) -> ApplyStats:
        """Send ``plan`` (a fresh plan of every account when None)."""
        from omnisdk.sync import catalog

        return await catalog.apply(self, plan)

    async def reconcile(self, accounts: Sequence[str] | None = None) -> ReconcileReport:
        """Compare listed stock with what each account should list; repair drift and oversells."""
        from omnisdk.sync import reconcile

        return await reconcile.reconcile(self, accounts)

    async def status(self) -> StatusReport:
        """The engine's state: accounts, outbox depth, failed pushes, quarantine, cursors."""
        from omnisdk.sync import status

        return await status.status(self)

    # -- the whole cycle -------------------------------------------------------------------

    async def sync_once(self, *, reconcile: bool = True) -> CycleStats:
        """One full cycle: poll every account's orders, push the outbox, then reconcile.

        One account failing never stops the others: its error is reported in
        :attr:`CycleStats.errors`.
        """
        from omnisdk.sync.intake import SyncStats

        errors: dict[str, str] = {}
        polls: list[SyncStats] = []
        names = [
            name
            for name, channel in self.channels.items()
            if Capability.READ_ORDERS in channel.capabilities
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
            raise OmnisdkError("the SyncEngine is closed")
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

    def undo_customer_merge(self, merge_id: int) -> None:
        """See :meth:`Engine.undo_customer_merge`."""
        self._run(self.engine.undo_customer_merge(merge_id))

    def reauthorised(self, account: str) -> None:
        """See :meth:`Engine.reauthorised`."""
        self._run(self.engine.reauthorised(account))

    def import_catalog(self, account: str) -> ImportStats:
        """See :meth:`Engine.import_catalog`."""
        return self._run(self.engine.import_catalog(account))

    def plan(self, accounts: Sequence[str] | None = None) -> Plan:
        """See :meth:`Engine.plan`."""
        return self._run(self.engine.plan(accounts))

    def apply(self, plan: Plan | None = None) -> ApplyStats:
        """See :meth:`Engine.apply`."""
        return self._run(self.engine.apply(plan))

    def reconcile(self, accounts: Sequence[str] | None = None) -> ReconcileReport:
        """See :meth:`Engine.reconcile`."""
        return self._run(self.engine.reconcile(accounts))

    def sync_once(self, *, reconcile: bool = True) -> CycleStats:
        """See :meth:`Engine.sync_once`."""
        return self._run(self.engine.sync_once(reconcile=reconcile))

    def status(self) -> StatusReport:
        """See :meth:`Engine.status`."""
        return self._run(self.engine.status())
