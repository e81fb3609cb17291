"""Rate budgets shared by every worker: one token bucket per channel account, in Redis.

Each worker process builds its accounts' HTTP clients with a :class:`SharedRateLimiter`
(:meth:`SharedBudgets.limiter` is the engine's ``rate_limiters`` factory). A request first
passes the process's own :class:`~omnisdk.http.RateLimiter` (its priority lanes: orders before
stock before catalog backfills), then takes its tokens from the account's bucket in Redis by
one atomic script, timed by the Redis server's clock, so the workers together never spend more
than the budget however many there are. A platform's "slow down" (429 ``Retry-After``) pauses
the account in every worker, not only in the one that was told.

Lanes order the requests of one process; between processes a bucket is first come, first
served.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import Any

from omnisdk._ratelimit import Clock, Sleep
from omnisdk.http import Lane, RateBudget, RateLimiter

__all__ = ["BudgetWait", "SharedBudgets", "SharedRateLimiter"]

logger = logging.getLogger("omnisdk.runtime.celery")

BudgetWait = Callable[[str, str, float], None]
"""Told ``(channel type, account, seconds)`` each time a request waited for the shared bucket."""

_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate / 1000000)
  at = now
end
local needed = math.min(cost, capacity)
local wait = 0
if tokens >= needed then
  tokens = tokens - cost
else
  wait = math.ceil((needed - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 60000)
return wait
"""
"""KEYS: bucket, pause. ARGV: rate per second, capacity, cost. Returns the microseconds to
wait before trying again (0: the tokens were taken)."""

_PAUSE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local until_at = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_at > current then
  redis.call('SET', KEYS[1], tostring(until_at), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"""
"""KEYS: pause. ARGV: microseconds. A pause only ever extends the current one."""


class SharedBudgets:
    """The shared buckets of one Redis (``redis://127.0.0.1:6379/0``), under ``prefix``.

    ``on_wait`` is told every wait (metrics). One client per event loop is opened on first
    use; :meth:`aclose` closes it.
    """

    def __init__(
        self, url: str, *, prefix: str = "omnisdk:budget", on_wait: BudgetWait | None = None
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.on_wait = on_wait
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._take: Any = None
        self._pause: Any = None

    def __repr__(self) -> str:
        return f"SharedBudgets(prefix={self.prefix!r})"  # the URL may carry a password

    def limiter(self, channel: str, account: str, budget: RateBudget) -> RateLimiter:
        """The limiter of ``account`` (the engine's ``rate_limiters`` factory)."""
        if math.isinf(budget.requests_per_second):
            return RateLimiter(budget)  # nothing to share: only pauses and lanes apply
        return SharedRateLimiter(budget, budgets=self, channel=channel, account=account)

    def _scripts(self) -> tuple[Any, Any]:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(self.url)
            self._loop = loop
            self._take = self._client.register_script(_TAKE)
            self._pause = self._client.register_script(_PAUSE)
        return self._take, self._pause

    def keys(self, channel: str, account: str) -> tuple[str, str]:
        """The Redis keys of ``account``'s bucket and pause."""
        base = f"{self.prefix}:{channel}:{account}"
        return f"{base}:bucket", f"{base}:pause"

    async def take(self, channel: str, account: str, budget: RateBudget, cost: float) -> float:
        """Take ``cost`` tokens of ``account``'s bucket, or say how many seconds to wait."""
        take, _ = self._scripts()
        waited = await take(
            keys=list(self.keys(channel, account)),
            args=[repr(budget.requests_per_second), budget.burst, repr(cost)],
        )
        return int(waited) / 1_000_000

    async def pause(self, channel: str, account: str, seconds: float) -> None:
        """Hold every worker's requests to ``account`` back for ``seconds``."""
        _, pause = self._scripts()
        await pause(keys=[self.keys(channel, account)[1]], args=[max(int(seconds * 1e6), 1)])

    async def aclose(self) -> None:
        """Close the Redis client (a new one is opened if used again)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


class SharedRateLimiter(RateLimiter):
    """A :class:`~omnisdk.http.RateLimiter` whose budget is shared through Redis (see the
    module doc). ``waits`` and ``waited`` count the waits for the shared bucket."""

    def __init__(
        self,
        budget: RateBudget,
        *,
        budgets: SharedBudgets,
        channel: str,
        account: str,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if clock is None:
            super().__init__(budget, sleep=sleep)
        else:
            super().__init__(budget, clock=clock, sleep=sleep)
        self._budgets = budgets
        self._channel = channel
        self._account = account
        self._turn: asyncio.Lock | None = None
        self._pauses: set[asyncio.Task[None]] = set()
        self.waits = 0
        self.waited = 0.0

    def __repr__(self) -> str:
        return f"SharedRateLimiter(account={self._account!r}, budget={self.budget!r})"

    async def acquire(self, lane: Lane = Lane.DEFAULT, cost: float = 1.0) -> None:
        """Pass this process's lanes, then take ``cost`` tokens from the shared bucket."""
        await super().acquire(lane, cost)
        if self._turn is None:
            self._turn = asyncio.Lock()
        # One caller of this process at a time at the shared bucket, in the order the lanes
        # let them through.
        async with self._turn:
            while True:
                wait = await self._budgets.take(self._channel, self._account, self.budget, cost)
                if wait <= 0:
                    return
                self.waits += 1
                self.waited += wait
                if self._budgets.on_wait is not None:
                    self._budgets.on_wait(self._channel, self._account, wait)
                await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Pause this process at once and every other worker through Redis."""
        super().pause(seconds)
        if seconds <= 0:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._share_pause(seconds))
        self._pauses.add(task)
        task.add_done_callback(self._pauses.discard)

    async def _share_pause(self, seconds: float) -> None:
        try:
            await self._budgets.pause(self._channel, self._account, seconds)
        except Exception as exc:  # the local pause holds; the others learn by their own 429
            logger.warning("sharing the pause of %s failed: %s", self._account, exc)
