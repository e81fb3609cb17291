"""Work locks: at most one worker at a time runs one job (drain, poll...) of one account.

Workers of the scale-out runtime share a PostgreSQL store. Two of them draining one account's
outbox at once would split its batches and race on its rate budget; two polling one stream
would ingest every page twice (harmlessly, but at twice the cost). Before such a job a worker
takes the job's lock with :meth:`WorkLockMixin.try_work_lock`; a worker that does not get it
skips the job (the holder is doing it now).

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection kept for the
job; the server drops it when that connection ends, so a worker killed mid-job never blocks
the next. SQLite: an ``flock`` on a file beside the database (one machine only), dropped by the
kernel when the holder's process ends. An in-memory SQLite store is private to its process:
a lock per process is enough there.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from omnisdk.errors import StoreError
from omnisdk.store.core import StoreCore, _lock_id, describe_db_error
from omnisdk.store.engine import is_memory_sqlite

__all__ = ["WorkLock", "WorkLockMixin"]

_MEMORY_LOCKS: dict[tuple[int, str], threading.Lock] = {}
_MEMORY_GUARD = threading.Lock()


class WorkLock:
    """A work lock this process holds; :meth:`release` lets another worker take it."""

    def __init__(
        self,
        name: str,
        *,
        connection: Connection | None = None,
        lock_id: int | None = None,
        file: IO[str] | None = None,
        local: threading.Lock | None = None,
    ) -> None:
        self.name = name
        self._connection = connection
        self._lock_id = lock_id
        self._file = file
        self._local = local

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return any(x is not None for x in (self._connection, self._file, self._local))

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": self._lock_id})
                connection.close()
            except SQLAlchemyError:
                # A broken connection has lost the lock on the server already; drop it.
                connection.invalidate()
                with contextlib.suppress(SQLAlchemyError):
                    connection.close()
        file, self._file = self._file, None
        if file is not None:
            import fcntl

            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            file.close()
        local, self._local = self._local, None
        if local is not None:
            local.release()

    def __enter__(self) -> WorkLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class WorkLockMixin(StoreCore):
    """Taking work locks (see the module doc)."""

    def try_work_lock(self, job: str, account: str) -> WorkLock | None:
        """Take the lock of ``job`` (``push``, ``poll:orders``...) on ``account`` now, or
        return None when another worker holds it. Never waits."""
        name = f"{job}:{account}"
        if self.is_postgresql:
            return self._try_advisory(name)
        if is_memory_sqlite(self.url) or not self.url.database:
            return _try_memory(id(self), name)
        database = Path(self.url.database).resolve()
        return _try_file(database.with_name(f"{database.name}.work"), name)

    def _try_advisory(self, name: str) -> WorkLock | None:
        lock_id = _lock_id("work", name)
        try:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot take the lock of {name}: {describe_db_error(exc)}") from exc
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id}
            ).scalar_one()
        except SQLAlchemyError as exc:
            connection.invalidate()
            connection.close()
            raise StoreError(f"cannot take the lock of {name}: {describe_db_error(exc)}") from exc
        if not taken:
            connection.close()
            return None
        return WorkLock(name, connection=connection, lock_id=lock_id)


def _try_memory(store_id: int, name: str) -> WorkLock | None:
    with _MEMORY_GUARD:
        lock = _MEMORY_LOCKS.setdefault((store_id, name), threading.Lock())
    if not lock.acquire(blocking=False):
        return None
    return WorkLock(name, local=lock)


def _try_file(directory: Path, name: str) -> WorkLock | None:
    import fcntl
    import hashlib

    try:
        directory.mkdir(exist_ok=True)
        digest = hashlib.blake2b(name.encode(), digest_size=12).hexdigest()
        file = open(directory / f"{digest}.lock", "a+", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise StoreError(f"cannot open the lock file of {name}: {exc.strerror}") from None
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    except OSError as exc:
        file.close()
        raise StoreError(f"cannot lock {name}: {exc.strerror}") from None
    return WorkLock(name, file=file)
