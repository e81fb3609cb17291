"""The token bucket and its priority lanes, on fake time."""

from __future__ import annotations

import asyncio
import math

import pytest
from _http_testkit import AutoClock, ManualClock, settle
from pydantic import ValidationError

from omnisdk.http import Lane, RateBudget, RateLimiter


def limiter_on(clock: AutoClock | ManualClock, rps: float, burst: int) -> RateLimiter:
    return RateLimiter(
        RateBudget(requests_per_second=rps, burst=burst), clock=clock, sleep=clock.sleep
    )


async def test_burst_goes_at_once_then_the_sustained_rate() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rps=10, burst=5)
    times = []
    for _ in range(25):
        await limiter.acquire()
        times.append(clock.elapsed)
    assert times[:5] == [0.0] * 5
    assert times[5:] == pytest.approx([0.1 * k for k in range(1, 21)])


async def test_concurrent_callers_never_exceed_the_budget() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rps=4, burst=3)
    times: list[float] = []

    async def caller() -> None:
        await limiter.acquire(Lane.STOCK)
        times.append(clock.elapsed)

    await asyncio.gather(*(caller() for _ in range(27)))
    assert len(times) == 27
    assert max(times) == pytest.approx((27 - 3) / 4)
    # In any window [a, b] at most burst + rate * (b - a) calls went through.
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            assert j - i + 1 <= 3 + 4 * (times[j] - start) + 1e-6


async def test_idle_time_refills_only_up_to_the_burst() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rps=2, burst=2)
    await limiter.acquire()
    await limiter.acquire()
    clock.now += 60  # a quiet minute
    for _ in range(2):
        await limiter.acquire()
    assert clock.sleeps == []
    await limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.5)]


async def test_cost_spends_several_tokens_and_may_exceed_the_bucket() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rps=10, burst=10)
    await limiter.acquire(cost=10)
    assert clock.elapsed == 0
    await limiter.acquire(cost=5)
    assert clock.elapsed == pytest.approx(0.5)
    # A cost above the bucket waits for a full bucket and leaves a debt.
    await limiter.acquire(cost=25)
    assert clock.elapsed == pytest.approx(1.5)
    await limiter.acquire(cost=1)
    assert clock.elapsed == pytest.approx(1.5 + 1.6)


async def test_waiters_are_served_by_lane_then_in_arrival_order() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, rps=1, burst=1)
    await limiter.acquire()  # the bucket is now empty
    served: list[str] = []

    async def caller(name: str, lane: Lane) -> None:
        await limiter.acquire(lane)
        served.append(name)

    arrivals = [
        ("backfill-1", Lane.BACKFILL),
        ("backfill-2", Lane.BACKFILL),
        ("catalog", Lane.DEFAULT),
        ("stock-1", Lane.STOCK),
        ("order-1", Lane.ORDERS),
        ("stock-2", Lane.STOCK),
        ("order-2", Lane.ORDERS),
    ]
    tasks = []
    for name, lane in arrivals:  # backfills queue first, orders last
        tasks.append(asyncio.create_task(caller(name, lane)))
        await settle()
    assert served == []
    assert limiter.waiting == len(arrivals)

    for second in range(1, len(arrivals) + 1):
        await clock.advance(1.0)
        assert len(served) == second, "exactly one token per second"
    assert served == [
        "order-1",
        "order-2",
        "stock-1",
        "stock-2",
        "catalog",
        "backfill-1",
        "backfill-2",
    ]
    await asyncio.gather(*tasks)


async def test_backfill_never_overtakes_an_order_that_arrives_while_it_sleeps() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, rps=1, burst=1)
    await limiter.acquire()
    served: list[str] = []

    async def caller(name: str, lane: Lane) -> None:
        await limiter.acquire(lane)
        served.append(name)

    backfill = asyncio.create_task(caller("backfill", Lane.BACKFILL))
    await clock.advance(0.9)  # the backfill has been waiting for most of a second
    order = asyncio.create_task(caller("order", Lane.ORDERS))
    await settle()
    await clock.advance(0.1)
    assert served == ["order"]
    await clock.advance(1.0)
    assert served == ["order", "backfill"]
    await asyncio.gather(backfill, order)


async def test_pause_holds_every_caller_back() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rps=100, burst=10)
    limiter.pause(3.0)
    assert limiter.paused_for() == pytest.approx(3.0)
    await limiter.acquire(Lane.ORDERS)
    assert clock.elapsed == pytest.approx(3.0)
    limiter.pause(1.0)
    limiter.pause(0.5)  # a shorter pause never shortens the current one
    await limiter.acquire()
    assert clock.elapsed == pytest.approx(4.0)


async def test_pause_while_callers_wait_extends_their_wait() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, rps=1, burst=1)
    await limiter.acquire()
    done = asyncio.create_task(limiter.acquire(Lane.ORDERS))
    await settle()
    limiter.pause(5.0)
    await clock.advance(4.9)
    assert not done.done()
    await clock.advance(0.1)
    assert done.done()


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, rps=1, burst=1)
    await limiter.acquire()
    order = asyncio.create_task(limiter.acquire(Lane.ORDERS))
    backfill = asyncio.create_task(limiter.acquire(Lane.BACKFILL))
    await settle()
    order.cancel()
    await settle()
    assert limiter.waiting == 1
    await clock.advance(1.0)
    assert backfill.done()
    assert order.cancelled()


async def test_an_unlimited_budget_never_sleeps_but_honours_pauses() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rps=math.inf, burst=1)
    for _ in range(500):
        await limiter.acquire()
    assert clock.sleeps == []
    limiter.pause(2.0)
    await limiter.acquire()
    assert clock.elapsed == pytest.approx(2.0)


async def test_bad_costs_and_budgets_are_refused() -> None:
    limiter = RateLimiter(RateBudget(requests_per_second=1))
    for cost in (0, -1, math.nan, math.inf):
        with pytest.raises(ValueError, match="cost"):
            await limiter.acquire(cost=cost)
    with pytest.raises(ValidationError):
        RateBudget(requests_per_second=0)
    with pytest.raises(ValidationError):
        RateBudget(requests_per_second=1, burst=0)
    assert RateBudget(requests_per_second=2, burst=40).burst == 40
    assert "burst=40" in repr(RateLimiter(RateBudget(requests_per_second=2, burst=40)))
