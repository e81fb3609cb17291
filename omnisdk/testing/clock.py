"""The sandbox's clock: real time plus an offset tests can move, or a frozen time.

Platform timestamps (``updated_at`` of orders, token expiry) come from this clock, so a test
can place an order, move time forward and check that a cursor taken in between separates the
old orders from the new ones, without sleeping.
"""

from __future__ import annotations

import threading
import time as _time
from datetime import UTC, datetime, timedelta

__all__ = ["SandboxClock"]


class SandboxClock:
    """A thread-safe, injectable clock for sandboxes.

    By default it follows the real clock; :meth:`advance` moves it forward (never back).
    ``SandboxClock(start=datetime(...), frozen=True)`` stands still except when advanced, for
    fully deterministic timestamps. Every reading is strictly later than the previous one
    (by at least a microsecond), so two objects created in a row never share a timestamp.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("SandboxClock start must be timezone-aware (use datetime.UTC)")
        self._lock = threading.Lock()
        self._frozen = frozen
        self._origin_real = _time.time()
        self._origin = (start or datetime.now(UTC)).astimezone(UTC)
        self._offset = timedelta()
        self._last: datetime | None = None

    @property
    def frozen(self) -> bool:
        """True when time moves only through :meth:`advance`."""
        return self._frozen

    def now(self) -> datetime:
        """The current sandbox time (UTC, timezone-aware)."""
        with self._lock:
            elapsed = (
                timedelta() if self._frozen else timedelta(seconds=_time.time() - self._origin_real)
            )
            current = self._origin + elapsed + self._offset
            if self._last is not None and current <= self._last:
                current = self._last + timedelta(microseconds=1)
            self._last = current
            return current

    def time(self) -> float:
        """The current sandbox time as a POSIX timestamp."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"the sandbox clock only moves forward (got {seconds} s)")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()
