"""Fixtures for the store tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL: a fresh database ``omnisdk_test_<random>`` is created for the session (dropped at
the end) on ``OMNISDK_TEST_PG_URL`` (default ``postgres@127.0.0.1:5432``). When the server is
unreachable the PostgreSQL cases are skipped, except when ``CI=true``: then they fail, because
CI must prove both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _database_testkit import BACKENDS, PostgresDatabases, copy_of, empty_tables

from omnisdk.store import Store


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated, empty store database on ``backend``."""
    if backend == "sqlite":
        return copy_of(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("pg_url")
    empty_tables(url)
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
    empty_tables(pg_url)
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
