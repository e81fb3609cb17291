"""The local runtime: the whole engine in one process, on one asyncio loop.

``omnisdk run`` is this runtime: for every channel account it runs

- an **order poller** on the account's ``[channels.poll] orders`` interval (polling is the
  truth; webhooks only make changes arrive sooner);
- a **customer poller** on ``[channels.poll] customers`` (channels that read customers):
  listed customers join the one customer view;
- a **listing poller** on ``[channels.poll] products`` (channels that read products):
  new listings of known SKUs are bound to the account and get their first stock push;
- a **stock read-back** that reconciles the account's listed stock, every
  ``[channels.poll] stock`` when the account sets it, else every ``[engine]
  reconcile_interval``;
- a **pusher** that drains the account's outbox. It wakes at once when the engine commits a
  stock change (the ``omnisdk_stock_changed`` hook, whoever made the change in this
  process: a webhook, a poll, the app), goes again while a pass finds work, and also runs
  on a periodic tick (``[engine] push_interval``) that catches changes made by other
  processes (``omnisdk stock set`` against the same database) and retries that came due;

one **promotions job** (``Engine.run_promotions``) that writes each promotion through every
channel's mechanism when it is due and ends it at its end time, base prices back: it wakes
at the next start or end (in the shop's time, as the promotion says), and at least every
minute for promotions another process added; and one **webhook receiver**
(:class:`omnisdk.webhooks.WebhookReceiver`, Starlette on uvicorn, ``127.0.0.1`` by default)
serving ``POST /webhooks/{account}`` for every account. Accepted events go to
``Engine.handle_events``; when that fails the account is polled at once.
When ``[engine] status_page`` (or ``status_page=``) names an address, the read-only
**status page** (:class:`omnisdk.statuspage.StatusPage`) is served there too, on a listener
of its own (the webhook receiver may face the internet; the page should not).

Shutdown (:meth:`LocalRuntime.stop`, or SIGINT/SIGTERM under :meth:`LocalRuntime.run`) stops
accepting webhooks, lets every loop finish the operation in hand for up to ``grace``
seconds, hands accepted webhook events to the engine, then cancels what is left. A push cut
off there is safe: its outbox row stays leased until the lease runs out and is pushed again
(the generation guard means a change made meanwhile is never lost). The runtime does not
close the engine; whoever opened it does (``async with engine: await runtime.run()``).

One runtime per store: :meth:`LocalRuntime.start` takes the store's run lock
(:meth:`omnisdk.store.Store.acquire_run_lock`) and a second runtime on the same store fails
with :class:`~omnisdk.store.RunLocked` naming the holder (pid, host, since). The lock dies
with the process that holds it, so a crashed runtime never blocks the next one. A PostgreSQL
lock also dies with its connection: every ``run_lock_check`` seconds the runtime makes sure it
still holds it, takes it again when the connection was lost, and stops (``run`` then raises
:class:`~omnisdk.store.RunLocked`, kept in :attr:`LocalRuntime.run_lock_lost`) when another
runtime took it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from omnisdk._listen import bind_socket
from omnisdk.channel import Capability
from omnisdk.errors import ServiceError, StoreError, UsageError
from omnisdk.hookspecs import hookimpl
from omnisdk.models import ChannelEvent, StockPushMode
from omnisdk.runtime.served import ServedApp, status_page_address
from omnisdk.runtime.served import make_server as _make_server

if TYPE_CHECKING:
    from omnisdk.statuspage import StatusPage
    from omnisdk.store import RunLock, RunLocked
    from omnisdk.sync.engine import Engine
    from omnisdk.webhooks import WebhookBatch, WebhookReceiver

__all__ = ["AccountActivity", "LocalRuntime", "RuntimeStats", "bind_socket"]

logger = logging.getLogger("omnisdk.runtime")

DEFAULT_GRACE = 10.0
"""Seconds in-flight work may take to finish at shutdown before it is cancelled."""
RUN_LOCK_CHECK = 5.0
"""Seconds between checks that the run lock is still held."""
_ERROR_BACKOFF_MAX = 60.0
_POLLERS = ("orders:", "customers:", "products:")
_NOTIFY_RETRY_SECONDS = 60.0
"""How often the runtime retries customer notifications still pending (see omnisdk.sync.notify)."""
_PROMOTIONS_SECONDS = 60.0
"""The longest the promotions job sleeps (it wakes earlier for a start or end that is due,
and picks up promotions another process added within this)."""


@dataclass
class AccountActivity:
    """What the runtime did for one account so far (for status displays and tests)."""

    polls: int = 0
    customer_polls: int = 0
    product_polls: int = 0
    pushes: int = 0
    reconciles: int = 0
    webhook_batches: int = 0
    errors: int = 0
    last_error: str | None = None


@dataclass
class RuntimeStats:
    """Counters of a running :class:`LocalRuntime`, per account."""

    accounts: dict[str, AccountActivity] = field(default_factory=dict)
    started_at: float | None = None

    def of(self, account: str) -> AccountActivity:
        """The activity record of ``account`` (created on first use)."""
        return self.accounts.setdefault(account, AccountActivity())


class _StockWatcher:
    """Wakes the pushers whenever the engine commits a stock change (any caller, any task).

    Registered in the engine's plugins while the runtime runs: ``omnisdk_stock_changed`` is
    fired after the transaction that marked the outbox has committed.
    """

    def __init__(self, runtime: LocalRuntime, loop: asyncio.AbstractEventLoop) -> None:
        self._runtime = runtime
        self._loop = loop

    @hookimpl
    def omnisdk_stock_changed(
        self, sku: str, location: str, on_hand: int, reserved: int, reason: str
    ) -> None:
        """A stock level changed: the outbox has work for the pushers."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._runtime.wake_pushers()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._runtime.wake_pushers)


class _Loop:
    """One periodic job: run now, then every ``interval`` or as soon as it is woken."""

    def __init__(self, name: str, interval: float, job: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.interval = interval
        self.job = job
        self.wake = asyncio.Event()
        self.busy = False
        self.runs = 0


class LocalRuntime:
    """Runs an open :class:`~omnisdk.sync.engine.Engine` until stopped (see the module doc).

    ``webhooks=False`` runs without the receiver. ``host``/``port`` override ``[engine]
    webhook_host``/``webhook_port`` (port 0 picks a free port; :attr:`webhook_base_url` says
    which). ``initial_poll=False`` skips the poll every account gets at start. ``grace`` is
    how long in-flight work may take at shutdown. ``run_lock=False`` skips the store's run
    lock (for an app that runs its own guard; two runtimes on one store do everything twice);
    ``run_lock_check`` is how often the lock is checked (see the module doc).
    ``status_page``: ``HOST:PORT`` to serve the status page at, True (the default) for
    ``[engine] status_page`` (which is off unless set), False for no page.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        webhooks: bool = True,
        host: str | None = None,
        port: int | None = None,
        grace: float = DEFAULT_GRACE,
        initial_poll: bool = True,
        reconcile: bool = True,
        run_lock: bool = True,
        run_lock_check: float = RUN_LOCK_CHECK,
        status_page: str | bool | None = True,
    ) -> None:
        self.engine = engine
        self.run_lock_enabled = run_lock
        self.run_lock_check = run_lock_check
        self.run_lock_lost: RunLocked | None = None
        """Set when another runtime took the run lock after this one lost it; it stopped."""
        self._run_lock: RunLock | None = None
        settings = engine.config.engine
        self.webhooks = webhooks
        self.host = host if host is not None else settings.webhook_host
        self.port = port if port is not None else settings.webhook_port
        self.grace = grace
        self.initial_poll = initial_poll
        self.reconcile_enabled = reconcile
        self.stats = RuntimeStats()
        self.receiver: WebhookReceiver | None = None
        self.status_page_address = status_page_address(engine, status_page)
        self.status_page: StatusPage | None = None
        self._status_server: ServedApp | None = None
        self.ready = asyncio.Event()
        """Set once every loop runs and the receiver accepts connections."""
        self.initial_sync_done = asyncio.Event()
        """Set once the first poll of every account has finished (successfully or not)."""
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._loops: dict[str, _Loop] = {}
        self._pushers: dict[str, _Loop] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._server: Any = None
        self._server_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._pending_first_polls: set[str] = set()
        self._watcher: _StockWatcher | None = None

    # -- public API ------------------------------------------------------------------------

    @property
    def webhook_base_url(self) -> str | None:
        """``http://HOST:PORT`` of the receiver while it runs (None without webhooks)."""
        if self._socket is None:
            return None
        host, port = self._socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    @property
    def webhook_public_url(self) -> str | None:
        """The base URL platforms deliver to: ``[engine] webhook_public_url`` when set, else
        :attr:`webhook_base_url` (None without webhooks)."""
        if self._socket is None:
            return None
        return self.engine.config.engine.webhook_public_url or self.webhook_base_url

    def webhook_url(self, account: str) -> str:
        """Where ``account``'s platform should deliver webhooks (its configured callback URL,
        which URL-signing channels verify against)."""
        base = self.webhook_public_url
        if base is None:
            raise UsageError("the webhook receiver is not running")
        return f"{base}/webhooks/{account}"

    @property
    def status_page_url(self) -> str | None:
        """``http://HOST:PORT/`` of the status page while it is served (None otherwise)."""
        base = self._status_server.base_url if self._status_server is not None else None
        return f"{base}/" if base is not None else None

    @property
    def stopping(self) -> bool:
        """True once a stop was asked for."""
        return self._stopping.is_set()

    def wake_pushers(self) -> None:
        """Tell every pusher to drain its outbox now (something may have been marked dirty)."""
        for loop in self._pushers.values():
            loop.wake.set()

    def poll_now(self, account: str) -> None:
        """Poll ``account``'s orders now instead of at the next interval."""
        loop = self._loops.get(f"orders:{account}")
        if loop is not None:
            loop.wake.set()

    async def start(self) -> None:
        """Start the receiver and every loop; returns once they run.

        A runtime runs once: after :meth:`stop`, build a new one. If starting fails (the
        webhook port is taken), whatever was started is stopped again before the error
        propagates.
        """
        if self._tasks or self._stopped.is_set():
            raise UsageError("this runtime is running or has run; build a new one")
        self.stats.started_at = time.monotonic()
        try:
            if self.run_lock_enabled:
                self._run_lock = await asyncio.to_thread(self.engine.store.acquire_run_lock)
            if self.webhooks:
                await self._start_receiver()
            if self.status_page_address is not None:
                await self._start_status_page(*self.status_page_address)
            self._watcher = _StockWatcher(self, asyncio.get_running_loop())
            self.engine.plugins.register(self._watcher, name=f"omnisdk.runtime:{id(self)}")
            self._start_loops()
            if self._run_lock is not None:
                self._tasks.append(
                    asyncio.create_task(self._guard_run_lock(), name="omnisdk:run-lock")
                )
        except BaseException:
            await self.stop()
            raise
        self.ready.set()
        logger.info(
            "runtime started: %d accounts, %d loops%s",
            len(self.stats.accounts),
            len(self._loops),
            f", webhooks at {self.webhook_base_url}/webhooks/<account>" if self.webhooks else "",
        )
        if self.status_page_url is not None:
            logger.info("status page at %s", self.status_page_url)

    def _start_loops(self) -> None:
        engine = self.engine
        for entry in engine.config.channels:
            account = entry.name
            channel = engine.channels.get(account)
            if channel is None:
                logger.warning("account %s has no open channel; it is not run", account)
                continue
            capabilities = channel.capabilities
            self.stats.of(account)
            if Capability.READ_ORDERS in capabilities:
                interval = entry.poll.orders.total_seconds()
                self._add_loop(f"orders:{account}", interval, self._poll_job(account))
                self._pending_first_polls.add(account)
            if Capability.READ_CUSTOMERS in capabilities:
                self._add_loop(
                    f"customers:{account}",
                    entry.poll.customers.total_seconds(),
                    self._customers_job(account),
                )
            if Capability.READ_PRODUCTS in capabilities:
                self._add_loop(
                    f"products:{account}",
                    entry.poll.products.total_seconds(),
                    self._products_job(account),
                )
            if self.reconcile_enabled and Capability.READ_STOCK in capabilities:
                explicit = "stock" in entry.poll.model_fields_set
                every: timedelta = (
                    entry.poll.stock if explicit else engine.config.engine.reconcile_interval
                )
                self._add_loop(
                    f"stock:{account}", every.total_seconds(), self._reconcile_job(account)
                )
            if Capability.WRITE_STOCK in capabilities:
                tick = engine.config.engine.push_interval.total_seconds()
                pusher = self._add_loop(f"push:{account}", tick, self._push_job(account))
                self._pushers[account] = pusher
        # Customer notifications whose hook raised or whose process died before calling it.
        self._add_loop("notify", _NOTIFY_RETRY_SECONDS, self._notify_job())
        # Promotions: written when due, ended (base prices back) at their end time.
        self._add_loop("promotions", _PROMOTIONS_SECONDS, self._promotions_job())
        if not self._pending_first_polls:
            self.initial_sync_done.set()
        for name, loop in self._loops.items():
            # Pushers drain at once (a restart resumes what was pending); reconciliation
            # waits one interval; polls start at once unless told otherwise.
            delay_first = name.startswith(("stock:", "notify")) or (
                name.startswith(_POLLERS) and not self.initial_poll
            )
            self._tasks.append(
                asyncio.create_task(self._run_loop(loop, delay_first), name=f"omnisdk:{name}")
            )

    async def stop(self) -> None:
        """Stop gracefully (see the module doc); safe to call more than once."""
        if self._stopped.is_set():
            return
        self._stopping.set()
        deadline = time.monotonic() + self.grace
        if self._server is not None:
            self._server.should_exit = True
        await self._stop_status_page()
        for loop in self._loops.values():
            loop.wake.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=_remaining(deadline))
            for task in pending:
                logger.warning(
                    "%s did not finish within %.0f s; abandoned", task.get_name(), self.grace
                )
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._stop_receiver(deadline)
        if self._watcher is not None and self.engine.plugins.pm.is_registered(self._watcher):
            self.engine.plugins.unregister(self._watcher)
        self._watcher = None
        self._tasks.clear()
        if self._run_lock is not None:
            await asyncio.to_thread(self._run_lock.release)
            self._run_lock = None
        self._stopped.set()
        logger.info("runtime stopped")

    async def wait(self) -> None:
        """Wait until a stop is asked for (by :meth:`request_stop` or a signal)."""
        await self._stopping.wait()

    def request_stop(self) -> None:
        """Ask the runtime to stop (from a signal handler or another task)."""
        if not self._stopping.is_set():
            logger.info("stopping: finishing in-flight work (up to %.0f s)", self.grace)
        self._stopping.set()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Start, run until SIGINT/SIGTERM (or :meth:`request_stop`), then stop gracefully."""
        with self.signal_handlers(enabled=handle_signals):
            await self.start()
            try:
                await self.wait()
            finally:
                await asyncio.shield(self.stop())
        if self.run_lock_lost is not None:
            raise self.run_lock_lost

    async def _guard_run_lock(self) -> None:
        """Keep the run lock held (see the module doc) until the runtime stops."""
        from omnisdk.store import RunLocked

        store = self.engine.store
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.run_lock_check)
            lock = self._run_lock
            if self._stopping.is_set() or lock is None:
                return
            try:
                self._run_lock = await asyncio.to_thread(store.keep_run_lock, lock)
            except RunLocked as exc:
                self.run_lock_lost = exc
                logger.error("stopping: the run lock was lost and %s", exc)
                self.request_stop()
                return
            except StoreError as exc:
                # The database is unreachable: nothing can commit; try again next time.
                logger.warning("cannot check the run lock: %s", exc)

    # -- loops -----------------------------------------------------------------------------

    def _add_loop(self, name: str, interval: float, job: Callable[[], Awaitable[None]]) -> _Loop:
        loop = _Loop(name, interval, job)
        self._loops[name] = loop
        return loop

    async def _run_loop(self, loop: _Loop, delay_first: bool) -> None:
        failures = 0
        if delay_first:
            await self._sleep(loop, loop.interval)
        while not self._stopping.is_set():
            loop.wake.clear()
            loop.busy = True
            try:
                await loop.job()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                account = loop.name.partition(":")[2]
                activity = self.stats.of(account)
                activity.errors += 1
                activity.last_error = f"{type(exc).__name__}: {exc}"
                logger.warning("%s failed: %s", loop.name, activity.last_error)
                logger.debug("%s failed", loop.name, exc_info=True)
            finally:
                loop.busy = False
                loop.runs += 1
                self._first_run_done(loop)
            if self._stopping.is_set():
                break
            wait = loop.interval
            if failures:
                wait = min(loop.interval, min(_ERROR_BACKOFF_MAX, 0.5 * 2 ** (failures - 1)))
            await self._sleep(loop, wait)

    def _first_run_done(self, loop: _Loop) -> None:
        if loop.runs == 1 and loop.name.startswith("orders:"):
            self._pending_first_polls.discard(loop.name.partition(":")[2])
            if not self._pending_first_polls:
                self.initial_sync_done.set()

    async def _sleep(self, loop: _Loop, seconds: float) -> None:
        """Sleep ``seconds`` or until the loop is woken or the runtime stops."""
        wake = asyncio.ensure_future(loop.wake.wait())
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({wake, stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (wake, stop):
                waiter.cancel()

    def _poll_job(self, account: str) -> Callable[[], Awaitable[None]]:
        async def poll() -> None:
            stats = await self.engine.poll_orders(account)
            self.stats.of(account).polls += 1
            logger.debug("polled %s: %s", account, stats)
            if stats.released:
                self.wake_pushers()  # absolute writes' holds ended: quotas may move

        return poll

    def _notify_job(self) -> Callable[[], Awaitable[None]]:
        async def deliver() -> None:
            delivered = await self.engine.deliver_notifications()
            if delivered:
                logger.info("delivered %d pending customer notifications", delivered)

        return deliver

    def _promotions_job(self) -> Callable[[], Awaitable[None]]:
        async def promotions() -> None:
            (await self.engine.run_promotions()).log()
            upcoming = await self.engine.next_promotion_change()
            loop = self._loops["promotions"]
            loop.interval = _PROMOTIONS_SECONDS
            if upcoming is not None:
                seconds = (upcoming - self.engine.now()).total_seconds()
                loop.interval = max(0.05, min(_PROMOTIONS_SECONDS, seconds + 0.05))

        return promotions

    def run_promotions_now(self) -> None:
        """Run the promotions job now instead of at its next wake-up."""
        loop = self._loops.get("promotions")
        if loop is not None:
            loop.wake.set()

    def _customers_job(self, account: str) -> Callable[[], Awaitable[None]]:
        async def poll_customers() -> None:
            stats = await self.engine.poll_customers(account)
            self.stats.of(account).customer_polls += 1
            logger.debug("polled %s customers: %s", account, stats)

        return poll_customers

    def _products_job(self, account: str) -> Callable[[], Awaitable[None]]:
        async def poll_products() -> None:
            stats = await self.engine.poll_products(account)
            self.stats.of(account).product_polls += 1
            logger.debug("polled %s listings: %s", account, stats)
            if stats.new:
                self.wake_pushers()  # new bindings were queued for their first push

        return poll_products

    def _reconcile_job(self, account: str) -> Callable[[], Awaitable[None]]:
        async def reconcile() -> None:
            report = await self.engine.reconcile([account])
            self.stats.of(account).reconciles += 1
            logger.debug("reconciled %s: %s", account, report)
            self.wake_pushers()

        return reconcile

    def _push_job(self, account: str) -> Callable[[], Awaitable[None]]:
        async def push() -> None:
            stats = await self.engine.push(account)
            self.stats.of(account).pushes += 1
            logger.debug("pushed %s: %s", account, stats)
            if any(part.released or part.starved for part in stats.accounts):
                # Quota allocation: this account gave units up (or wants some the others
                # hold) and queued the others' listings; their pushers go now, not at a tick.
                self.wake_pushers()
                if any(part.released and part.pushed for part in stats.accounts):
                    self._poll_after_absolute_write(account)
            elif any(part.claimed for part in stats.accounts):
                # Work was found: go again at once, until a pass finds nothing due (a push
                # may re-mark SKUs, e.g. after a lost compare-and-swap).
                self._pushers[account].wake.set()

        return push

    def _poll_after_absolute_write(self, account: str) -> None:
        """Poll ``account``'s orders now when its channel takes absolute writes and sells:
        the units such a write gave up count as freed for the other accounts only once a poll
        started after the write has ingested its orders (see ``Store.release_window_holds``),
        so waiting for the next interval would keep them from the channels whose buyers are
        being refused meanwhile."""
        channel = self.engine.channels.get(account)
        if (
            channel is not None
            and channel.limits.stock_push_mode is StockPushMode.ABSOLUTE
            and Capability.READ_ORDERS in channel.capabilities
        ):
            self.poll_now(account)

    # -- webhooks --------------------------------------------------------------------------

    async def _start_receiver(self) -> None:
        try:
            from omnisdk.webhooks import WebhookReceiver
        except ImportError as exc:
            raise ServiceError(
                f"the webhook receiver needs starlette and uvicorn ({exc}); install them with "
                "pip install 'omnisdk[sandbox]', or run with webhooks off"
            ) from None

        self._socket = bind_socket(self.host, self.port)
        self.receiver = WebhookReceiver(
            self.engine.channels, self.engine.store, public_url=self.webhook_public_url
        )
        self._server = _make_server(self.receiver.app)
        self._server_task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name="omnisdk:webhooks"
        )
        while not self._server.started:
            if self._server_task.done():
                self._server_task.result()  # raises what made uvicorn stop
                raise ServiceError("the webhook receiver stopped while starting")
            await asyncio.sleep(0.01)
        self._consumer = asyncio.create_task(
            self.receiver.consume(self._handle_events, on_error=self._events_failed),
            name="omnisdk:webhook-consumer",
        )

    async def _handle_events(self, account: str, events: list[ChannelEvent]) -> None:
        logger.debug("%s: handling %d webhook events", account, len(events))
        await self.engine.handle_events(account, events)
        self.stats.of(account).webhook_batches += 1

    def _events_failed(self, batch: WebhookBatch, exc: Exception) -> None:
        activity = self.stats.of(batch.account)
        activity.errors += 1
        activity.last_error = f"webhook: {type(exc).__name__}: {exc}"
        self.poll_now(batch.account)

    async def _stop_receiver(self, deadline: float) -> None:
        task = self._server_task
        if task is not None:
            # No new deliveries: uvicorn stops accepting, finishes the requests in hand.
            await asyncio.wait({task}, timeout=_remaining(deadline))
            if not task.done():
                self._server.force_exit = True
                await asyncio.wait({task}, timeout=2)
            if task.done() and not task.cancelled() and task.exception() is not None:
                logger.warning("the webhook receiver failed: %s", task.exception())
        if self._consumer is not None and self.receiver is not None:
            # Accepted deliveries are handed to the engine before stopping (at least a
            # second for them, even when the grace period is spent).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.receiver.join(), max(_remaining(deadline), 1.0))
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)
            self._consumer = None
            if self.receiver.pending():
                logger.warning(
                    "%d webhook deliveries not handled before stopping; the next poll finds "
                    "what they said",
                    self.receiver.pending(),
                )
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
        self._server_task = None

    # -- the status page ------------------------------------------------------------------

    async def _start_status_page(self, host: str, port: int) -> None:
        from omnisdk.statuspage import StatusPage

        self.status_page = StatusPage(self.engine)
        self._status_server = ServedApp("status page", self.status_page.app)
        await self._status_server.start(host, port)

    async def _stop_status_page(self) -> None:
        """The page is only read: its live streams end at once and it stops first."""
        if self.status_page is not None:
            self.status_page.close()
        if self._status_server is not None:
            await self._status_server.stop(grace=1.0)
            self._status_server = None

    # -- signals ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def signal_handlers(self, *, enabled: bool = True) -> Iterator[None]:
        """While inside, SIGINT/SIGTERM ask the runtime to stop; a second one stops at once.

        Only possible in the main thread of a process (elsewhere this does nothing).
        """
        if not enabled:
            yield
            return
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        count = 0

        def on_signal(signum: signal.Signals) -> None:
            nonlocal count
            count += 1
            if count > 1:
                logger.warning("second %s: cancelling in-flight work now", signum.name)
                self.grace = 0
            self.request_stop()

        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, on_signal, signum)
            except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
                continue
            installed.append(signum)
        try:
            yield
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)
