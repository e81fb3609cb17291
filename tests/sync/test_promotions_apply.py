"""Promotions end to end: planned, applied through every installed channel's own mechanism,
read back from each sandbox, and ended on time (an injected clock) with base prices back.

Prices are VND (no minor unit): 15 % off 649.999 ₫ is 552.499,15 ₫, rounded half up to the
whole đồng, 552.499 ₫, the same on every channel. Times are the shop's (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from _engine_testkit import (
    Account,
    Clock,
    Harness,
    MakeHarness,
    installed_platforms,
    running,
    seed,
)

from omnisdk.errors import PlatformUnavailable, UsageError
from omnisdk.models import Money, Promotion, PromotionKind, PromotionWrite
from omnisdk.store import PromotionListingState
from omnisdk.sync.promotions import PromotionAction

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SKU = "NÓN-LÁ-HUẾ"
BASE = Money.of(649999, "VND")
PROMOTED = Money.of(552499, "VND")

def _tet(now: datetime) -> Promotion:
    # Two hours ahead, in the shop's zone: far enough for Shopee's hour of notice.
    start = (now + timedelta(hours=2)).astimezone(HCM).replace(second=0, microsecond=0)
    return Promotion(
        id="tet-2027",
        name="Khuyến mãi Tết Đinh Mùi",
        kind=PromotionKind.PERCENTAGE,
        value=15,
        skus=(SKU,),
        starts_at=start,
        ends_at=start + timedelta(days=1),
    )


async def _engine(
    make_harness: MakeHarness, *, with_example: bool = True, only: tuple[str, ...] = ()
) -> Harness:
    accounts = installed_platforms(only)
    if not accounts:
        pytest.skip("no platform plugin installed")
    if with_example:
        accounts.append(Account("shop-a"))  # the Example channel: no promotion mechanism
    clock = Clock()
    harness = await make_harness(
        *accounts, clock=clock, promotions=(_tet(clock.now),), timezone="Asia/Ho_Chi_Minh"
    )
    for channel in harness.engine.channels.values():
        if hasattr(channel, "clock"):
            channel.clock = clock  # signed timestamps and sale dates on the test's time
    await seed(harness, SKU, stock=5, price=str(BASE.amount))
    for name in harness.engine.channels:
        await harness.engine.import_catalog(name)
    return harness


def _advance(harness: Harness, seconds: float) -> None:
    """Move the engine's clock and every sandbox's by ``seconds``."""
    assert harness.clock is not None
    harness.clock.advance(seconds)
    for sandbox in harness.sandboxes.values():
        sandbox.clock.advance(seconds)


async def _shown(harness: Harness) -> dict[str, Money]:
    """What a buyer pays for the SKU now on each account with a promotion mechanism,
    through each plugin's own read path."""
    shown = {}
    for name, channel in harness.engine.channels.items():
        if channel.limits.promotion_mechanism is not None:
            shown[name] = (await channel.read_selling_prices([SKU]))[SKU]
    return shown


async def test_one_promotion_on_every_channel_applied_read_back_and_ended_on_time(
    make_harness: MakeHarness,
) -> None:
    harness = await _engine(make_harness)
    engine = harness.engine
    dated = {
        name
        for name, channel in engine.channels.items()
        if channel.limits.promotion_mechanism is not None
        and channel.limits.promotion_mechanism.platform_dated
    }

    plan = await engine.plan_promotions()
    steps = {step.account: step for step in plan.steps}
    assert steps["shop-a"].action is PromotionAction.UNSUPPORTED
    assert "no way to express a promotion" in (steps["shop-a"].reason or "")
    for name in _shown_names(harness):
        assert steps[name].action is PromotionAction.SET, steps[name]
        assert (steps[name].base, steps[name].promoted) == (BASE, PROMOTED)
        assert steps[name].due is (name in dated)  # the platform switches it on itself

    # Before the start: the dated platforms hold it already, nobody shows it yet.
    first = await engine.run_promotions()
    assert {o.account for o in first.outcomes} == dated
    assert all(o.ok for o in first.outcomes), first.outcomes
    assert await _shown(harness) == dict.fromkeys(_shown_names(harness), BASE)

    # From the start every channel shows the same promoted price.
    _advance(harness, 2 * 3600 + 60)
    started = await engine.run_promotions()
    assert {o.account for o in started.outcomes} == set(_shown_names(harness)) - dated
    assert all(o.ok for o in started.outcomes), started.outcomes
    assert await _shown(harness) == dict.fromkeys(_shown_names(harness), PROMOTED)
    assert (await engine.run_promotions()).outcomes == []  # nothing twice
    # A catalog sync meanwhile leaves the promoted prices alone.
    catalog = await engine.plan()
    assert not [c for a in catalog.accounts for c in a.changes if c.kind == "price"]

    # At its end (the shop's time), every channel is back at the base price.
    _advance(harness, 24 * 3600)
    ended = await engine.run_promotions()
    assert {o.account for o in ended.outcomes} == set(_shown_names(harness))
    assert all(o.ok and o.operation == "ended" for o in ended.outcomes), ended.outcomes
    assert ended.finished == ["tet-2027"]
    assert await _shown(harness) == dict.fromkeys(_shown_names(harness), BASE)
    again = await engine.run_promotions()
    assert (again.outcomes, again.finished) == ([], [])
    rows = await engine.promotion_listings("tet-2027")
    assert {row.state for row in rows} == {PromotionListingState.ENDED}
    [stored] = await engine.promotions()
    assert stored.ended_at == stored.promotion.ends_at


def _shown_names(harness: Harness) -> list[str]:
    return [
        name
        for name, channel in harness.engine.channels.items()
        if channel.limits.promotion_mechanism is not None
    ]


async def test_an_end_that_crashes_half_way_finishes_once(
    make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await _engine(make_harness, with_example=False)
    engine = harness.engine
    _advance(harness, 2 * 3600 + 60)
    await engine.run_promotions()
    names = _shown_names(harness)
    broken = names[0]
    channel = engine.channels[broken]
    real_end = channel.end_promotion
    calls: dict[str, int] = dict.fromkeys(names, 0)
    for name in names:
        other = engine.channels[name]
        original = other.end_promotion

        def counting(promotion: PromotionWrite, _name: str = name, _end: Any = original) -> Any:
            calls[_name] += 1
            return _end(promotion)

        monkeypatch.setattr(other, "end_promotion", counting)

    async def dies(promotion: PromotionWrite) -> Any:
        calls[broken] += 1
        raise PlatformUnavailable("mất kết nối giữa chừng", status=503)

    monkeypatch.setattr(channel, "end_promotion", dies)

    # Ended early through the API while one channel is down.
    first = await engine.end_promotion("tet-2027")
    assert [o.account for o in first.outcomes if not o.ok] == [broken]
    assert first.finished == []
    shown = await _shown(harness)
    assert shown[broken] == PROMOTED  # still on: retried by the next run
    assert {shown[n] for n in names if n != broken} == {BASE}

    monkeypatch.setattr(channel, "end_promotion", real_end)
    second = await engine.run_promotions()
    assert [o.account for o in second.outcomes] == [broken]  # only what was not done
    assert calls == {name: 1 for name in names}
    assert await _shown(harness) == dict.fromkeys(names, BASE)
    assert (await engine.run_promotions()).outcomes == []
    with pytest.raises(UsageError, match=r"comes from \[\[promotions\]\]"):
        await engine.add_promotion(_tet(harness.clock.now if harness.clock else datetime.now(HCM)))


async def test_promotions_added_through_the_api_are_kept_in_the_store(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"), clock=Clock(), timezone="Asia/Ho_Chi_Minh")
    now = harness.clock.now if harness.clock else datetime.now(HCM)
    sale = _tet(now).model_copy(update={"id": "sale-12-12", "name": "Siêu sale 12.12"})
    await harness.engine.add_promotion(sale)
    changed = Promotion.model_validate({**sale.model_dump(), "value": "20"})
    await harness.engine.add_promotion(changed)
    [stored] = await harness.engine.promotions()
    assert (stored.promotion.value, stored.origin, stored.ended_at) == (20, "api", None)
    assert stored.promotion.name == "Siêu sale 12.12"
    run = await harness.engine.end_promotion("sale-12-12")
    assert run.finished == [] and run.outcomes == []
    [ended] = await harness.engine.promotions()
    assert ended.ended_at == now
    with pytest.raises(UsageError, match="no promotion 'khong-co'"):
        await harness.engine.end_promotion("khong-co")


async def _until(check: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the promotions job did not run"
        await asyncio.sleep(0.05)


async def test_the_runtime_job_starts_and_ends_a_promotion_on_time(
    make_harness: MakeHarness,
) -> None:
    """The embedded runtime's job writes a compare-at promotion (the engine must switch it
    on and off itself) at its start and restores the base price at its end."""
    harness = await _engine(make_harness, with_example=False, only=("shopify-hcm",))
    assert harness.clock is not None
    channel = harness.engine.channels["shopify-hcm"]

    async def shows(price: Money) -> bool:
        return (await channel.read_selling_prices([SKU]))[SKU] == price

    async with running(harness) as runtime:
        await asyncio.sleep(0.2)  # the job's first run: not started yet
        assert await shows(BASE)
        upcoming = await harness.engine.next_promotion_change()
        assert upcoming is not None
        assert upcoming.astimezone(HCM).utcoffset() == timedelta(hours=7)
        _advance(harness, (upcoming - harness.clock.now).total_seconds())
        runtime.run_promotions_now()
        await _until(lambda: shows(PROMOTED))
        _advance(harness, 24 * 3600)
        runtime.run_promotions_now()
        await _until(lambda: shows(BASE))
        [stored] = await harness.engine.promotions()
        await _until(
            lambda: _ended(harness),
        )
        assert stored.promotion.id == "tet-2027"


async def _ended(harness: Harness) -> bool:
    [stored] = await harness.engine.promotions()
    return stored.ended_at is not None


async def test_a_promotion_taken_out_of_the_config_ends(make_harness: MakeHarness) -> None:
    clock = Clock()
    first = await make_harness(Account("shop-a"), clock=clock, promotions=(_tet(clock.now),))
    [stored] = await first.engine.promotions()
    assert (stored.origin, stored.ended_at) == ("config", None)
    clock.advance(60)
    second = await make_harness(Account("shop-a"), clock=clock)  # same store, entry removed
    [gone] = await second.engine.promotions()
    assert gone.ended_at == clock.now
    assert (await second.engine.plan_promotions()).steps == []


async def test_a_promotion_that_follows_another_replaces_it_at_its_end(
    make_harness: MakeHarness,
) -> None:
    """One sale price per item (Facebook, Lazada) or one price (Shopify): the next
    promotion waits for the one showing, and at the hand-over the earlier one is ended first."""
    accounts = installed_platforms(only=("shopify-hcm", "facebook", "lazada-vn"))
    if not accounts:
        pytest.skip("no plugin with a one-at-a-time mechanism installed")
    clock = Clock()
    hand_over = (clock.now + timedelta(hours=1)).replace(second=0, microsecond=0)
    first = _tet(clock.now).model_copy(
        update={"starts_at": clock.now - timedelta(hours=1), "ends_at": hand_over}
    )
    second = Promotion(
        id="sau-tet", name="Xả hàng sau Tết", kind=PromotionKind.FIXED,
        amount=Money.of(100000, "VND"), skus=(SKU,),
        starts_at=hand_over, ends_at=hand_over + timedelta(days=3),
    )
    harness = await make_harness(*accounts, clock=clock, promotions=(first, second))
    for channel in harness.engine.channels.values():
        if hasattr(channel, "clock"):
            channel.clock = clock
    await seed(harness, SKU, stock=5, price=str(BASE.amount))
    for name in harness.engine.channels:
        await harness.engine.import_catalog(name)
    names = list(harness.engine.channels)

    run = await harness.engine.run_promotions()
    assert {(o.promotion, o.ok) for o in run.outcomes} == {("tet-2027", True)}
    assert await _shown(harness) == dict.fromkeys(names, PROMOTED)
    plan = await harness.engine.plan_promotions()
    waiting = [s for s in plan.steps if s.promotion == "sau-tet"]
    assert waiting and not any(s.due for s in waiting)
    dated = [s for s in waiting if s.mechanism is not None and s.mechanism.platform_dated]
    assert all("once promotion tet-2027 has ended" in (s.reason or "") for s in dated)

    _advance(harness, (hand_over - clock.now).total_seconds())
    handed = await harness.engine.run_promotions()
    assert [o.operation for o in handed.outcomes] == ["ended"] * len(names) + ["applied"] * len(
        names
    )
    assert await _shown(harness) == dict.fromkeys(names, Money.of(549999, "VND"))
