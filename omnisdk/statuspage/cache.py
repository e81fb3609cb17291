"""A small time-bounded cache shared by every viewer of the status page.

However many browsers watch the page, the store is read at most once per ``ttl`` per key:
the first caller loads, concurrent callers wait for that same load, later callers within
``ttl`` get its result. A load that fails is not cached (the next caller tries again).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["TimedCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    loaded_at: float


class TimedCache(Generic[K, V]):
    """Values by key, each reused for ``ttl`` seconds; at most ``size`` keys are kept.

    ``clock`` returns monotonic seconds (a test passes its own).
    """

    def __init__(
        self,
        ttl: float,
        *,
        size: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.loads = 0
        """How many times a value was loaded (for tests and the benchmark)."""
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._locks: dict[K, asyncio.Lock] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The value of ``key``: cached when younger than ``ttl``, else ``await load()``."""
        fresh = self._fresh(key)
        if fresh is not None:
            return fresh.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            fresh = self._fresh(key)  # loaded by the caller this one waited for
            if fresh is not None:
                return fresh.value
            value = await load()
            self.loads += 1
            self._entries[key] = _Entry(value, self._clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                old, _ = self._entries.popitem(last=False)
                self._locks.pop(old, None)
            return value

    def _fresh(self, key: K) -> _Entry[V] | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry.loaded_at >= self.ttl:
            return None
        return entry
