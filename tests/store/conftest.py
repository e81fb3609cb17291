"""Fixtures for the store tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL: a fresh database ``omnisdk_test_<random>`` is created for the session (dropped at
the end) on ``OMNISDK_TEST_PG_URL`` (default ``postgres@127.0.0.1:5432``). When the server is
unreachable the PostgreSQL cases are skipped, except when ``CI=true``: then they fail, because
CI must prove both databases.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from omnisdk.store import Store
from omnisdk.store.schema import metadata

PG_ADMIN_URL = os.environ.get(
    "OMNISDK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them all at the end."""

    def __init__(self, admin: Engine) -> None:
        self.admin = admin
        self.names: list[str] = []

    def create(self) -> str:
        """Create an empty database; return its URL."""
        name = f"omnisdk_test_{secrets.token_hex(6)}"
        with self.admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
        self.names.append(name)
        url = make_url(PG_ADMIN_URL).set(database=name)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database this object created."""
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.names.clear()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    """The PostgreSQL server, or a skip (a failure when CI=true) if it is unreachable."""
    admin = create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL unreachable at {make_url(PG_ADMIN_URL).render_as_string()}: {exc}"
        if _in_ci():
            pytest.fail(f"CI=true requires PostgreSQL. {message}")
        pytest.skip(message)
    databases = PostgresDatabases(admin)
    try:
        yield databases
    finally:
        databases.drop_all()
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url(pg_databases: PostgresDatabases) -> str:
    """One migrated PostgreSQL database for the session (tables are emptied per test)."""
    url = pg_databases.create()
    store = Store(url)
    try:
        store.migrate()
    finally:
        store.close()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("store-template") / "template.db"
    store = Store(f"sqlite:///{path}")
    try:
        store.migrate()
    finally:
        store.close()  # the last connection to close checkpoints the WAL into the file
    return path


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # DELETE, children first: much faster than TRUNCATE on tables this small.
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated, empty store database on ``backend``."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "omnisdk.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    _empty_tables(url)
    return url


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database (never migrated) on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    databases: PostgresDatabases = request.getfixturevalue("pg_databases")
    return databases.create()


@pytest.fixture
def make_store(store_url: str) -> Iterator[Callable[..., Store]]:
    """Opens more :class:`Store` objects on the test database (each its own engine/pool,
    as another worker process would have); all are closed after the test."""
    opened: list[Store] = []

    def _make(**kwargs: Any) -> Store:
        store = Store(store_url, **kwargs)
        opened.append(store)
        return store

    yield _make
    for store in opened:
        store.close()


@pytest.fixture
def make_pg_store(pg_url: str) -> Iterator[Callable[..., Store]]:
    """Like ``make_store`` but PostgreSQL only, for what only PostgreSQL does."""
    _empty_tables(pg_url)
    opened: list[Store] = []

    def _make(**kwargs: Any) -> Store:
        store = Store(pg_url, **kwargs)
        opened.append(store)
        return store

    yield _make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    """A store on a migrated, empty database."""
    return make_store()


@pytest.fixture
def accounts(store: Store) -> Store:
    """The store with the accounts the tests use registered."""
    store.ensure_account("shopee-hanoi", "shopee")
    store.ensure_account("lazada-main", "lazada")
    return store
