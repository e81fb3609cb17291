"""Per-account request budgets: an asyncio token bucket with priority lanes.

One :class:`RateLimiter` guards one channel account. Every HTTP attempt takes tokens from it
in a :class:`Lane`; when tokens run short, callers queue and are served strictly by lane
(orders before stock before everything else before backfills), first come first served within
a lane. After the platform says "slow down" (HTTP 429 with ``Retry-After``), :meth:`pause`
holds every caller back for that long.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Clock", "Lane", "RateBudget", "RateLimiter", "RateLimiterFactory", "Sleep"]

Clock = Callable[[], float]
"""A monotonic clock in seconds (``time.monotonic`` or a fake in tests)."""

Sleep = Callable[[float], Awaitable[None]]
"""An awaitable sleep in seconds (``asyncio.sleep`` or a fake in tests)."""

# Absorbs float error so a caller woken exactly on time does not sleep again for 1e-16 s.
_EPSILON = 1e-9


class Lane(enum.IntEnum):
    """Priority lanes of a rate budget; a lower value is served first."""

    ORDERS = 0
    """Order intake: new and changed orders."""
    STOCK = 1
    """Stock pushes: the outbox draining to a channel."""
    DEFAULT = 2
    """Everything else (catalog and price pushes, checks)."""
    BACKFILL = 3
    """Bulk history and catalog backfills: only what the other lanes leave over."""


class RateBudget(BaseModel):
    """How fast one account may call a platform: a token bucket.

    ``requests_per_second`` is the sustained rate (a rate, so a float) and ``burst`` the bucket
    size: how many requests may go at once after a quiet spell. Shopify REST, for example, is
    a bucket of 40 leaking 2 per second: ``RateBudget(requests_per_second=2, burst=40)``.
    ``requests_per_second=math.inf`` means no limit (pauses and lanes still apply).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests_per_second: float = Field(gt=0)
    burst: int = Field(default=1, ge=1)


@dataclass(order=True)
class _Waiter:
    lane: int
    seq: int
    cost: float = field(compare=False)
    wake: asyncio.Event = field(compare=False, default_factory=asyncio.Event)


class RateLimiter:
    """An asyncio token bucket whose waiting callers are served by lane, then in order.

    A caller that finds the bucket short joins a queue ordered by (lane, arrival). Only the
    caller at the head of the queue may take tokens, so a :attr:`Lane.BACKFILL` caller never
    goes before a waiting :attr:`Lane.ORDERS` or :attr:`Lane.STOCK` caller, whenever either
    arrived. A cost larger than the bucket is allowed: it waits for a full bucket and leaves
    a debt that later callers wait out.

    ``clock`` and ``sleep`` are injectable so tests can run on fake time. The limiter belongs
    to one event loop at a time.
    """

    def __init__(
        self, budget: RateBudget, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._rate = budget.requests_per_second
        self._capacity = float(budget.burst)
        self._tokens = self._capacity
        self._updated = clock()
        self._paused_until = -math.inf
        self._queue: list[_Waiter] = []
        self._arrivals = itertools.count()

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_second={self._rate!r}, burst={self._budget.burst!r}, "
            f"waiting={len(self._queue)})"
        )

    @property
    def budget(self) -> RateBudget:
        """The budget this limiter enforces."""
        return self._budget

    @property
    def waiting(self) -> int:
        """How many callers are queued for tokens now."""
        return len(self._queue)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Let nobody through for ``seconds`` from now (e.g. after a 429 ``Retry-After``).

        A pause only ever extends the current one; it never shortens it.
        """
        if seconds > 0:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self, lane: Lane = Lane.DEFAULT, cost: float = 1.0) -> None:
        """Wait until ``cost`` tokens may be spent in ``lane``, then spend them.

        Raises :class:`ValueError` for a cost that is not a positive, finite number.
        """
        if not (cost > 0 and math.isfinite(cost)):
            raise ValueError(f"rate limiter cost must be a positive number, not {cost!r}")
        if not self._queue and self._delay_for(cost) <= 0:
            self._spend(cost)
            return
        waiter = _Waiter(int(Lane(lane)), next(self._arrivals), cost)
        heapq.heappush(self._queue, waiter)
        try:
            await self._wait_turn(waiter)
        except BaseException:
            if waiter in self._queue:
                self._queue.remove(waiter)
                heapq.heapify(self._queue)
            self._wake_head()
            raise

    async def _wait_turn(self, waiter: _Waiter) -> None:
        # Only the head of the queue may spend. The head sleeps until its tokens are due; the
        # others wait to be woken. Whoever leaves the head (by spending or by giving up) wakes
        # the next head, and a newcomer that becomes head runs its own loop at once, so a
        # waiter displaced mid-sleep simply finds on waking that it is no longer head.
        while True:
            waiter.wake.clear()
            if self._queue[0] is waiter:
                delay = self._delay_for(waiter.cost)
                if delay <= 0:
                    heapq.heappop(self._queue)
                    self._spend(waiter.cost)
                    self._wake_head()
                    return
                await self._sleep(delay)
                continue
            await waiter.wake.wait()

    def _wake_head(self) -> None:
        if self._queue:
            self._queue[0].wake.set()

    def _refill(self, now: float) -> None:
        if math.isinf(self._rate):
            self._tokens = self._capacity
        elif now > self._updated:
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = max(self._updated, now)

    def _delay_for(self, cost: float) -> float:
        """Seconds until ``cost`` tokens may be spent (0 or less: now)."""
        now = self._clock()
        self._refill(now)
        needed = min(cost, self._capacity)
        short = needed - self._tokens
        token_delay = 0.0 if short <= 0 else short / self._rate
        delay = max(token_delay, self._paused_until - now)
        return delay if delay > _EPSILON else 0.0

    def _spend(self, cost: float) -> None:
        self._tokens -= cost


RateLimiterFactory = Callable[[str, str, RateBudget], RateLimiter]
"""Builds the limiter of one account: ``factory(channel type, account, budget)``. The
scale-out runtime passes one whose limiters share each account's budget between processes."""
