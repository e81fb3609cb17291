"""The flash sale kit (omnisdk.testing.flash_sale) counts what happened, with no engine at all.

Sandboxes seeded by hand stand for channels an engine would drive: two channels listing the
whole stock each must show up as oversold by exactly the stock; a channel sold out while the
other holds the units must show up as refusals while listed elsewhere, and as a starvation
that ends when the test lists units on it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.testing.control import SandboxControl
from omnisdk.testing.flash_sale import (
    describe,
    flash_catalog,
    percentile,
    run_flash_sale,
    split_demand,
)


@pytest.fixture
def shops() -> Iterator[dict[str, ExampleSandbox]]:
    """Two Example sandboxes, closed afterwards."""
    made = {"shop-a": ExampleSandbox(seed=1), "shop-b": ExampleSandbox(seed=2)}
    yield made
    for sandbox in made.values():
        sandbox.close()


async def list_everywhere(
    shops: dict[str, ExampleSandbox], listed: dict[str, dict[str, int]]
) -> None:
    """Seed ``listed[account][sku]`` units on each shop."""
    for account, sandbox in shops.items():
        async with SandboxControl.for_sandbox(sandbox) as control:
            await control.seed(
                [
                    {"sku": sku, "title": "Nón lá", "price": "99000", "stock": units}
                    for sku, units in listed[account].items()
                ]
            )


def test_the_catalog_has_diacritics_and_cycles_the_units() -> None:
    catalog = flash_catalog(4, units=(3, 5))
    assert list(catalog.values()) == [3, 5, 3, 5]
    first, second, third, fourth = catalog
    assert first == "ÁO-DÀI-LỤA-TƠ-TẰM-01"
    assert split_demand(["a", "b"], list(catalog)) == {"a": [first, third], "b": [second, fourth]}
    assert percentile([], 0.5) is None
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2.0


async def test_two_channels_listing_the_whole_stock_are_caught_overselling(
    shops: dict[str, ExampleSandbox],
) -> None:
    stock = {"NÓN-LÁ-HUẾ-01": 3, "CÀ-PHÊ-02": 4}
    await list_everywhere(shops, {account: dict(stock) for account in shops})
    outcome = await run_flash_sale(shops, stock, buyers=8, quiet=0.5)
    # Nothing pushes: each channel sells all it lists, the same units twice.
    assert outcome.oversold_by_sku() == stock
    assert outcome.oversold == 7 and outcome.units_sold == 7 and outcome.units_accepted == 14
    assert len({(s.account, s.order_id) for s in outcome.sales}) == len(outcome.sales)
    assert outcome.refused + len(outcome.sales) == outcome.attempts
    figures = describe(outcome)
    assert (figures["oversold"], figures["units"], figures["units_sold"]) == (7, 7, 7)
    assert outcome.duration < 5  # ended soon after everything was sold and listed 0


async def test_units_stuck_on_another_channel_are_refusals_and_a_starvation(
    shops: dict[str, ExampleSandbox],
) -> None:
    sku = "NƯỚC-MẮM-PHÚ-QUỐC-01"
    await list_everywhere(shops, {"shop-a": {sku: 1}, "shop-b": {sku: 2}})
    relisted_at: list[float] = []

    async def rebalance() -> None:
        # What a rebalancing engine would do: shop-b's units move to shop-a, where they sell.
        while shops["shop-a"].listing(sku)["stock"] > 0:  # noqa: ASYNC110 (another thread sells)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        with shops["shop-b"].lock:
            shops["shop-b"].set_stock({"sku": sku, "quantity": 0})
        with shops["shop-a"].lock:
            shops["shop-a"].set_stock({"sku": sku, "quantity": 2})
        relisted_at.append(time.monotonic())

    mover = asyncio.create_task(rebalance())
    outcome = await run_flash_sale(
        shops, {sku: 3}, buyers=4, wants={"shop-a": [sku], "shop-b": []}, quiet=1.0
    )
    await mover
    assert outcome.oversold == 0 and outcome.units_sold == 3
    assert {s.account for s in outcome.sales} == {"shop-a"}
    assert outcome.refused_elsewhere > 0  # refused on shop-a while shop-b held 2
    [gap] = outcome.starvations
    assert (gap.account, gap.sku, gap.ran_out) == ("shop-a", sku, False)
    assert gap.wait is not None and 0.3 <= gap.wait < 1.0
    assert gap.refilled is not None and abs(gap.refilled - relisted_at[0]) < 0.1
    assert outcome.rebalance_waits() == [gap.wait]
    assert any("shop-a at 0, refilled after" in line for line in outcome.timeline(sku))
