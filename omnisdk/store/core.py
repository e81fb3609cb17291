"""The store's foundation: engine, transactions, streaming reads and account lookup.

Every repository mixin of :class:`omnisdk.store.Store` builds on :class:`StoreCore`. A
method that takes ``session`` runs inside the caller's transaction when one is given, and in
a transaction of its own otherwise.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self, TypeAlias

from sqlalchemy import URL, Connection, Executable, Row, Table, bindparam, event, select, text
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
from omnisdk.store.token_keys import TokenCipher
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


_UNCOMMITTED_ACCOUNTS = "omnisdk_uncommitted_accounts"
"""``Connection.info`` key: names of accounts the connection's open transaction created."""

_ACCOUNT_ID = select(accounts.c.id, accounts.c.channel).where(accounts.c.name == bindparam("name"))


_LOCK_SORTED = text(
    "SELECT count(pg_advisory_xact_lock(lock_id)) FROM "
    "(SELECT unnest(CAST(:ids AS BIGINT[])) AS lock_id ORDER BY lock_id) AS sorted_ids"
)


def _forget_uncommitted(connection: Connection) -> None:
    connection.info.pop(_UNCOMMITTED_ACCOUNTS, None)


def _lock_id(namespace: str, key: str) -> int:
    digest = hashlib.blake2b(f"omnisdk:{namespace}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class StoreCore:
    """Engine, transactions and helpers shared by every part of the store.

    ``url`` is a SQLAlchemy URL (``sqlite:///omnisdk.db`` by default, or
    ``postgresql+psycopg://user@host/db``). ``clock`` returns the current aware UTC time; tests
    replace it. ``token_keys`` are the Fernet keys tokens are stored encrypted with (the first
    encrypts; default: ``OMNISDK_TOKEN_KEYS``, see :mod:`omnisdk.store.token_keys`). The object
    is safe to share between threads: each transaction checks out its own connection from the
    pool.
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
        token_keys: Sequence[str] | None = None,
    ) -> None:
        self.token_cipher = (
            TokenCipher(token_keys) if token_keys is not None else TokenCipher.from_environment()
        )
        """Encrypts stored tokens (``token_keys``, else ``OMNISDK_TOKEN_KEYS``; none: plain)."""
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
        self._account_ids: dict[str, tuple[int, str]] = {}
        """Account name -> (id, channel type), for accounts known to be committed: an
        account's id and channel never change once it exists."""
        event.listen(self.engine, "commit", _forget_uncommitted)
        event.listen(self.engine, "rollback", _forget_uncommitted)

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
        if ids:
            # One statement; the subquery hands the ids to the lock function in sorted order.
            connection.execute(_LOCK_SORTED, {"ids": ids})

    # -- accounts (lookups used by every repository) -----------------------------------

    def _account_id(self, connection: Connection, name: str) -> int:
        """The id of account ``name``; :class:`UnknownAccount` when it is not registered."""
        found = self._account_row(connection, name)
        if found is None:
            raise UnknownAccount(name)
        return found[0]

    def _account_row(self, connection: Connection, name: str) -> tuple[int, str] | None:
        """(id, channel type) of account ``name``, or None; cached once known committed.

        An account this transaction created is not cached until the transaction ends (a
        rollback takes it away again).
        """
        cached = self._account_ids.get(name)
        if cached is not None:
            return cached
        row = connection.execute(_ACCOUNT_ID, {"name": name}).one_or_none()
        if row is None:
            return None
        found = (int(row.id), str(row.channel))
        if name not in connection.info.get(_UNCOMMITTED_ACCOUNTS, ()):
            self._account_ids[name] = found
        return found

    def _ensure_account_id(self, connection: Connection, name: str, channel: str) -> int:
        """The id of account ``name``, registering it for ``channel`` when it is new.

        Raises :class:`StoreError` when the name is already used by another channel type.
        """
        found = self._account_row(connection, name)
        if found is None:
            now = self.now()
            created = connection.execute(
                self._insert(accounts)
                .values(name=name, channel=channel, status="active", created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=[accounts.c.name])
                .returning(accounts.c.id)
            ).scalar_one_or_none()
            if created is not None:
                connection.info.setdefault(_UNCOMMITTED_ACCOUNTS, set()).add(name)
            found = self._account_row(connection, name)
            if found is None:  # pragma: no cover - the row was just inserted or found
                raise StoreError(f"channel account {name!r} could not be registered")
        if found[1] != channel:
            raise StoreError(
                f"channel account {name!r} belongs to channel {found[1]!r}, not {channel!r}"
            )
        return found[0]
