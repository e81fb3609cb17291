"""A leaky bucket for sandbox rate limits, on the sandbox's injectable clock.

Platforms throttle API clients with a bucket: each call (or each point of a call's cost)
fills it, it leaks at a steady rate, and a call that would overflow it is refused. A sandbox
keeps one :class:`LeakyBucket` per client (per access token, per shop) and reads time from
its :class:`~omnisdk.testing.clock.SandboxClock`, so a test that advances the clock empties
the bucket without sleeping::

    bucket = LeakyBucket(capacity=40, leak_rate=2.0, clock=sandbox.clock.time)
    if not bucket.try_fill(1):
        ...  # answer the platform's 429
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["LeakyBucket"]


class LeakyBucket:
    """Holds up to ``capacity`` units and leaks ``leak_rate`` units per second (thread-safe).

    ``clock`` returns seconds (``SandboxClock.time`` in a sandbox); only its differences
    matter. :attr:`level` is what the bucket holds now, :attr:`room` what still fits.
    """

    def __init__(self, *, capacity: float, leak_rate: float, clock: Callable[[], float]) -> None:
        if capacity <= 0 or leak_rate < 0:
            raise ValueError(f"need capacity > 0 and leak_rate >= 0, got {capacity}, {leak_rate}")
        self.capacity = capacity
        self.leak_rate = leak_rate
        self._clock = clock
        self._level = 0.0
        self._stamp = clock()
        self._lock = threading.Lock()

    def _leak_locked(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._stamp) * self.leak_rate)
        self._stamp = now

    @property
    def level(self) -> float:
        """What the bucket holds now."""
        with self._lock:
            self._leak_locked()
            return self._level

    @property
    def room(self) -> float:
        """How much still fits now (``capacity - level``)."""
        with self._lock:
            self._leak_locked()
            return self.capacity - self._level

    def try_fill(self, amount: float = 1.0) -> bool:
        """Add ``amount`` if it fits; False (nothing added) when it would overflow."""
        with self._lock:
            self._leak_locked()
            if self._level + amount > self.capacity:
                return False
            self._level += amount
            return True

    def fill(self, amount: float) -> None:
        """Add ``amount`` whether it fits or not, up to the brim (another busy client)."""
        with self._lock:
            self._leak_locked()
            self._level = min(self.capacity, self._level + amount)

    def release(self, amount: float) -> None:
        """Take ``amount`` out again (a call that cost less than it was charged)."""
        with self._lock:
            self._leak_locked()
            self._level = max(0.0, self._level - amount)
