"""Fixtures of the end-to-end tests: the engine test kit of tests/sync."""

import sys
from pathlib import Path

_KIT = Path(__file__).resolve().parents[1] / "sync"
if str(_KIT) not in sys.path:
    sys.path.insert(0, str(_KIT))

from _engine_testkit import (  # noqa: E402
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
