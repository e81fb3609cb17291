"""Fixtures of the engine tests (see ``_engine_testkit``)."""

from _engine_testkit import (
    backend,
    engine_pg_url,
    engine_sqlite_template,
    make_harness,
    sqlite_url,
    store_url,
)

__all__ = [
    "backend",
    "engine_pg_url",
    "engine_sqlite_template",
    "make_harness",
    "sqlite_url",
    "store_url",
]
