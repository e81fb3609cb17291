"""``StoreTokenStore``: the :class:`omnisdk.auth.TokenStore` protocol backed by the store.

Loading and saving run the synchronous store in a worker thread. The refresh lock has up to
three layers, because rotating refresh tokens are single use and two refreshes would spend
one twice:

1. an :class:`asyncio.Lock` per (event loop, account): tasks of one loop queue without
   using threads or connections;
2. a :class:`threading.Lock` per account: event loops in other threads of this process;
3. on PostgreSQL, a session-level ``pg_advisory_lock`` held on a dedicated connection for the
   whole refresh: other processes and machines. It is released automatically by the server
   if the process dies.

On SQLite only layers 1 and 2 exist: one process per database file is the supported setup.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from omnisdk.auth import Token
from omnisdk.errors import StoreError
from omnisdk.store.core import describe_db_error
from omnisdk.store.tokens import TokensMixin

__all__ = ["StoreTokenStore", "advisory_lock_id"]

_T = TypeVar("_T")
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires
_Key = tuple[str, str]


def advisory_lock_id(channel: str, account: str) -> int:
    """The signed 64-bit PostgreSQL advisory lock id guarding the refresh of one account."""
    digest = hashlib.blake2b(f"omnisdk:token:{channel}:{account}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class _AdvisoryLock:
    """A ``pg_advisory_lock`` held on its own connection (blocking calls: run in a thread)."""

    def __init__(self, engine: Engine, lock_id: int) -> None:
        self._engine = engine
        self._lock_id = lock_id
        self._connection: Connection | None = None

    def acquire(self, timeout: float) -> _AdvisoryLock:
        connection = self._engine.connect()
        try:
            with connection.begin():
                # SET LOCAL ends with this transaction; the session-level lock outlives it.
                connection.execute(text(f"SET LOCAL lock_timeout = {max(int(timeout * 1000), 1)}"))
                connection.execute(select(func.pg_advisory_lock(self._lock_id)))
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return self

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            with connection.begin():
                connection.execute(select(func.pg_advisory_unlock(self._lock_id)))
        except SQLAlchemyError:
            # A dead connection has released the lock on the server already; drop it.
            connection.invalidate()
        finally:
            connection.close()


async def _to_thread_undoable(work: Callable[[], _T], undo: Callable[[_T], None]) -> _T:
    """Run ``work`` in a thread; if we are cancelled meanwhile, ``undo`` its result later.

    A cancelled ``asyncio.to_thread`` leaves the thread running; without this a lock taken
    after the waiter gave up would never be released.
    """
    task = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:

        def _after(finished: asyncio.Future[_T]) -> None:
            if not finished.cancelled() and finished.exception() is None:
                threading.Thread(target=undo, args=(finished.result(),), daemon=True).start()

        task.add_done_callback(_after)
        raise


class StoreTokenStore:
    """A :class:`~omnisdk.auth.TokenStore` that keeps tokens in the omnisdk store.

    ``lock_timeout`` (seconds) bounds the wait for another worker's refresh; when it passes,
    :class:`~omnisdk.errors.StoreError` is raised rather than waiting forever.
    """

    def __init__(
        self, store: TokensMixin, *, lock_timeout: float = 60.0, poll_interval: float = 0.02
    ) -> None:
        self.store = store
        self.lock_timeout = lock_timeout
        self._poll = poll_interval
        self._guard = threading.Lock()
        self._thread_locks: dict[_Key, threading.Lock] = {}
        self._loop_locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[_Key, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"StoreTokenStore({self.store!r})"

    async def load_token(self, channel: str, account: str) -> Token | None:
        """The saved token of ``account``, or None."""
        return await asyncio.to_thread(self.store.read_token, channel, account)

    async def save_token(self, channel: str, account: str, token: Token) -> None:
        """Persist ``token`` (committed before this returns), replacing the previous one."""
        # Shielded: once the refresh token was spent, the new one must reach the database
        # even if the caller is cancelled meanwhile.
        await asyncio.shield(asyncio.to_thread(self.store.write_token, channel, account, token))

    @contextlib.asynccontextmanager
    async def token_lock(self, channel: str, account: str) -> AsyncIterator[None]:
        """Hold the refresh lock of ``account`` (see the module docs for its scope)."""
        key = (channel, account)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_timeout
        local = self._loop_lock(loop, key)
        try:
            async with asyncio.timeout_at(deadline):
                await local.acquire()
        except TimeoutError:
            raise self._timed_out(channel, account) from None
        try:
            process_lock = await self._acquire_process_lock(key, loop, deadline)
            try:
                held = await self._acquire_database_lock(key, loop, deadline)
                try:
                    yield
                finally:
                    if held is not None:
                        await asyncio.shield(asyncio.to_thread(held.release))
            finally:
                process_lock.release()
        finally:
            local.release()

    def _loop_lock(self, loop: asyncio.AbstractEventLoop, key: _Key) -> asyncio.Lock:
        with self._guard:
            return self._loop_locks.setdefault(loop, {}).setdefault(key, asyncio.Lock())

    async def _acquire_process_lock(
        self, key: _Key, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> threading.Lock:
        with self._guard:
            lock = self._thread_locks.setdefault(key, threading.Lock())
        # Only contended by other event loops of this process: polling is cheap and cancel-safe.
        while not lock.acquire(blocking=False):
            if loop.time() >= deadline:
                raise self._timed_out(*key)
            await asyncio.sleep(self._poll)
        return lock

    async def _acquire_database_lock(
        self, key: _Key, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> _AdvisoryLock | None:
        if not self.store.is_postgresql:
            return None
        lock = _AdvisoryLock(self.store.engine, advisory_lock_id(*key))
        remaining = max(deadline - loop.time(), 0.001)
        try:
            return await _to_thread_undoable(
                lambda: lock.acquire(remaining), lambda held: held.release()
            )
        except SQLAlchemyError as exc:
            if getattr(getattr(exc, "orig", None), "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                raise self._timed_out(*key) from None
            raise StoreError(
                f"taking the token lock of {key[0]}/{key[1]} failed: {describe_db_error(exc)}"
            ) from exc

    def _timed_out(self, channel: str, account: str) -> StoreError:
        return StoreError(
            f"gave up waiting {self.lock_timeout:g}s for the token lock of {channel}/{account}: "
            "another worker is refreshing it (or hung while holding it)"
        )
