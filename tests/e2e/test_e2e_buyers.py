"""End to end: buyers race for the last units on several channels while the engine runs.

Sandboxes of two channels (two Example shops, and an Example shop with a Shopify shop) take
real buyer orders through their control API. The engine polls, ingests and pushes. Proven:

- no channel sells more than it lists, and units are only oversold when orders on different
  channels raced inside one propagation window (between an order and the push that follows it);
- every order appears once in the store, with its customer;
- listed stock converges on every channel to what the ledger says.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from _engine_testkit import SKU_RED_M, Account, Harness, MakeHarness, seed

from omnisdk.models import OrderStatus
from omnisdk.testing.control import SandboxRefused

MIXES = {
    "example+example": lambda: [Account("shop-a"), Account("shop-b")],
    "example+shopify": lambda: [Account("shop-a"), shopify_account("shopify-hcm")],
}


def shopify_account(name: str) -> Account:
    """A Shopify account over the Shopify plugin's sandbox (skipped if it is not installed)."""
    sandbox_module = pytest.importorskip("omnisdk_shopify.sandbox.app")
    channel_module = pytest.importorskip("omnisdk_shopify.channel")
    return Account(
        name, channel_class=channel_module.ShopifyChannel, sandbox=sandbox_module.ShopifySandbox()
    )


@pytest.fixture(params=list(MIXES))
def mix(request: pytest.FixtureRequest) -> Callable[[], list[Account]]:
    """The channel accounts of one test run."""
    return MIXES[str(request.param)]


@dataclass
class Sale:
    """A buyer order a channel accepted."""

    account: str
    order_id: str
    quantity: int
    at: datetime


async def buy(harness: Harness, account: str, quantity: int, n: int) -> Sale | None:
    """One buyer orders ``quantity`` on ``account``; None when the channel refuses."""
    customer = {"name": f"Khách hàng {n}", "phone": f"+8491{n:07d}"}
    try:
        order_id = await harness.controls[account].place_order(
            [(SKU_RED_M, quantity)], customer=customer
        )
    except SandboxRefused as exc:
        refused = exc
    else:
        return Sale(account, order_id, quantity, datetime.now(UTC))
    assert refused.status == 409, refused.body  # out of stock, nothing else
    return None


async def start(make_harness: MakeHarness, accounts: list[Account], stock: int) -> Harness:
    """An engine over ``accounts`` listing ``stock`` units of one SKU everywhere."""
    harness = await make_harness(*accounts)
    await seed(harness, SKU_RED_M)
    await harness.engine.set_stock(SKU_RED_M, stock)
    await harness.engine.push()
    for account in harness.sandboxes:
        assert await harness.listed(account, SKU_RED_M) == stock
    return harness


async def check_every_order_once(harness: Harness, sales: list[Sale]) -> None:
    """Each accepted sale is in the store exactly once, holding its units once."""
    store = harness.store
    for account in harness.sandboxes:
        stored = [o.external_id for o in store.iter_orders(account=account)]
        accepted = [s.order_id for s in sales if s.account == account]
        assert sorted(stored) == sorted(accepted)
        assert len(set(stored)) == len(stored)
    reserves = [e for e in store.ledger_entries(sku=SKU_RED_M) if e.kind.value == "reserve"]
    assert len(reserves) == len(sales)
    for stored_order in store.iter_orders():
        assert stored_order.customer_id is not None


async def test_buyers_racing_in_waves_oversell_only_inside_a_window(
    make_harness: MakeHarness, mix: Callable[[], list[Account]]
) -> None:
    stock = 7
    harness = await start(make_harness, mix(), stock)
    accounts = list(harness.sandboxes)
    sales: list[Sale] = []
    sellable = stock
    raced = 0
    n = 0
    for _wave in range(6):
        # Inside one window: every channel still shows the figure of the last push.
        attempts = [(account, 1) for account in accounts for _ in range(2)]
        n += len(attempts)
        results = await asyncio.gather(
            *(buy(harness, account, q, n + i) for i, (account, q) in enumerate(attempts))
        )
        accepted = [sale for sale in results if sale is not None]
        for account in accounts:
            mine = sum(s.quantity for s in accepted if s.account == account)
            assert mine <= sellable, f"{account} sold more than it listed"
        raced += max(sum(s.quantity for s in accepted) - sellable, 0)
        sales += accepted
        cycle = await harness.engine.sync_once(reconcile=False)
        assert not cycle.errors
        sellable = max(sellable - sum(s.quantity for s in accepted), 0)
        for account in accounts:
            assert await harness.listed(account, SKU_RED_M) == sellable
    sold = sum(s.quantity for s in sales)
    oversold = max(sold - stock, 0)
    assert oversold <= raced
    assert sold >= stock  # the units were all sold
    await check_every_order_once(harness, sales)
    level = harness.store.stock_level(SKU_RED_M, "main")
    assert (level.on_hand, level.reserved) == (stock, sold)
    # The shop cancels what it cannot deliver: stock comes back, listings follow.
    for sale in sales[-oversold - 1 :] if oversold else sales[-1:]:
        await harness.controls[sale.account].cancel_order(sale.order_id)
    await harness.engine.sync_once(reconcile=False)
    level = harness.store.stock_level(SKU_RED_M, "main")
    back = level.on_hand - level.reserved
    for account in accounts:
        assert await harness.listed(account, SKU_RED_M) == max(back, 0)


async def test_free_running_engine_and_buyers_converge(
    make_harness: MakeHarness, mix: Callable[[], list[Account]]
) -> None:
    stock = 10
    harness = await start(make_harness, mix(), stock)
    engine = harness.engine
    accounts = list(harness.sandboxes)
    cycles: list[tuple[datetime, datetime]] = []
    stop = asyncio.Event()

    async def run_engine() -> None:
        while not stop.is_set():
            began = datetime.now(UTC)
            cycle = await engine.sync_once(reconcile=False)
            assert not cycle.errors, cycle.errors
            cycles.append((began, datetime.now(UTC)))
            await asyncio.sleep(0.01)

    sales: list[Sale] = []
    rng = random.Random(2026)

    async def shopper(index: int) -> None:
        refused_in_a_row = 0
        attempt = 0
        while refused_in_a_row < 3:
            attempt += 1
            account = rng.choice(accounts)
            sale = await buy(harness, account, rng.choice([1, 1, 2]), index * 1000 + attempt)
            if sale is None:
                refused_in_a_row += 1
            else:
                refused_in_a_row = 0
                sales.append(sale)
            await asyncio.sleep(rng.uniform(0.08, 0.25))

    runner = asyncio.create_task(run_engine())
    started = time.monotonic()
    await asyncio.gather(*(shopper(i) for i in range(3)))
    await asyncio.sleep(0.1)
    stop.set()
    await runner
    await engine.sync_once(reconcile=False)
    elapsed = time.monotonic() - started

    await check_every_order_once(harness, sales)
    sold = sum(s.quantity for s in sales)
    oversold = max(sold - stock, 0)

    def window_end(sale: Sale) -> datetime:
        """The end of the first cycle that started after the sale: by then it was pushed."""
        return next(
            (end for began, end in cycles if began >= sale.at), datetime.max.replace(tzinfo=UTC)
        )

    raced = sum(
        sale.quantity
        for sale in sales
        if any(
            other.account != sale.account and other.at <= sale.at <= window_end(other)
            for other in sales
            if other is not sale
        )
    )
    assert oversold <= raced, (oversold, raced)
    level = harness.store.stock_level(SKU_RED_M, "main")
    assert (level.on_hand, level.reserved) == (stock, sold)
    for account in accounts:
        assert await harness.listed(account, SKU_RED_M) == max(stock - sold, 0)
    print(
        f"\n{'+'.join(accounts)}: {len(sales)} orders ({sold} units of {stock}) in "
        f"{elapsed:.2f}s over {len(cycles)} cycles; oversold {oversold}, raced {raced}"
    )


async def test_orders_move_on_and_listings_follow(
    make_harness: MakeHarness, mix: Callable[[], list[Account]]
) -> None:
    harness = await start(make_harness, mix(), 10)
    accounts = list(harness.sandboxes)
    first = await buy(harness, accounts[0], 3, 1)
    second = await buy(harness, accounts[1], 2, 2)
    assert first is not None and second is not None
    await harness.engine.sync_once(reconcile=False)
    for account in accounts:
        assert await harness.listed(account, SKU_RED_M) == 5
    await harness.controls[second.account].cancel_order(second.order_id)
    for _ in range(3):
        await harness.controls[first.account].advance_order(first.order_id)
    await harness.engine.sync_once(reconcile=False)
    stored = harness.store.get_order(first.account, first.order_id)
    assert stored is not None and stored.order.status is not OrderStatus.PENDING
    level = harness.store.stock_level(SKU_RED_M, "main")
    shipped = stored.order.status.stock_effect.value == "commit"
    assert (level.on_hand, level.reserved) == ((7, 0) if shipped else (10, 3))
    for account in accounts:
        assert await harness.listed(account, SKU_RED_M) == 7
