"""Running the store's Alembic migrations from code (no ``alembic.ini`` needed).

The migration scripts ship inside the package (``omnisdk/store/migrations``). Upgrading
holds a lock for its whole transaction (an advisory lock on PostgreSQL, the write lock on
SQLite), so several workers starting at once migrate the database exactly once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, select

from omnisdk.store.schema import VERSION_TABLE

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "upgrade",
]

MIGRATIONS_DIR: Final = Path(__file__).parent / "migrations"
"""The directory holding ``env.py`` and ``versions/``."""

_MIGRATION_LOCK_ID: Final = 0x6F6D6E6973646B  # "omnisdk": one advisory lock for all upgrades


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` for the store's migrations.

    Pass ``connection`` to run inside that connection's transaction, or ``url`` to let
    ``env.py`` connect by itself (e.g. to autogenerate a new revision during development).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_table", VERSION_TABLE)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the shipped migrations define."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships at least one revision
        raise RuntimeError("the store ships no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when the store was never migrated."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def _lock_for_migration(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK_ID)))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the newest) in one transaction."""
    with engine.begin() as connection:
        _lock_for_migration(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (``"base"`` removes every store table)."""
    with engine.begin() as connection:
        _lock_for_migration(connection)
        command.downgrade(alembic_config(connection), revision)
