"""Building the SQLAlchemy engine: URL rules, SQLite pragmas and transaction start.

SQLite: WAL journal (readers never block the writer), a busy timeout (a writer waits for
the lock instead of failing), foreign keys on, and every write transaction opened with
``BEGIN IMMEDIATE`` so two writers queue up at the start instead of deadlocking when a read
lock must be upgraded. Read-only streaming uses a plain deferred ``BEGIN``.

PostgreSQL (``postgresql+psycopg://``): a pooled engine with pre-ping; correctness under
many workers comes from unique keys, ``ON CONFLICT`` and row locks in the repositories.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, Final

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from omnisdk.errors import StoreError

__all__ = [
    "DEFAULT_URL",
    "SQLITE_BEGIN_OPTION",
    "create_store_engine",
    "is_memory_sqlite",
    "normalise_url",
]

DEFAULT_URL: Final = "sqlite:///omnisdk.db"
"""Where the store lives when no URL is configured: a SQLite file in the working directory."""

SQLITE_BEGIN_OPTION: Final = "omnisdk_sqlite_begin"
"""Connection execution option naming the ``BEGIN`` mode on SQLite (``IMMEDIATE``/``DEFERRED``)."""

_SQLITE_BEGIN_MODES: Final = frozenset({"IMMEDIATE", "DEFERRED", "EXCLUSIVE"})


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and pick the driver omnisdk supports for it.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` (psycopg 3);
    ``sqlite://`` stays as it is. Any other database raises :class:`StoreError`.
    """
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"cannot read the store URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if "+" not in parsed.drivername:
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        return parsed
    raise StoreError(
        f"unsupported store database {backend!r}: use sqlite:///path.db or "
        "postgresql+psycopg://user@host/dbname"
    )


def is_memory_sqlite(url: URL) -> bool:
    """True for an in-memory SQLite URL (``sqlite://`` or ``sqlite:///:memory:``)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _json_dumps(value: Any) -> str:
    # Keep Vietnamese text readable in the database instead of \u escapes.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def create_store_engine(
    url: str | URL,
    *,
    busy_timeout: float = 30.0,
    pool_size: int = 5,
    max_overflow: int = 10,
    echo: bool = False,
) -> Engine:
    """Create the engine for ``url`` with the settings the store relies on.

    ``busy_timeout`` (seconds) is how long a SQLite writer waits for the write lock.
    Statement parameters are never put into error messages or logs (they may hold tokens).
    """
    parsed = normalise_url(url)
    common: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,
        "json_serializer": _json_dumps,
    }
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,
            connect_args={"application_name": "omnisdk"},
            **common,
        )
        return engine
    connect_args = {"check_same_thread": False, "timeout": busy_timeout}
    if is_memory_sqlite(parsed):
        # One connection shared by every checkout; only for single-threaded tests and scripts.
        engine = create_engine(parsed, poolclass=StaticPool, connect_args=connect_args, **common)
    else:
        engine = create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_args=connect_args,
            **common,
        )
    _install_sqlite_hooks(engine, busy_timeout=busy_timeout, wal=not is_memory_sqlite(parsed))
    return engine


def _enable_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch the database file to WAL (a persistent setting, so usually already done).

    The switch needs the file to itself and SQLite does not wait for that on its own, so
    connections opening a brand-new file together retry until the first one has done it.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _install_sqlite_hooks(engine: Engine, *, busy_timeout: float, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        # Take BEGIN away from the sqlite3 module; the "begin" hook below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if wal:
                _enable_wal(cursor, busy_timeout)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        if mode not in _SQLITE_BEGIN_MODES:
            raise StoreError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")
