"""The store's foundation: engine, transactions, streaming reads and account lookup.

Every repository mixin of :class:`omnisdk.store.Store` builds on :class:`StoreCore`. A
method that takes ``session`` runs inside the caller's transaction when one is given, and in
a transaction of its own otherwise.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self, TypeAlias

from sqlalchemy import URL, Connection, Executable, Row, Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from omnisdk.errors import StoreError
from omnisdk.store import migrate as migrations
from omnisdk.store.engine import (
    DEFAULT_URL,
    SQLITE_BEGIN_OPTION,
    create_store_engine,
    normalise_url,
)
from omnisdk.store.errors import SchemaOutOfDate, UnknownAccount
from omnisdk.store.schema import accounts
from omnisdk.store.types import utcnow

__all__ = ["DialectInsert", "StoreCore", "Transaction", "describe_db_error"]

DialectInsert: TypeAlias = postgresql.Insert | sqlite.Insert
"""An INSERT with ``ON CONFLICT`` support, for whichever database the store runs on."""

Transaction: TypeAlias = Connection
"""A store transaction, as :meth:`StoreCore.session` yields it: pass it as ``session=`` to
store methods so they join it. Code outside the store treats it as opaque."""


def describe_db_error(exc: SQLAlchemyError) -> str:
    """A one-line description of a database error, without statement parameters."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        detail = str(exc.orig).strip().splitlines()
        return f"{type(exc.orig).__name__}: {detail[0] if detail else ''}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _lock_id(namespace: str, key: str) -> int:
    digest = hashlib.blake2b(f"omnisdk:{namespace}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class StoreCore:
    """Engine, transactions and helpers shared by every part of the store.

    ``url`` is a SQLAlchemy URL (``sqlite:///omnisdk.db`` by default, or
    ``postgresql+psycopg://user@host/db``). ``clock`` returns the current aware UTC time; tests
    replace it. The object is safe to share between threads: each transaction checks out its
    own connection from the pool.
    """

    def __init__(
        self,
        url: str | URL = DEFAULT_URL,
        *,
        busy_timeout: float = 30.0,
        pool_size: int = 5,
        max_overflow: int = 10,
        echo: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.url = normalise_url(url)
        self.engine = create_store_engine(
            self.url,
            busy_timeout=busy_timeout,
            pool_size=pool_size,
            max_overflow=max_overflow,
            echo=echo,
        )
        self._clock = clock
        self._writing = threading.local()

    # -- identity -----------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def is_postgresql(self) -> bool:
        """True when the store runs on PostgreSQL."""
        return self.dialect == "postgresql"

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    def now(self) -> datetime:
        """The store's current time (aware UTC), from its clock."""
        value = self._clock()
        if value.tzinfo is None:
            raise StoreError("the store clock returned a naive datetime; it must be aware UTC")
        return value

    # -- lifecycle ----------------------------------------------------------------------

    def migrate(self) -> None:
        """Upgrade the database to the newest schema (safe to call from many workers at once)."""
        try:
            migrations.upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"migrating the store failed: {describe_db_error(exc)}") from exc

    def schema_revision(self) -> str | None:
        """The schema revision the database is at (None: never migrated)."""
        try:
            return migrations.current_revision(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the store schema: {describe_db_error(exc)}") from exc

    def check_schema(self) -> None:
        """Raise :class:`SchemaOutOfDate` unless the database is at the newest revision."""
        current, expected = self.schema_revision(), migrations.head_revision()
        if current != expected:
            raise SchemaOutOfDate(current, expected)

    def close(self) -> None:
        """Close every pooled connection. The store must not be used afterwards."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on error.

        Yields a SQLAlchemy :class:`~sqlalchemy.Connection`; pass it as ``session`` to store
        methods so their writes join this transaction (a stock movement and the outbox mark
        it causes, for instance). Database errors surface as :class:`StoreError`.

        On SQLite the transaction takes the write lock at once (``BEGIN IMMEDIATE``); opening a
        second write transaction in the same thread would wait on itself, so it is refused.
        """
        sqlite_guard = self.dialect == "sqlite"
        if sqlite_guard:
            if getattr(self._writing, "active", False):
                raise StoreError(
                    "a store write transaction is already open in this thread; pass its "
                    "session= to the call (on SQLite a second one would wait for itself)"
                )
            self._writing.active = True
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StoreError(f"store transaction failed: {describe_db_error(exc)}") from exc
        finally:
            if sqlite_guard:
                self._writing.active = False

    @contextmanager
    def _tx(self, session: Connection | None) -> Iterator[Connection]:
        """The caller's transaction when given, else a new one."""
        if session is not None:
            yield session
            return
        with self.session() as connection:
            yield connection

    @contextmanager
    def _read(self, session: Connection | None = None) -> Iterator[Connection]:
        """A read-only transaction (never takes SQLite's write lock), or the caller's."""
        if session is not None:
            yield session
            return
        try:
            with self.engine.connect() as connection:
                if self.dialect == "sqlite":
                    connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
                with connection.begin():
                    yield connection
        except SQLAlchemyError as exc:
            raise StoreError(f"store read failed: {describe_db_error(exc)}") from exc

    def _stream(
        self, statement: Executable, *, session: Connection | None, batch_size: int
    ) -> Generator[Row[Any], None, None]:
        """Rows of ``statement`` fetched ``batch_size`` at a time (server-side cursor).

        The generator holds a connection until it is exhausted or closed; a consumer that
        stops early should call ``close()`` on it (or use ``contextlib.closing``).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        streamed = statement.execution_options(yield_per=batch_size)
        with self._read(session) as connection:
            try:
                result = connection.execute(streamed)
                yield from result
            except SQLAlchemyError as exc:
                raise StoreError(f"store read failed: {describe_db_error(exc)}") from exc

    def _insert(self, table: Table) -> DialectInsert:
        """``INSERT`` for ``table`` with the dialect's ``ON CONFLICT`` clauses available."""
        if self.is_postgresql:
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _lock_keys(self, connection: Connection, namespace: str, keys: list[str]) -> None:
        """Serialise transactions that touch the same ``keys`` (until this one ends).

        PostgreSQL: transaction-level advisory locks, taken in sorted order so two
        transactions cannot deadlock on them. SQLite: nothing to do, its writers are serial.
        """
        if not self.is_postgresql:
            return
        ids = sorted({_lock_id(namespace, key) for key in keys})
        if len(ids) == 1:
            connection.execute(select(func.pg_advisory_xact_lock(ids[0])))
        elif ids:
            # One statement for the lot; the sorted subquery keeps the locking order.
            connection.execute(
                text(
                    "SELECT count(pg_advisory_xact_lock(k)) FROM "
                    "(SELECT unnest(CAST(:ids AS bigint[])) AS k ORDER BY k) AS keys"
                ),
                {"ids": ids},
            )

    # -- accounts (lookups used by every repository) -----------------------------------

    def _account_id(self, connection: Connection, name: str) -> int:
        """The id of account ``name``; :class:`UnknownAccount` when it is not registered."""
        found = connection.execute(
            select(accounts.c.id).where(accounts.c.name == name)
        ).scalar_one_or_none()
        if found is None:
            raise UnknownAccount(name)
        return int(found)

    def _ensure_account_id(self, connection: Connection, name: str, channel: str) -> int:
        """The id of account ``name``, registering it for ``channel`` when it is new.

        Raises :class:`StoreError` when the name is already used by another channel type.
        """
        now = self.now()
        connection.execute(
            self._insert(accounts)
            .values(name=name, channel=channel, status="active", created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[accounts.c.name])
        )
        row = connection.execute(
            select(accounts.c.id, accounts.c.channel).where(accounts.c.name == name)
        ).one()
        if row.channel != channel:
            raise StoreError(
                f"channel account {name!r} belongs to channel {row.channel!r}, not {channel!r}"
            )
        return int(row.id)
