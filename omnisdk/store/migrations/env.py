"""Alembic environment for the store: runs in a caller's connection or connects by URL.

``omnisdk.store.migrate`` passes its connection in ``config.attributes["connection"]`` and
the migrations run inside that connection's transaction. Only ``omnisdk_*`` tables are
considered, so the store can share a database with an application's own tables.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from omnisdk.store.engine import create_store_engine
from omnisdk.store.schema import VERSION_TABLE, include_store_name, metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=include_store_name,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Entry point Alembic calls: online migrations only (the store never emits SQL files)."""
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported by omnisdk.store")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the migrations")
    engine = create_store_engine(url)
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


run_migrations()
