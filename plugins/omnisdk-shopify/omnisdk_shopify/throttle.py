"""Shopify's GraphQL cost throttle, seen from the client: wait for the bucket, never hammer.

Every GraphQL answer reports the bucket in ``extensions.cost.throttleStatus``
(``maximumAvailable``, ``currentlyAvailable``, ``restoreRate``). :class:`CostThrottle` keeps
the latest report, predicts the bucket from it (it refills at ``restoreRate`` points per
second) and makes a query wait until its expected cost fits, so the client rarely meets a
``THROTTLED`` answer; when it does, :func:`throttled_wait` says how long the answer asks for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["CostThrottle", "throttled_wait"]

MAX_QUERY_COST = 1000.0
"""Shopify refuses a single query dearer than this."""


class CostThrottle:
    """The client's model of one shop's GraphQL cost bucket (one per channel account)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._maximum: float | None = None
        self._available = 0.0
        self._restore = 0.0
        self._seen_at = 0.0
        self._costs: dict[str, float] = {}
        self.waited = 0.0
        """Seconds spent waiting for the bucket (for tests and metrics)."""

    def expected_cost(self, key: str) -> float:
        """What a query was charged last time (0 until it has been sent once)."""
        return self._costs.get(key, 0.0)

    def available_now(self) -> float | None:
        """The predicted points in the bucket now (None before the first report)."""
        if self._maximum is None:
            return None
        elapsed = max(0.0, self._clock() - self._seen_at)
        return min(self._maximum, self._available + elapsed * self._restore)

    async def wait_for(self, key: str) -> None:
        """Sleep until the query known as ``key`` is expected to fit in the bucket."""
        needed = min(self.expected_cost(key), MAX_QUERY_COST)
        available = self.available_now()
        if available is None or self._maximum is None or self._restore <= 0:
            return
        needed = min(needed, self._maximum)
        if available >= needed:
            return
        delay = (needed - available) / self._restore
        self.waited += delay
        await self._sleep(delay)

    def observe(self, key: str, extensions: Any) -> None:
        """Take in a response's ``extensions`` (cost charged and bucket state)."""
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            return
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._costs[key] = float(requested)
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            try:
                self._maximum = float(status["maximumAvailable"])
                self._available = float(status["currentlyAvailable"])
                self._restore = float(status["restoreRate"])
            except (KeyError, TypeError, ValueError):
                return
            self._seen_at = self._clock()


def throttled_wait(body: Any) -> float | None:
    """Seconds a ``THROTTLED`` GraphQL answer asks to wait; None if ``body`` is not one."""
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if not isinstance(errors, list) or not any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    ):
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        requested = min(
            float(cost.get("requestedQueryCost") or 0),
            MAX_QUERY_COST,
            float(status.get("maximumAvailable") or MAX_QUERY_COST),
        )
        available = float(status.get("currentlyAvailable") or 0)
        restore = float(status.get("restoreRate") or 50)
    except (TypeError, ValueError):
        return 1.0
    return max(0.05, (requested - available) / restore)
