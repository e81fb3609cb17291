"""LeakyBucket: fills per call, leaks on the sandbox clock, refuses what would overflow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnisdk.testing import LeakyBucket, SandboxClock


def frozen_clock() -> SandboxClock:
    return SandboxClock(datetime(2025, 3, 15, 2, 0, tzinfo=UTC), frozen=True)


def test_a_full_bucket_refuses_until_the_sandbox_clock_moves() -> None:
    clock = frozen_clock()
    bucket = LeakyBucket(capacity=3, leak_rate=2.0, clock=clock.time)
    assert [bucket.try_fill() for _ in range(4)] == [True, True, True, False]
    assert bucket.level == pytest.approx(3.0, abs=1e-3)
    clock.advance(0.5)  # one call leaks out
    assert bucket.try_fill() is True
    assert bucket.try_fill() is False


def test_a_refused_fill_adds_nothing() -> None:
    clock = frozen_clock()
    bucket = LeakyBucket(capacity=10, leak_rate=1.0, clock=clock.time)
    assert bucket.try_fill(7)
    assert not bucket.try_fill(4)
    assert bucket.room == pytest.approx(3.0, abs=1e-3)


def test_release_and_fill_stay_within_the_bucket() -> None:
    clock = frozen_clock()
    bucket = LeakyBucket(capacity=100, leak_rate=10.0, clock=clock.time)
    bucket.fill(250)
    assert bucket.level == pytest.approx(100.0, abs=1e-3)
    bucket.release(30)
    assert bucket.room == pytest.approx(30.0, abs=1e-3)
    bucket.release(500)
    assert bucket.level == 0.0
    clock.advance(60)
    assert bucket.level == 0.0  # never below empty


def test_a_bucket_leaks_by_the_clock_it_is_given() -> None:
    now = [1000.0]
    bucket = LeakyBucket(capacity=40, leak_rate=2.0, clock=lambda: now[0])
    bucket.fill(40)
    now[0] += 5
    assert bucket.level == pytest.approx(30.0, abs=1e-3)


@pytest.mark.parametrize(("capacity", "leak_rate"), [(0, 1.0), (-1, 1.0), (5, -0.1)])
def test_nonsense_sizes_are_refused(capacity: float, leak_rate: float) -> None:
    with pytest.raises(ValueError, match="capacity"):
        LeakyBucket(capacity=capacity, leak_rate=leak_rate, clock=lambda: 0.0)
