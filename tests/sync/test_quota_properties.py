"""Property-based tests of quota allocation through the engine, one push mode at a time.

Hypothesis draws interleavings of buyer sales on each channel (some placed *during* a stock
write, between the pusher's read and its write), restocks, cancellations on the channel,
order polls, pushes of single accounts and quota turns (the clock moved past
``[engine] rotate_after``, so scarce units the idle accounts hold move on). After every
step, and after every stock write a sandbox applies, the physical promise is checked against
the truth the test keeps itself (not the engine's view)::

    sum of what the channels list  <=  units counted in  -  units of live accepted orders

so no interleaving can sell a unit twice. The one exception is the absolute mode's: a sale
made between the pusher's read and its write is undone on the channel by the write, so the
channel may sell that unit again; the excess never exceeds the units sold inside write windows
(the engine holds them against the other channels' quotas). At the end the engine must catch
up: every accepted order is in the book once, and every free unit is listed exactly once.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from _channels import AbsoluteChannel, DeltaChannel, DeltaSandbox
from _engine_testkit import SKU_RED_M, TITLE, Account, engine_config, plugins_with
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox
from starlette.requests import Request
from starlette.responses import Response

from omnisdk import Channel
from omnisdk.store import Store, open_store
from omnisdk.sync import Engine
from omnisdk.sync.sellable import CLOCK_MARGIN
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.sandbox import BuyerLine, BuyerOrder, SeedProduct

ACCOUNTS = ("shop-a", "shop-b", "shop-c")
TRACE = False
TURN = timedelta(seconds=120)
"""``[engine] rotate_after`` of the scenarios: a "turn" step moves the clock past it. Longer
than the catch-up rounds at the end, so no turn is left half done when they stop."""


class _Watched:
    """Mixin: place an armed sale right before the next stock write, check after each one."""

    armed: int = 0
    window_units: int = 0
    after_write: Callable[[], None] = staticmethod(lambda: None)
    sold: list[tuple[str, int]]

    def sell_now(self, quantity: int) -> str | None:
        """A buyer takes ``quantity`` units if the listing has them (None: refused)."""
        sandbox: Any = self
        with sandbox.lock:
            if sandbox.variants[SKU_RED_M].stock < quantity:
                return None
            order_id = str(
                sandbox.place_order(
                    BuyerOrder(
                        lines=[BuyerLine(sku=SKU_RED_M, quantity=quantity)],
                        customer={"name": "Lê Thị Thu Trang", "phone": "0912 345 678"},
                    )
                )
            )
        self.sold.append((order_id, quantity))
        return order_id

    def before_write(self) -> None:
        if self.armed:
            quantity, self.armed = self.armed, 0
            if self.sell_now(quantity) is not None:
                self.window_units += quantity


class WatchedSandbox(_Watched, ExampleSandbox):
    """The Example platform (compare-and-swap or absolute writes), watched."""

    def set_stock(self, item: dict[str, Any]) -> dict[str, Any]:
        self.before_write()
        answer = super().set_stock(item)
        self.after_write()
        return answer


class WatchedDeltaSandbox(_Watched, DeltaSandbox):
    """The delta platform, watched."""

    async def adjust_stock(self, request: Request) -> Response:
        self.before_write()
        answer = await super().adjust_stock(request)
        self.after_write()
        return answer


MODES: dict[str, tuple[type[Channel], type[_Watched]]] = {
    "compare-and-swap": (ExampleChannel, WatchedSandbox),
    "delta": (DeltaChannel, WatchedDeltaSandbox),
    "absolute": (AbsoluteChannel, WatchedSandbox),
}

Step = tuple[str, int, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(
            ["sale", "sale", "sale_in_write", "restock", "cancel", "poll", "push", "turn"]
        ),
        st.integers(0, len(ACCOUNTS) - 1),
        st.integers(1, 3),
    ),
    min_size=4,
    max_size=30,
)


class RunningClock:
    """The real time plus an offset the test can move on (to let holds run out)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Truth:
    """What really happened, kept by the test: units counted in, orders the channels took."""

    counted: int
    orders: dict[str, tuple[str, int]] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    def live_units(self) -> int:
        return sum(q for order_id, (_, q) in self.orders.items() if order_id not in self.cancelled)


async def run_scenario(
    mode: str, start: int, script: list[Step], seed: int, *, liveness: bool = True
) -> None:
    channel_class, sandbox_class = MODES[mode]
    rng = random.Random(seed)
    sandboxes = {name: sandbox_class(seed=seed + i) for i, name in enumerate(ACCOUNTS)}  # type: ignore[call-arg]
    truth = Truth(counted=start)
    violations: list[str] = []
    history: list[str] = []

    def listed() -> dict[str, int]:
        return {n: int(s.variants[SKU_RED_M].stock) for n, s in sandboxes.items()}  # type: ignore[attr-defined]

    def collect() -> None:
        for name, sandbox in sandboxes.items():
            for order_id, quantity in sandbox.sold:
                truth.orders.setdefault(order_id + "@" + name, (name, quantity))
            sandbox.sold.clear()

    def check(where: str) -> None:
        collect()
        figures = listed()
        free = truth.counted - truth.live_units()
        undone = sum(s.window_units for s in sandboxes.values()) if mode == "absolute" else 0
        history.append(f"{where}: {figures} free={free}")
        if sum(figures.values()) > free + undone:
            violations.append("\n".join(history[-8:]))
            violations.append(
                f"{where}: channels list {figures} but only {free} units are free "
                f"({undone} sold inside absolute writes)"
            )

    for sandbox in sandboxes.values():
        sandbox.sold = []
        sandbox.after_write = lambda: check("after a stock write")  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'omnisdk.db'}"
        accounts = [
            Account(name, channel_class=channel_class, sandbox=sandbox)  # type: ignore[arg-type]
            for name, sandbox in sandboxes.items()
        ]
        clock = RunningClock()
        open_store(url).close()  # migrated
        store = Store(url, clock=clock)
        engine = Engine(
            engine_config(url, accounts, allocation="quota", rotate_after=TURN),
            plugins=plugins_with(channel_class),
            store=store,
            clock=clock,
            transports={a.name: httpx.ASGITransport(app=a.sandbox.app) for a in accounts},  # type: ignore[union-attr]
        )
        await engine.open()
        try:
            for channel in engine.channels.values():
                unthrottled(channel)
            for sandbox in sandboxes.values():
                sandbox.seed_products(  # type: ignore[attr-defined]
                    [SeedProduct(sku=SKU_RED_M, title=TITLE, price=129000, stock=0)]
                )
            for name in ACCOUNTS:
                await engine.add_listing(name, SKU_RED_M)
            await engine.set_stock(SKU_RED_M, start)
            await engine.push()
            check("after the first push")
            for action, index, quantity in script:
                name = ACCOUNTS[index]
                sandbox = sandboxes[name]
                if action == "sale":
                    sandbox.sell_now(quantity)
                elif action == "sale_in_write":
                    sandbox.armed = quantity
                elif action == "restock":
                    truth.counted += quantity
                    await engine.adjust_stock(SKU_RED_M, quantity)
                elif action == "cancel":
                    collect()
                    mine = [
                        oid
                        for oid, (owner, _) in truth.orders.items()
                        if owner == name and oid not in truth.cancelled
                    ]
                    if mine:
                        chosen = rng.choice(sorted(mine))
                        sandbox.cancel_order(chosen.split("@")[0])  # type: ignore[attr-defined]
                        truth.cancelled.add(chosen)
                elif action == "poll":
                    await engine.poll_orders(name)
                elif action == "turn":
                    clock.offset += TURN + timedelta(seconds=1)
                    await engine.push()
                else:
                    await engine.push(name)
                check(f"after {action} on {name}")
            for sandbox in sandboxes.values():
                sandbox.armed = 0
            # Catch up: every order in, every listing settled. Units a read showed sold but
            # no order explains (the buyer cancelled before the engine saw the order) are
            # held for [engine] unseen_hold: let it run out. The engine takes an unseen sale
            # whose order has not come within that hold not to exist, so the orders the
            # channels hold are polled first (the runtime polls far more often than that).
            for name in ACCOUNTS:
                await engine.poll_orders(name)
            check("after the catch-up polls")
            # Those polls may bring cancellations of orders counted before: their units are
            # back on the listing unless a write since overwrote them, which the engine
            # cannot tell, so a read lower than that shows is held as sold unseen too. One
            # push round finds those before the hold runs out.
            await engine.push()
            check("after the catch-up push")
            clock.offset = engine.config.engine.unseen_hold + timedelta(seconds=1)
            # An absolute write holds what it may have undone until the account's orders are
            # polled past it, so the rounds end with polls.
            for round_ in range(8):
                if round_ == 4:
                    await engine.reconcile()  # the runtime's [engine] reconcile_interval
                await engine.push()
                clock.offset += CLOCK_MARGIN * 2  # time passes between the runtime's polls
                for name in ACCOUNTS:
                    await engine.poll_orders(name)
                if TRACE:
                    print(
                        round_,
                        listed(),
                        [
                            (
                                x.account,
                                x.last_pushed,
                                x.window_hold,
                                x.overwritten,
                                x.pending_unseen,
                                x.seen_since_push,
                            )
                            for x in store.list_listings()
                        ],
                        [p.account for p in store.pending_pushes()],
                    )
                if round_ >= 4 and not store.pending_pushes():
                    break
            check("at the end")
            assert not violations, "\n".join(violations)
            collect()
            book = {(o.account, o.external_id) for o in store.iter_orders()}
            taken = {(owner, oid.split("@")[0]) for oid, (owner, _) in truth.orders.items()}
            assert book == taken
            level = store.stock_level(SKU_RED_M, "main")
            free = truth.counted - truth.live_units()
            assert level.on_hand - level.reserved == free
            figures = listed()
            assert not liveness or sum(figures.values()) == free, (
                f"{figures} listed, {free} free: units stranded; "
                f"{store.list_listings()} {store.pending_pushes()}"
            )
        finally:
            await engine.aclose()
            store.close()
            for sandbox in sandboxes.values():
                sandbox.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", list(MODES))
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@example(
    start=3,
    script=[("sale", 0, 2), ("sale_in_write", 0, 1), ("restock", 0, 1), ("poll", 0, 2)],
    seed=0,
)
@example(  # one unit goes round; shop-b sells it in its turn, and a turn ends in a write
    start=1,
    script=[
        ("turn", 0, 1),
        ("sale_in_write", 1, 1),
        ("turn", 0, 1),
        ("sale", 1, 1),
        ("poll", 1, 1),
    ],
    seed=1,
)
@given(start=st.integers(0, 8), script=steps, seed=st.integers(0, 10_000))
def test_no_interleaving_sells_a_unit_twice(
    mode: str, start: int, script: list[Step], seed: int
) -> None:
    # Absolute mode's liveness is its own test below; its safety is checked here, strictly.
    asyncio.run(run_scenario(mode, start, script, seed, liveness=mode != "absolute"))


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(start=st.integers(0, 8), script=steps, seed=st.integers(0, 10_000))
def test_absolute_mode_lists_every_free_unit_after_the_catch_up(
    start: int, script: list[Step], seed: int
) -> None:
    """Absolute mode's liveness, strict. About 1 script in 100 used to end with units listed
    by no account: a read that dropped units held as sold unseen queued nobody, so an account
    decided while the others still held theirs was never decided again (see
    ``test_a_read_that_drops_unseen_units_queues_the_other_accounts``)."""
    asyncio.run(run_scenario("absolute", start, script, seed))
