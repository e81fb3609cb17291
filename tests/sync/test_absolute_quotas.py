"""Quotas beside a channel that only takes absolute stock writes: every place a sale can fall.

An absolute write ("you now have N") made from a read undoes the sales made between the read
and the write. Around one such write a buyer can order before the read (the read shows it,
its order is not ingested yet), between the read and the write (undone: the channel still
lists the unit), or after the write; the engine can ingest the order before or after its next
read, and the buyer can cancel an undone order before or after the engine saw it. In each
case the physical promise is checked against what buyers really took (kept by the test, not
the engine's view)::

    sum of what the channels list  <=  units counted in - units of live orders  (+ undone)

where the allowance ``undone`` is the units sold inside the write: the write put them back on
sale on that same channel (docs/concepts.md, "absolute"), never on another one, until a push
made once their order is ingested; from then on the check is strict. Afterwards the engine
must catch up without waiting for ``[engine] unseen_hold``: once the orders are polled, every
free unit is listed exactly once.

SQLite only: the SQL these paths run is exercised on PostgreSQL by ``test_stock_quotas.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from _channels import HookedAbsoluteChannel, HookedChannel
from _engine_testkit import SKU_RED_M, Account, Harness, MakeHarness, seed

from omnisdk import hookimpl
from omnisdk.allocation import AllocationRequest
from omnisdk.testing.sandbox import BuyerLine, BuyerOrder

ABSOLUTE = "shop-s"
OTHER = "shop-c"
START = 12
TRACE = False


@pytest.fixture
def backend() -> str:
    """These tests are about the engine, not the database (see the module docstring)."""
    return "sqlite"


@pytest.fixture(autouse=True)
def _no_leftover_hooks() -> Any:
    HookedChannel.before_write.clear()
    yield
    HookedChannel.before_write.clear()


@dataclass
class Buyers:
    """What buyers really did, kept by the test."""

    harness: Harness
    counted: int
    live: dict[str, int] = field(default_factory=dict)
    undone: int = 0
    """Units sold inside an absolute write (put back on sale on their channel by it)."""

    async def buy(self, account: str, units: int) -> str:
        """A buyer orders ``units`` on ``account`` now."""
        order_id = await self.harness.controls[account].place_order([(SKU_RED_M, units)])
        self.live[order_id] = units
        return order_id

    def buy_inside_the_next_write(self, units: int) -> None:
        """A buyer orders ``units`` on the absolute channel between its next read and write."""

        async def buy() -> None:
            await self.buy(ABSOLUTE, units)
            self.undone += units

        HookedChannel.before_write.append(buy)

    async def cancel(self, account: str, order_id: str) -> None:
        """The buyer cancels ``order_id`` on ``account`` (its units go back on sale there)."""
        await self.harness.controls[account].cancel_order(order_id)
        del self.live[order_id]

    async def adjust(self, delta: int) -> None:
        """The merchant counts ``delta`` more units in (any change queues every listing)."""
        self.counted += delta
        await self.harness.engine.adjust_stock(SKU_RED_M, delta)

    def free(self) -> int:
        """Units no live order took."""
        return self.counted - sum(self.live.values())

    async def listed(self) -> dict[str, int]:
        """What every channel lists now."""
        return {name: await self.harness.listed(name, SKU_RED_M) for name in (ABSOLUTE, OTHER)}

    async def check(self, where: str, *, undone: bool = True) -> None:
        """The physical promise (with the undone allowance unless ``undone`` is False)."""
        figures = await self.listed()
        allowed = self.free() + (self.undone if undone else 0)
        if TRACE:
            print(where, figures, self.free(), self.undone, self.harness.store.list_listings())
        assert sum(figures.values()) <= allowed, (
            where,
            figures,
            self.free(),
            self.harness.store.list_listings(),
        )

    async def catch_up(self, rounds: int = 4) -> None:
        """Poll every account and push, a few times (no hold is let run out): every free
        unit must end listed exactly once, and the promise hold on the way."""
        engine = self.harness.engine
        for round_ in range(rounds):
            for name in (ABSOLUTE, OTHER):
                await engine.poll_orders(name)
            await self.check(f"catch-up round {round_}, polled")
            await engine.push()
            await self.check(f"catch-up round {round_}, pushed", undone=False)
        figures = await self.listed()
        assert sum(figures.values()) == self.free(), (figures, self.harness.store.list_listings())


async def buyers(make_harness: MakeHarness) -> Buyers:
    harness = await make_harness(
        Account(ABSOLUTE, channel_class=HookedAbsoluteChannel), Account(OTHER), allocation="quota"
    )
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, START)
    await harness.engine.push()
    truth = Buyers(harness=harness, counted=START)
    assert await truth.listed() == {ABSOLUTE: 6, OTHER: 6}
    return truth


async def test_a_sale_before_the_read_is_held_until_its_order_comes(
    make_harness: MakeHarness,
) -> None:
    truth = await buyers(make_harness)
    await truth.buy(ABSOLUTE, 2)  # the next read shows it; its order is not ingested
    await truth.adjust(-1)
    await truth.harness.engine.push()
    await truth.check("after the push that read the sale", undone=False)
    await truth.catch_up()


@pytest.mark.parametrize("seen", ["before", "after"])
async def test_a_sale_inside_the_write_is_held_whenever_its_order_is_seen(
    make_harness: MakeHarness, seen: str
) -> None:
    """The write undid the sale: the channel lists the unit again. Ingested before the next
    read, the order counts as sold in the prediction, and the read shows the figure written;
    ingested after it (the read found nothing to explain), it is counted as undone then."""
    truth = await buyers(make_harness)
    engine = truth.harness.engine
    truth.buy_inside_the_next_write(2)
    await truth.adjust(-1)
    await engine.push()
    assert truth.undone == 2
    await truth.check("after the write that undid the sale")
    if seen == "before":
        await engine.poll_orders(ABSOLUTE)
    await truth.adjust(1)
    await engine.push()
    await truth.check("after the next push", undone=seen == "after")
    await truth.catch_up()


async def test_a_sale_right_after_the_write_is_not_held_for_ever(
    make_harness: MakeHarness,
) -> None:
    """An order placed just after the write may, for the clocks' margin, have been placed
    inside it: the engine holds its units as possibly undone, and the next read, showing
    the sale, cannot tell it from an unseen one. Once the orders are polled past that push,
    the next read settles it (not ``[engine] unseen_hold`` later)."""
    truth = await buyers(make_harness)
    engine = truth.harness.engine
    await truth.adjust(-1)
    await engine.push()
    await truth.buy(ABSOLUTE, 1)
    await engine.poll_orders(ABSOLUTE)
    await truth.adjust(-1)
    await engine.push()
    await truth.check("after the read of the sale", undone=False)
    await truth.catch_up()


@pytest.mark.parametrize("seen", ["before", "after"])
async def test_an_undone_sale_does_not_hide_an_unseen_one(
    make_harness: MakeHarness, seen: str
) -> None:
    """A sale inside the write (undone), then one after it the engine has not seen: the next
    read shows the written figure less the second sale, which is the prediction when the
    first order was ingested (``before``). That equality explains neither sale away."""
    truth = await buyers(make_harness)
    engine = truth.harness.engine
    truth.buy_inside_the_next_write(2)
    await truth.adjust(-1)
    await engine.push()
    if seen == "before":
        await engine.poll_orders(ABSOLUTE)
    await truth.buy(ABSOLUTE, 2)  # not ingested yet
    await truth.adjust(1)
    await engine.push()
    await truth.check("after the read that showed the unseen sale", undone=seen == "after")
    await truth.catch_up()


@pytest.mark.parametrize("seen", ["before", "after"])
async def test_a_cancelled_undone_order_gives_its_units_back_once(
    make_harness: MakeHarness, seen: str
) -> None:
    """The buyer of an undone sale cancels: the channel puts the units back on top of the
    figure written. Seen before (its units count as undone, the cancellation gives them back
    to the prediction) or only as cancelled, the channel's figure is found and set right."""
    truth = await buyers(make_harness)
    engine = truth.harness.engine
    truth.buy_inside_the_next_write(2)
    await truth.adjust(-1)
    await engine.push()
    [order_id] = truth.live
    if seen == "before":
        await engine.poll_orders(ABSOLUTE)
    await truth.cancel(ABSOLUTE, order_id)
    await truth.check("after the cancellation")
    await truth.catch_up()


class SellDuringTheDecision:
    """An allocation hook that lets a buyer order on the absolute channel once, while the
    engine decides a figure (after the pusher's read, before its write)."""

    def __init__(self, truth: Buyers, units: int) -> None:
        self.truth = truth
        self.units = units
        self.armed = True

    @hookimpl
    def omnisdk_allocate_stock(self, request: AllocationRequest) -> int | None:
        """Sell, once; leave the answer to the default rule."""
        if self.armed:
            self.armed = False
            sandbox: Any = self.truth.harness.sandboxes[ABSOLUTE]
            order = BuyerOrder(
                lines=[BuyerLine(sku=SKU_RED_M, quantity=self.units)],
                customer={"name": "Trần Văn Bình", "phone": "+84 912 345 679"},
            )
            self.truth.live[str(sandbox.place_order(order))] = self.units
        return None


async def test_a_sale_during_the_decision_is_read_again_not_undone(
    make_harness: MakeHarness,
) -> None:
    """The figures of absolute writes are read again right before the write: a sale made
    while the engine decided (most of the read-to-write span) is taken off the figure written
    and held as sold unseen, so the write does not put it back on sale (no undone units)."""
    truth = await buyers(make_harness)
    engine = truth.harness.engine
    hook = SellDuringTheDecision(truth, 2)
    engine.plugins.register(hook, name="sell-during-the-decision")
    HookedChannel.written.clear()
    await truth.adjust(-1)
    await engine.push(ABSOLUTE)
    assert not hook.armed
    [written] = HookedChannel.written
    assert written[SKU_RED_M] == await truth.harness.listed(ABSOLUTE, SKU_RED_M)
    await truth.check("after the write", undone=False)
    await engine.push()
    await truth.check("after the other account's push", undone=False)
    await truth.catch_up()
