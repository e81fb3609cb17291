"""The engine of one worker process: opened on its first task, kept open for the next ones.

A Celery worker process (a prefork child, or the ``solo`` pool's only process) runs tasks one
after the other. :class:`WorkerEngine` keeps one :class:`~omnisdk.sync.engine.Engine` open on
one event loop (an :class:`asyncio.Runner`) for the life of the process, so HTTP connections,
tokens and the store's connection pool are reused from task to task. It is built after the
fork, on first use: nothing opened in the parent is shared with a child.

A worker may serve hundreds of accounts, so the engine opens an account's channel only when a
task for that account first needs it (``lazy_channels``), and after each task closes the least
recently used channels past ``[celery] open_channels``: memory and start-up no longer grow
with the number of accounts configured, only with the accounts served at once.

The engine's channels get :class:`~omnisdk.runtime.celery.budgets.SharedRateLimiter` limiters
(one budget per account across every worker) when Redis is configured for them.

While a task runs, :attr:`WorkerEngine.stock_changed` tells whether the engine committed a
stock change (the ``omnisdk_stock_changed`` hook): the outbox has work and pushers must be
sent, as the local runtime wakes its pushers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from omnisdk.config import Config
from omnisdk.errors import UsageError
from omnisdk.hookspecs import hookimpl
from omnisdk.plugins import Plugins
from omnisdk.runtime.celery.beat import ONE_QUEUED_TASKS, queued_marks
from omnisdk.runtime.celery.budgets import SharedBudgets
from omnisdk.runtime.celery.intake import intake_buffer, intake_marks
from omnisdk.runtime.celery.metrics import record_budget_wait
from omnisdk.runtime.celery.pending import PendingPushes, QueuedMarks
from omnisdk.store import Store
from omnisdk.sync.engine import Engine

__all__ = ["WorkerEngine"]

logger = logging.getLogger("omnisdk.runtime.celery")

T = TypeVar("T")


class _StockChanges:
    """Notes that the engine committed a stock change during the current task."""

    def __init__(self) -> None:
        self.seen = False

    @hookimpl
    def omnisdk_stock_changed(
        self, sku: str, location: str, on_hand: int, reserved: int, reason: str
    ) -> None:
        """A stock level changed: pushers have work."""
        self.seen = True


class WorkerEngine:
    """One open engine per worker process (see the module doc).

    ``plugins`` default to the installed ones; ``budgets`` to shared budgets in the Redis that
    ``[celery]`` names (none: each process keeps its own budgets, which four workers then
    spend four times over; the worker warns). The same Redis holds :attr:`pending`, the marks
    that keep one queued push per account.
    """

    def __init__(
        self,
        config: Config,
        *,
        plugins: Plugins | None = None,
        budgets: SharedBudgets | None = None,
    ) -> None:
        self.config = config
        self.plugins = plugins
        url = config.celery.shared_budgets_url
        self.budgets = budgets or (
            SharedBudgets(url, prefix=f"{config.celery.queue}:budget", on_wait=record_budget_wait)
            if url is not None
            else None
        )
        self.pending = (
            PendingPushes(url, prefix=f"{config.celery.queue}:push-queued")
            if url is not None
            else None
        )
        """Marks of queued pushes (None without Redis: every dispatch sends)."""
        self._queued: dict[str, QueuedMarks] = {}
        self.intake_buffer = intake_buffer(config)
        """The per-account webhook buffers (None without Redis)."""
        self.intake_marks = intake_marks(config)
        """Marks of queued intake drains (None without Redis)."""
        self._runner: asyncio.Runner | None = None
        self._engine: Engine | None = None
        self._changes = _StockChanges()

    def queued(self, task: str) -> QueuedMarks | None:
        """The marks of ``task``'s queued messages (:mod:`omnisdk.runtime.celery.beat`; None
        without Redis, or for a task of which any number may wait)."""
        url = self.config.celery.shared_budgets_url
        if url is None or task not in ONE_QUEUED_TASKS:
            return None
        if task not in self._queued:
            self._queued[task] = queued_marks(url, self.config.celery.queue, task)
        return self._queued[task]

    @property
    def engine(self) -> Engine:
        """The open engine (opened on first use)."""
        if self._engine is None:
            self._engine = self._open()
        return self._engine

    @property
    def store(self) -> Store:
        """The shared store."""
        return self.engine.store

    @property
    def stock_changed(self) -> bool:
        """True when a stock change was committed since :meth:`run` began."""
        return self._changes.seen

    def _open(self) -> Engine:
        if not self.config.store.url.startswith("postgresql"):
            logger.warning(
                "the store %s is not PostgreSQL: workers on other machines cannot share it",
                self.config.store.url.split("://", 1)[0],
            )
        if self.budgets is None:
            logger.warning(
                "no Redis for shared rate budgets ([celery] rate_limit_url): each worker "
                "spends each account's whole budget on its own"
            )
        plugins = self.plugins if self.plugins is not None else Plugins()
        engine = Engine(
            self.config,
            plugins=plugins,
            rate_limiters=self.budgets.limiter if self.budgets is not None else None,
            lazy_channels=True,
        )
        self._runner = asyncio.Runner()
        try:
            self._runner.run(engine.open())
        except BaseException:
            self._runner.close()
            self._runner = None
            raise
        plugins.register(self._changes, name=f"omnisdk.runtime.celery:{id(self)}")
        return engine

    def run(self, work: Callable[[Engine], Awaitable[T]]) -> T:
        """Run ``work(engine)`` to its end on the process's event loop."""
        engine = self.engine
        if self._runner is None:
            raise UsageError("the worker engine is closed")
        self._changes.seen = False

        async def main() -> T:
            try:
                return await work(engine)
            finally:
                # Between tasks no channel is in use: the idle ones past the bound go.
                await engine.release_channels(self.config.celery.open_channels)

        return self._runner.run(main())

    def close(self) -> None:
        """Close the engine, the Redis clients and the event loop (idempotent)."""
        if self.pending is not None:
            self.pending.close()
        for marks in self._queued.values():
            marks.close()
        self._queued.clear()
        if self.intake_buffer is not None:
            self.intake_buffer.close()
        if self.intake_marks is not None:
            self.intake_marks.close()
        engine, self._engine = self._engine, None
        runner, self._runner = self._runner, None
        if runner is None:
            return
        try:
            if engine is not None:
                runner.run(engine.aclose())
            if self.budgets is not None:
                runner.run(self.budgets.aclose())
        finally:
            runner.close()
