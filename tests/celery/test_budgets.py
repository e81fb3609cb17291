"""Rate budgets shared through the local Redis: many limiters, one budget."""

from __future__ import annotations

import asyncio
import time
import uuid

from omnisdk.http import Lane, RateBudget
from omnisdk.runtime.celery.budgets import SharedBudgets, SharedRateLimiter


def _budgets(redis_url: str, prefix: str) -> SharedBudgets:
    return SharedBudgets(redis_url, prefix=prefix)


async def test_four_workers_together_keep_one_budget(redis_url: str) -> None:
    # Four processes' limiters (each its own SharedBudgets and Redis client) spend one
    # account's budget: 5 at once, then 50 per second, whoever asks.
    prefix = f"test:{uuid.uuid4().hex}"
    budget = RateBudget(requests_per_second=50, burst=5)
    workers = [_budgets(redis_url, prefix) for _ in range(4)]
    limiters = [w.limiter("example", "shop-hanoi", budget) for w in workers]
    assert all(isinstance(limiter, SharedRateLimiter) for limiter in limiters)
    times: list[float] = []

    async def spend(limiter: SharedRateLimiter, count: int) -> None:
        for _ in range(count):
            await limiter.acquire(Lane.STOCK)
            times.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(spend(limiter, 10) for limiter in limiters))  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    # 40 requests: 5 from the bucket, 35 at 50/s -> at least 0.7 s for all of them.
    assert elapsed >= 0.65, elapsed
    times.sort()
    for index, at in enumerate(times):
        within = sum(1 for later in times[index:] if later - at <= 0.2)
        assert within <= 5 + 50 * 0.2 + 1, (index, within)
    assert sum(limiter.waits for limiter in limiters) > 0  # type: ignore[attr-defined]
    for worker in workers:
        await worker.aclose()


async def test_a_pause_reaches_every_worker(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    budget = RateBudget(requests_per_second=1000, burst=100)
    told, other = _budgets(redis_url, prefix), _budgets(redis_url, prefix)
    first = told.limiter("example", "shop-hanoi", budget)
    second = other.limiter("example", "shop-hanoi", budget)
    await first.acquire()
    first.pause(0.4)  # the platform answered 429 Retry-After to the first worker
    await asyncio.sleep(0.05)  # the pause is shared in the background
    started = time.monotonic()
    await second.acquire()
    assert time.monotonic() - started >= 0.25
    # Another account is not paused.
    third = other.limiter("example", "shop-hcm", budget)
    started = time.monotonic()
    await third.acquire()
    assert time.monotonic() - started < 0.2
    await told.aclose()
    await other.aclose()


def test_an_unlimited_budget_needs_no_redis() -> None:
    budgets = SharedBudgets("redis://127.0.0.1:1/0")  # never reached
    limiter = budgets.limiter("example", "shop", RateBudget(requests_per_second=float("inf")))
    assert not isinstance(limiter, SharedRateLimiter)
    assert "127.0.0.1" not in repr(budgets)
