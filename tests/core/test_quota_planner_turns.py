"""Quota turns (``omnisdk.quotas.plan_turns``): scarce units an account does not sell move on.

Pure arithmetic on an injected ``now``: no engine, no clock. The engine-level proof (take
before give, through real channels) is ``tests/sync/test_quota_turns.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from omnisdk.quotas import Claimant, Rotation, plan_shares, plan_turns, quota_for

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
EVERY = timedelta(minutes=10)
NAMES = ("shop-a", "shop-b", "shop-c", "shop-d")


def idle(name: str, *, turn_at: datetime | None = None, listing: bool = False) -> Claimant:
    """An account that sold none of the SKU lately, holding 1 unit when ``listing``."""
    return Claimant(
        account=name, holds=1 if listing else 0, cap=10, listing=listing, turn_at=turn_at
    )


def at(minutes: float) -> Rotation:
    return Rotation(now=T0 + timedelta(minutes=minutes), every=EVERY)


def test_the_first_turns_are_the_shares_ties_by_name() -> None:
    claimants = [idle(name) for name in NAMES]
    turns = plan_turns(3, claimants, at(0))
    assert dict(turns.shares) == plan_shares(3, claimants) == {
        "shop-a": 1,
        "shop-b": 1,
        "shop-c": 1,
        "shop-d": 0,
    }
    assert turns.rotate_at is None  # nobody holds a unit yet: no turn is running


def test_a_turn_ends_after_rotate_after_and_the_unit_goes_to_the_one_that_holds_none() -> None:
    claimants = [idle(n, turn_at=T0, listing=True) for n in NAMES[:3]] + [idle("shop-d")]
    running = plan_turns(3, claimants, at(9))
    assert dict(running.shares) == {"shop-a": 1, "shop-b": 1, "shop-c": 1, "shop-d": 0}
    assert running.rotate_at == T0 + EVERY  # when the engine must decide again
    ended = plan_turns(3, claimants, at(10))
    # One unit moves, from one account (ties by name, the last gives up) to the one with none.
    assert dict(ended.shares) == {"shop-a": 1, "shop-b": 1, "shop-c": 0, "shop-d": 1}


def test_the_account_that_just_gave_a_unit_up_waits_its_turn() -> None:
    """No cascade: shop-c gave its unit up at minute 10, so the stale holders keep theirs
    (a released account ranking first would take one back at once, and so on round)."""
    claimants = [
        idle("shop-a", turn_at=T0, listing=True),
        idle("shop-b", turn_at=T0, listing=True),
        idle("shop-c", turn_at=T0 + EVERY),  # gave up at minute 10
        idle("shop-d"),  # not yet given: it still waits first
    ]
    turns = plan_turns(3, claimants, at(10.5))
    assert dict(turns.shares) == {"shop-a": 1, "shop-b": 1, "shop-c": 0, "shop-d": 1}
    assert turns.rotate_at == T0 + 2 * EVERY  # shop-c may have one again then


def test_every_idle_account_gets_a_turn_one_move_per_turn() -> None:
    """Turns as the engine would take them, each decision applied at once: 1 unit over 4
    accounts visits all four, holding each for one ``rotate_after``, one move at a time."""
    claimants = {name: idle(name) for name in NAMES}
    holders: list[tuple[float, str]] = []
    minute = 0.0
    while minute <= 80:
        shares = plan_turns(1, list(claimants.values()), at(minute)).shares
        for name, share in shares.items():
            claimant = claimants[name]
            if (share > 0) != claimant.listing:  # the push confirmed: a new turn starts
                claimants[name] = replace(
                    claimant,
                    listing=share > 0,
                    holds=share,
                    turn_at=T0 + timedelta(minutes=minute),
                )
        assert sum(shares.values()) == 1
        holder = next(name for name, share in shares.items() if share)
        if not holders or holders[-1][1] != holder:
            holders.append((minute, holder))
        minute += 0.5
    assert [name for _, name in holders[:4]] == ["shop-a", "shop-b", "shop-c", "shop-d"]
    assert [name for _, name in holders[4:8]] == ["shop-a", "shop-b", "shop-c", "shop-d"]
    gaps = [later - earlier for (earlier, _), (later, _) in pairwise(holders)]
    assert all(gap >= 10 for gap in gaps), holders


def test_an_account_that_sells_keeps_its_units_out_of_turns() -> None:
    """Velocity, not turns, gives units to an account that sells: its unit never moves."""
    seller = replace(idle("shop-a", turn_at=T0, listing=True), velocity=1)
    claimants = [seller, idle("shop-b", turn_at=T0, listing=True), idle("shop-c"), idle("shop-d")]
    turns = plan_turns(2, claimants, at(60))
    assert turns.shares["shop-a"] == 2 and sum(turns.shares.values()) == 2


def test_enough_units_for_everyone_means_no_turns() -> None:
    claimants = [idle(n, turn_at=T0, listing=True) for n in NAMES]
    turns = plan_turns(5, claimants, at(60))
    assert dict(turns.shares) == plan_shares(5, claimants)
    assert turns.rotate_at is None


def test_rotate_after_zero_turns_them_off() -> None:
    claimants = [idle(n, turn_at=T0, listing=True) for n in NAMES[:3]] + [idle("shop-d")]
    off = Rotation(now=T0 + timedelta(days=1), every=timedelta(0))
    assert dict(plan_turns(3, claimants, off).shares) == plan_shares(3, claimants)


def test_weight_zero_and_a_cap_of_zero_take_no_turn() -> None:
    claimants = [
        idle("shop-a", turn_at=T0, listing=True),
        replace(idle("shop-b"), weight=Decimal(0)),
        replace(idle("shop-c"), cap=0),
    ]
    assert dict(plan_turns(1, claimants, at(60)).shares) == {"shop-a": 1, "shop-b": 0, "shop-c": 0}


def test_turns_move_shares_never_headroom() -> None:
    """Take before give: shop-d's turn has come, but shop-c still holds its unit, so shop-d
    may list nothing until shop-c's lower figure is confirmed (and shop-c is asked to)."""
    claimants = [idle(n, turn_at=T0, listing=True) for n in NAMES[:3]] + [idle("shop-d")]
    gainer = quota_for("shop-d", 3, claimants, at(10))
    assert (gainer.share, gainer.headroom, gainer.figure) == (1, 0, 0)
    assert gainer.starved and gainer.over_share == ("shop-c",)
    loser = quota_for("shop-c", 3, claimants, at(10))
    assert (loser.share, loser.figure) == (0, 0)
    given_up = [*claimants[:2], replace(claimants[2], holds=0, listing=False, turn_at=at(10).now)]
    after = quota_for("shop-d", 3, [*given_up, claimants[3]], at(10))
    assert (after.share, after.headroom, after.figure) == (1, 1, 1)
