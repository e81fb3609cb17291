"""Session fixtures every store-backed test shares: the test databases.

Being at the root of tests/, this file also puts tests/ on ``sys.path``, so test modules and
the per-folder conftests import ``_database_testkit`` by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _database_testkit import PostgresDatabases, migrate


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    """The PostgreSQL server, or a skip (a failure when CI=true) if it is unreachable."""
    databases = PostgresDatabases.connect()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def pg_url(pg_databases: PostgresDatabases) -> str:
    """One migrated PostgreSQL database for the session (tests empty its tables first)."""
    return migrate(pg_databases.create())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("store-template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path
