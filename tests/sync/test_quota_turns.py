"""Quota turns through the engine: a scarce unit an account does not sell moves on.

The engine never hears of the buyers a channel refused. A SKU with fewer units than accounts
would keep its units where the ties put them, for ever if nobody buys them there (issue #9,
the flash sale's split demand: 36 of 39 sold). Under ``[engine] rotate_after`` the units the
idle accounts hold go round them; every move is a decrease confirmed before the increase.
The engine's clock is a :class:`Clock` the test moves: nothing here waits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from _channels import AbsoluteChannel
from _engine_testkit import SKU_RED_M, Account, Clock, Harness, MakeHarness, seed
from omnisdk_example.sandbox import ExampleSandbox

TURN = timedelta(seconds=60)


class WatchedSandbox(ExampleSandbox):
    """An Example sandbox that calls ``after_write`` after every stock write it applies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after_write: list[Any] = []

    def set_stock(self, item: dict[str, Any]) -> dict[str, Any]:
        answer = super().set_stock(item)
        for check in self.after_write:
            check()
        return answer


async def turns_harness(
    make_harness: MakeHarness,
    clock: Clock,
    *accounts: Account,
    stock: int,
    rotate_after: timedelta = TURN,
) -> tuple[Harness, list[str]]:
    """An engine over ``accounts`` (their sandboxes watched) listing ``stock`` units; returns
    it and the list the watch appends a line to whenever the channels list more than
    ``stock`` units together (the physical promise, checked after every write)."""
    broken: list[str] = []
    sandboxes: dict[str, WatchedSandbox] = {}
    for index, account in enumerate(accounts):
        sandbox = WatchedSandbox(seed=300 + index)
        account.sandbox = sandbox
        sandboxes[account.name] = sandbox

    def check() -> None:
        figures = {n: int(s.listing(SKU_RED_M)["stock"]) for n, s in sandboxes.items()}
        if sum(figures.values()) > stock:
            broken.append(f"{figures} listed of {stock}")

    for sandbox in sandboxes.values():
        sandbox.after_write.append(check)
    harness = await make_harness(
        *accounts, allocation="quota", clock=clock, rotate_after=rotate_after
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, stock)
    await harness.engine.push()
    await harness.engine.push()
    return harness, broken


async def listed(harness: Harness) -> dict[str, int]:
    return {name: await harness.listed(name, SKU_RED_M) for name in harness.sandboxes}


async def test_a_unit_nobody_buys_goes_round_the_accounts_one_turn_each(
    make_harness: MakeHarness,
) -> None:
    clock = Clock()
    names = ("shop-a", "shop-b", "shop-c")
    harness, broken = await turns_harness(
        make_harness, clock, *(Account(n) for n in names), stock=1
    )
    assert await listed(harness) == {"shop-a": 1, "shop-b": 0, "shop-c": 0}
    rotate_at = harness.store.get_listing("shop-a", SKU_RED_M).rotate_at  # type: ignore[union-attr]
    assert rotate_at is not None and abs(rotate_at - (clock.now + TURN)) < timedelta(seconds=5)

    clock.advance(TURN.total_seconds() / 2)
    stats = await harness.engine.push()
    assert stats.pushed == 0 and await listed(harness) == {"shop-a": 1, "shop-b": 0, "shop-c": 0}

    holders = []
    for _ in range(6):
        clock.advance(TURN.total_seconds() + 1)
        await harness.engine.push()  # the due turn is queued by the pusher itself
        figures = await listed(harness)
        assert sum(figures.values()) == 1, figures
        holders.append(next(name for name, units in figures.items() if units))
    assert holders == ["shop-b", "shop-c", "shop-a", "shop-b", "shop-c", "shop-a"]
    assert not broken, broken
    report = await harness.engine.status()
    assert all(a.rebalances >= 2 for a in report.accounts), report.accounts


async def test_the_account_whose_buyers_were_refused_gets_a_unit_and_then_the_rest(
    make_harness: MakeHarness,
) -> None:
    """The split-demand case: 3 units over 4 accounts that sold nothing go 1/1/1/0, and the
    buyers are on shop-d. One turn gives shop-d a unit; it sells it, and its velocity draws
    the other two from the idle accounts."""
    clock = Clock()
    names = ("shop-a", "shop-b", "shop-c", "shop-d")
    harness, broken = await turns_harness(
        make_harness, clock, *(Account(n) for n in names), stock=3
    )
    assert await listed(harness) == {"shop-a": 1, "shop-b": 1, "shop-c": 1, "shop-d": 0}
    clock.advance(TURN.total_seconds() + 1)
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 1, "shop-b": 1, "shop-c": 0, "shop-d": 1}
    await harness.controls["shop-d"].place_order([(SKU_RED_M, 1)])
    await harness.engine.poll_orders("shop-d")
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 0, "shop-b": 0, "shop-c": 0, "shop-d": 2}
    assert not broken, broken


async def test_without_turns_the_unit_stays_where_nobody_buys_it(
    make_harness: MakeHarness,
) -> None:
    """Control: ``rotate_after = 0`` turns them off, and the unit never moves."""
    clock = Clock()
    harness, _ = await turns_harness(
        make_harness,
        clock,
        Account("shop-a"),
        Account("shop-b"),
        stock=1,
        rotate_after=timedelta(0),
    )
    for _ in range(3):
        clock.advance(TURN.total_seconds() + 1)
        await harness.engine.push()
    assert await listed(harness) == {"shop-a": 1, "shop-b": 0}
    assert harness.store.get_listing("shop-a", SKU_RED_M).rotate_at is None  # type: ignore[union-attr]


async def test_an_absolute_account_gives_its_unit_up_once_its_orders_are_known_past_the_write(
    make_harness: MakeHarness,
) -> None:
    """Take before give for absolute writes: shop-a's 0 may have undone a sale made between
    its read and its write, so shop-b is given the unit only once shop-a's orders are polled
    past that write."""
    clock = Clock()
    harness, broken = await turns_harness(
        make_harness,
        clock,
        Account("shop-a", channel_class=AbsoluteChannel),
        Account("shop-b"),
        stock=1,
    )
    assert await listed(harness) == {"shop-a": 1, "shop-b": 0}
    clock.advance(TURN.total_seconds() + 1)
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 0, "shop-b": 0}  # held: orders not known yet
    clock.advance(5)
    await harness.engine.poll_orders("shop-a")
    await harness.engine.push()
    assert await listed(harness) == {"shop-a": 0, "shop-b": 1}
    assert not broken, broken


async def test_a_due_turn_makes_the_account_due_for_a_dispatcher(
    make_harness: MakeHarness,
) -> None:
    """The Celery dispatcher sends pushers where ``accounts_with_due_pushes`` says: a listing
    whose turn time has passed counts, though nothing is in the outbox; the pusher's
    ``queue_due_rotations`` then queues it once."""
    clock = Clock()
    harness, _ = await turns_harness(
        make_harness, clock, Account("shop-a"), Account("shop-b"), stock=1
    )
    store = harness.store
    assert store.outbox_depth() == 0
    assert store.accounts_with_due_pushes() == []
    clock.advance(TURN.total_seconds() + 1)
    # shop-a's turn ends (its own decision to list the unit left the time on its listing;
    # shop-b's has it too when shop-b was decided after shop-a's figure was confirmed).
    due = store.accounts_with_due_pushes()
    assert "shop-a" in due and set(due) <= {"shop-a", "shop-b"}, due
    assert store.queue_due_rotations("shop-a") == [SKU_RED_M]
    assert store.queue_due_rotations("shop-a") == []  # queued once
    assert "shop-a" in {p.account for p in store.pending_pushes()}
