"""The test databases every store-backed test shares (fixtures in tests/conftest.py).

PostgreSQL: throw-away databases ``omnisdk_test_<random>`` on ``OMNISDK_TEST_PG_URL`` (default
``postgres@127.0.0.1:5432``), dropped at the end of the session. When the server is unreachable
the PostgreSQL cases are skipped, except when ``CI=true``: then they fail, because CI must prove
both databases. SQLite: a migrated template file each test copies (faster than migrating).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from omnisdk.store import Store
from omnisdk.store.sales_days import MIGRATED_ZONE
from omnisdk.store.schema import metadata, sales_day_zones

PG_ADMIN_URL = os.environ.get(
    "OMNISDK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
"""Parametrise ``backend`` with these to run a test on both databases."""


def in_ci() -> bool:
    """True when running under CI (``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() == "true"


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them all at the end."""

    def __init__(self, admin: Engine) -> None:
        self.admin = admin
        self.names: list[str] = []

    @classmethod
    def connect(cls) -> PostgresDatabases:
        """Reach the server, or skip (fail when CI=true) if it is unreachable."""
        admin = create_engine(
            PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        try:
            with admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            admin.dispose()
            shown = make_url(PG_ADMIN_URL).render_as_string()
            message = f"PostgreSQL unreachable at {shown}: {exc}"
            if in_ci():
                pytest.fail(f"CI=true requires PostgreSQL. {message}")
            pytest.skip(message)
        return cls(admin)

    def create(self) -> str:
        """Create an empty database; return its URL."""
        name = f"omnisdk_test_{secrets.token_hex(6)}"
        with self.admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
        self.names.append(name)
        url = make_url(PG_ADMIN_URL).set(database=name)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database this object created, and let go of the server."""
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.names.clear()
        self.admin.dispose()


def migrate(url: str) -> str:
    """Bring the database at ``url`` to the newest schema; return ``url``."""
    store = Store(url)
    try:
        store.migrate()
    finally:
        store.close()  # on SQLite the last connection to close checkpoints the WAL into the file
    return url


def copy_of(template: Path, directory: Path) -> str:
    """URL of a fresh copy of the migrated SQLite ``template`` inside ``directory``."""
    path = directory / "omnisdk.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def empty_tables(url: str) -> None:
    """Delete every row of the store's tables (children first; faster than TRUNCATE here),
    leaving what the migrations write into a new store (the sales summary's zones)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                if table is sales_day_zones:
                    kept = sales_day_zones.c.zone == MIGRATED_ZONE
                    connection.execute(table.delete().where(~kept))
                else:
                    connection.execute(table.delete())
    finally:
        engine.dispose()
