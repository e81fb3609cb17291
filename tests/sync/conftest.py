"""Fixtures of the engine tests (see ``_engine_testkit``)."""

from _engine_testkit import (
    backend,
    make_harness,
    sqlite_url,
    store_url,
)

__all__ = [
    "backend",
    "make_harness",
    "sqlite_url",
    "store_url",
]
