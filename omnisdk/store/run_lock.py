"""The run lock: at most one local runtime (``omnisdk run``) per store at a time.

Two ``omnisdk run`` on one store would both poll, push and reconcile every account: twice the
rate budget, racing pushes, doubled webhooks. :meth:`RunLockMixin.acquire_run_lock` takes an
exclusive lock that lives as long as the process holds it, so a crashed holder (even
``SIGKILL``) never blocks the next run:

- SQLite: ``flock`` on a lock file beside the database (``omnisdk.db.lock``); the kernel
  drops it when the holder's process ends, however it ends. The file says who holds it
  (pid, host, since); it is kept after release (deleting a lock file races with a process
  that just opened it).
- PostgreSQL: a session advisory lock on a connection kept open for the run; the server drops
  it when that connection ends. The holder is found in ``pg_stat_activity`` by the
  ``application_name`` the lock's connection sets.

A PostgreSQL lock lives only as long as its connection: a restarted server, a killed backend or
a dropped network takes the lock with it, silently. :meth:`RunLock.alive` asks the server
whether this connection still holds it, and :meth:`RunLockMixin.keep_run_lock` takes it again
when it was lost (or raises :class:`RunLocked` when another run took it meanwhile); the local
runtime checks every few seconds and stops when another run holds the lock.

The lock is for the single-process local runtime only: workers that share a PostgreSQL store
by design (Celery) never take it. An in-memory SQLite store is private to its process and
needs none.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from omnisdk.errors import StoreError
from omnisdk.store.core import StoreCore, _lock_id, describe_db_error
from omnisdk.store.engine import is_memory_sqlite

__all__ = ["RunLock", "RunLockHolder", "RunLockMixin", "RunLocked"]

logger = logging.getLogger("omnisdk.store")

_RUN_LOCK_ID = _lock_id("run", "local-runtime")
_APP_NAME_PREFIX = "omnisdk-run"
_PG_NAME_LIMIT = 63  # PostgreSQL truncates application_name to NAMEDATALEN - 1 bytes


@dataclass(frozen=True, slots=True)
class RunLockHolder:
    """Who holds a run lock: the process id, its host and since when."""

    pid: int
    host: str
    since: datetime

    def describe(self) -> str:
        """``pid 4242 on host may-ban-hang since 2026-12-03 12:00:00 UTC``."""
        return (
            f"pid {self.pid} on host {self.host} since "
            f"{self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        )

    @classmethod
    def of_this_process(cls) -> RunLockHolder:
        """This process, now."""
        return cls(pid=os.getpid(), host=socket.gethostname(), since=datetime.now(UTC))


class RunLocked(StoreError):
    """Another local runtime holds the store's run lock; ``holder`` says who (None: unknown)."""

    def __init__(self, store: str, holder: RunLockHolder | None) -> None:
        self.holder = holder
        who = holder.describe() if holder is not None else "a process that did not say who"
        super().__init__(f"another omnisdk run holds the store {store}: {who}")


class RunLock:
    """A run lock held by this process; :meth:`release` lets the next run take it."""

    def __init__(
        self,
        holder: RunLockHolder,
        *,
        file: IO[str] | None = None,
        connection: Connection | None = None,
    ) -> None:
        self.holder = holder
        self._file = file
        self._connection = connection

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._file is not None or self._connection is not None

    def alive(self) -> bool:
        """Whether the lock is still held: always for a lock file (the kernel keeps it while
        the process lives); for PostgreSQL, whether the server still has this connection
        holding the advisory lock. A lost connection is let go of (the lock is gone with it)."""
        if self._file is not None:
            return True
        connection = self._connection
        if connection is None:
            return False
        try:
            held = connection.execute(_HELD_QUERY, _lock_key()).scalar_one()
        except SQLAlchemyError:
            held = False
        if not held:
            self._connection = None
            _discard(connection)
        return bool(held)

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        file, self._file = self._file, None
        if file is not None:
            import fcntl

            with contextlib.suppress(OSError):
                file.seek(0)
                file.truncate()
                file.flush()
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            file.close()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _RUN_LOCK_ID})
            _discard(connection)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class RunLockMixin(StoreCore):
    """Taking the store's run lock (see the module doc)."""

    def run_lock_path(self) -> Path | None:
        """The lock file of a SQLite file store (None for PostgreSQL or in-memory SQLite)."""
        if self.is_postgresql or is_memory_sqlite(self.url) or not self.url.database:
            return None
        database = Path(self.url.database).resolve()
        return database.with_name(database.name + ".lock")

    def acquire_run_lock(self) -> RunLock:
        """Take the run lock now, or raise :class:`RunLocked` naming who holds it."""
        holder = RunLockHolder.of_this_process()
        if self.is_postgresql:
            return self._acquire_advisory(holder)
        path = self.run_lock_path()
        if path is None:
            return RunLock(holder)
        return _acquire_file(path, holder, shown=str(path.with_name(path.name[: -len(".lock")])))

    def keep_run_lock(self, lock: RunLock) -> RunLock:
        """``lock`` if it is still held (:meth:`RunLock.alive`), else the run lock taken
        again (a new :class:`RunLock`); :class:`RunLocked` when another run took it meanwhile,
        :class:`~omnisdk.errors.StoreError` while the database cannot be reached."""
        if lock.alive():
            return lock
        logger.warning("the run lock was lost with its database connection; taking it again")
        return self.acquire_run_lock()

    def _acquire_advisory(self, holder: RunLockHolder) -> RunLock:
        name = _application_name(holder)
        shown = self.url.render_as_string(hide_password=True)
        try:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot take the run lock: {describe_db_error(exc)}") from exc
        try:
            connection.execute(
                text("SELECT set_config('application_name', :name, false)"), {"name": name}
            )
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": _RUN_LOCK_ID}
            ).scalar_one()
            if taken:
                return RunLock(holder, connection=connection)
            current = connection.execute(_HOLDER_QUERY, _lock_key()).scalar_one_or_none()
        except SQLAlchemyError as exc:
            _discard(connection)
            raise StoreError(f"cannot take the run lock: {describe_db_error(exc)}") from exc
        _discard(connection)
        raise RunLocked(shown, _parse_application_name(current))


def _discard(connection: Connection) -> None:
    """Close ``connection`` for good: it carries the lock's application_name (and maybe the
    lock), so it must never go back to the pool."""
    with contextlib.suppress(SQLAlchemyError):
        connection.rollback()
    connection.invalidate()
    with contextlib.suppress(SQLAlchemyError):
        connection.close()


def _lock_key() -> dict[str, int]:
    """The run lock's key as ``pg_locks`` shows a one-bigint advisory lock."""
    return {"high": (_RUN_LOCK_ID >> 32) & 0xFFFFFFFF, "low": _RUN_LOCK_ID & 0xFFFFFFFF}


_HELD_QUERY = text(
    "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1"
)

_HOLDER_QUERY = text(
    "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high AND l.objid = :low "
    "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database "
    "WHERE datname = current_database()) LIMIT 1"
)


def _acquire_file(path: Path, holder: RunLockHolder, *, shown: str) -> RunLock:
    import fcntl

    try:
        file = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the run)
    except OSError as exc:
        raise StoreError(f"cannot open the run lock file {path}: {exc.strerror}") from None
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.seek(0)
        current = _parse_file(file.read())
        file.close()
        raise RunLocked(shown, current) from None
    except OSError as exc:
        file.close()
        raise StoreError(f"cannot lock {path}: {exc.strerror}") from None
    file.seek(0)
    file.truncate()
    file.write(
        json.dumps({"pid": holder.pid, "host": holder.host, "since": holder.since.isoformat()})
    )
    file.flush()
    return RunLock(holder, file=file)


def _parse_file(content: str) -> RunLockHolder | None:
    try:
        data: Any = json.loads(content)
        return RunLockHolder(
            pid=int(data["pid"]),
            host=str(data["host"]),
            since=datetime.fromisoformat(str(data["since"])),
        )
    except (ValueError, TypeError, KeyError):
        return None  # written by a process that was killed mid-write, or not ours


def _application_name(holder: RunLockHolder) -> str:
    # Host last: what PostgreSQL cuts off of a long name is the end of the host name.
    since = holder.since.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{_APP_NAME_PREFIX} {holder.pid} {since} {holder.host}"
    return name.encode("utf-8")[:_PG_NAME_LIMIT].decode("utf-8", "ignore")


def _parse_application_name(name: str | None) -> RunLockHolder | None:
    if not name:
        return None
    parts = name.split(" ", 3)
    if len(parts) != 4 or parts[0] != _APP_NAME_PREFIX:
        return None
    try:
        since = datetime.strptime(parts[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return RunLockHolder(pid=int(parts[1]), host=parts[3], since=since)
    except ValueError:
        return None
