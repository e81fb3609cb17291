"""The stores in the stock pool, with the engine running over the KiotViet sandbox and two
online shops (the example channel's sandboxes, compare-and-swap).

- a counter sale at a branch lowers what every online channel may sell;
- while the cashier sells the shelf's share and buyers take every online unit at once, no
  online sale oversells (the online accounts held only what the merchant allocated);
- a marketplace order KiotViet mirrored is not counted a second time;
- an online order for pick-up at a branch reserves that branch's stock, in the engine and
  (mirrored) in the POS, and reading the POS back does not count it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox
from omnisdk_pos import PosChannel
from omnisdk_pos.sandbox import KiotVietSandbox
from omnisdk_pos.stores import check_store_allocation, count_into_engine, online_share

from omnisdk.allocation import AllocationRule
from omnisdk.config import ChannelConfig, Config, EngineConfig, StoreConfig
from omnisdk.errors import ConfigError
from omnisdk.models import FulfilmentMode
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.sync import Engine
from omnisdk.testing.control import IN_PROCESS_URL, SandboxControl, SandboxRefused
from omnisdk.testing.registration import ContributeChannels, unthrottled

SKU = "ÁO-DÀI-ĐỎ-M"
BRANCH = "cn01"
SHELF_STOCK = 10


@dataclass
class Pool:
    """The engine, the POS sandbox and the two online sandboxes."""

    engine: Engine
    pos: KiotVietSandbox
    online: dict[str, ExampleSandbox]

    async def listed(self, account: str) -> int:
        """What online ``account`` lists of :data:`SKU`."""
        return int(self.online[account].listing(SKU)["stock"])

    async def on_hand(self) -> int:
        """The engine's on-hand of :data:`SKU` at the branch."""
        view = await self.engine.stock_view(SKU)
        return sum(level.on_hand for level in view.locations if level.location == BRANCH)

    async def free(self) -> int:
        """The engine's on-hand less reserved of :data:`SKU` at the branch."""
        view = await self.engine.stock_view(SKU)
        return sum(level.available for level in view.locations if level.location == BRANCH)


def config(url: str, pos: KiotVietSandbox, online: dict[str, ExampleSandbox]) -> Config:
    """The POS account at its branch, two online accounts fed 30 % each from the branch."""
    entries = [
        ChannelConfig(
            name="cua-hang",
            type="pos",
            location=BRANCH,
            settings=pos.channel_settings(IN_PROCESS_URL),
        )
    ]
    for name, sandbox in online.items():
        entries.append(
            ChannelConfig(
                name=name,
                type="example",
                location=BRANCH,
                settings=sandbox.channel_settings(IN_PROCESS_URL),
                allocation=AllocationRule(locations=(BRANCH,), percentage=Decimal(30)),
            )
        )
    return Config(
        store=StoreConfig(url=url), engine=EngineConfig(allocation="quota"), channels=entries
    )


@pytest_asyncio.fixture
async def pool(tmp_path: Path) -> AsyncIterator[Pool]:
    """An open engine with the POS counted in and both online listings pushed."""
    url = f"sqlite:///{tmp_path / 'omnisdk.db'}"
    store = Store(url)
    store.migrate()
    pos = KiotVietSandbox(seed=3)
    online = {"shop-a": ExampleSandbox(seed=31), "shop-b": ExampleSandbox(seed=32)}
    with pos.lock:
        pos.seed_products([_seed(SHELF_STOCK)])
    for sandbox in online.values():
        with sandbox.lock:
            sandbox.seed_products([_seed(0)])
    plugins = Plugins(entry_points=False)
    plugins.register(ContributeChannels(PosChannel, ExampleChannel), name="stores-test")
    transports = {"cua-hang": httpx.ASGITransport(app=pos.app)} | {
        name: httpx.ASGITransport(app=sandbox.app) for name, sandbox in online.items()
    }
    engine = Engine(config(url, pos, online), plugins=plugins, store=store, transports=transports)
    await engine.open()
    for channel in engine.channels.values():
        unthrottled(channel)
    assert await count_into_engine(engine, "cua-hang", run="2024-11-11") >= 1
    for name in online:
        await engine.add_listing(name, SKU)
    await engine.push()
    try:
        yield Pool(engine, pos, online)
    finally:
        await engine.aclose()
        store.close()
        pos.close()
        for sandbox in online.values():
            sandbox.close()


def _seed(stock: int) -> object:
    from omnisdk.testing.sandbox import SeedProduct

    return SeedProduct(sku=SKU, title="Áo dài lụa đỏ size M", price=Decimal(650000), stock=stock)


async def buy_everything(pool: Pool, account: str) -> int:
    """Buyers on ``account`` take what it lists, then try one more (refused); units bought."""
    bought = 0
    async with SandboxControl.for_sandbox(pool.online[account]) as control:
        while True:
            try:
                await control.place_order([(SKU, 1)])
            except SandboxRefused as refused:
                if refused.status != 409:
                    raise
                return bought
            bought += 1


async def test_a_counter_sale_lowers_what_every_online_channel_may_sell(pool: Pool) -> None:
    """3 + 3 listed (30 % each of 10); 4 sold at the counter -> each lists 30 % of 6."""
    assert await pool.on_hand() == SHELF_STOCK
    assert [await pool.listed(n) for n in pool.online] == [3, 3]
    pool.pos.counter_sale({SKU: 4}, branch_id=20001)
    stats = await pool.engine.poll_orders("cua-hang")
    assert stats is not None
    assert await pool.on_hand() == SHELF_STOCK - 4
    await pool.engine.push()
    assert [await pool.listed(n) for n in pool.online] == [1, 1]


async def test_counter_sales_within_the_shelf_share_never_oversell_online(pool: Pool) -> None:
    """The cashier sells the shelf's 4 while buyers empty both online listings before the
    engine has seen anything: 10 units sold of 10, none twice, and nobody lists more."""
    pool.pos.counter_sale({SKU: 2}, branch_id=20001)
    online_sold = [await buy_everything(pool, name) for name in pool.online]
    pool.pos.counter_sale({SKU: 2}, branch_id=20001)
    assert online_sold == [3, 3]
    for name in ("cua-hang", *pool.online):
        await pool.engine.poll_orders(name)
    assert await pool.on_hand() == SHELF_STOCK - 4  # the online orders are reserved
    assert await pool.free() == SHELF_STOCK - 4 - 6 == 0  # every unit sold exactly once
    await pool.engine.push()
    assert [await pool.listed(n) for n in pool.online] == [0, 0]
    shelf = pool.pos.listing(SKU)["stock"]
    assert shelf == SHELF_STOCK - 4  # the POS only knows its own counter sales


async def test_a_mirrored_marketplace_order_is_not_counted_twice(pool: Pool) -> None:
    """KiotViet mirrors a Shopee sale (HDSPE_...); the POS poll skips it."""
    code = pool.pos.marketplace_sale({SKU: 1}, marketplace="Shopee", branch_id=20001)
    assert code.startswith("HDSPE_")
    channel = pool.engine.channel("cua-hang")
    assert isinstance(channel, PosChannel)
    before = channel.skipped_marketplace
    await pool.engine.poll_orders("cua-hang")
    assert channel.skipped_marketplace == before + 1
    assert await pool.on_hand() == SHELF_STOCK


async def test_a_pickup_order_reserves_at_its_branch_and_is_read_back_once(pool: Pool) -> None:
    """An online order to collect at CN01: reserved there in the engine, mirrored as a
    KiotViet order (reserved at branch 20001), and the POS poll does not count it again."""
    async with SandboxControl.for_sandbox(pool.online["shop-a"]) as control:
        order_id = await control.place_order([(SKU, 2)])
    channel = pool.engine.channel("shop-a")
    order = await channel.get_order(order_id)
    pickup = order.model_copy(
        update={"fulfilment": FulfilmentMode.PICKUP, "pickup_location": BRANCH}
    )
    await pool.engine.ingest_order(pickup)
    view = await pool.engine.stock_view(SKU)
    [branch] = [level for level in view.locations if level.location == BRANCH]
    assert (branch.on_hand, branch.reserved) == (SHELF_STOCK, 2)
    pos = pool.engine.channel("cua-hang")
    assert isinstance(pos, PosChannel)
    code = await pos.reserve_for_pickup(pickup, BRANCH)
    assert code.startswith("DH")
    inventory = pool.pos.shop.inventory(pool.pos.shop.by_code(SKU), 20001)  # type: ignore[arg-type]
    assert (int(inventory.on_hand), int(inventory.reserved)) == (SHELF_STOCK, 2)
    await pool.engine.poll_orders("cua-hang")
    view = await pool.engine.stock_view(SKU)
    [branch] = [level for level in view.locations if level.location == BRANCH]
    assert (branch.on_hand, branch.reserved) == (SHELF_STOCK, 2)  # not reserved twice


def test_the_online_share_of_a_branch_is_what_its_rules_add_up_to(tmp_path: Path) -> None:
    """Two online accounts at 30 % leave the shelf 40 %; asking for 50 % is refused."""
    pos = KiotVietSandbox()
    online = {"shop-a": ExampleSandbox(seed=1), "shop-b": ExampleSandbox(seed=2)}
    try:
        cfg = config(f"sqlite:///{tmp_path / 'x.db'}", pos, online)
        share = online_share(cfg, BRANCH)
        assert (share.percentage, share.shelf_percentage) == (Decimal(60), Decimal(40))
        assert share.accounts == ("shop-a", "shop-b")
        assert share.maximum is None
        check_store_allocation(cfg, [BRANCH], shelf_percentage=Decimal(40))
        with pytest.raises(ConfigError, match="cn01: shop-a, shop-b may hold 60%"):
            check_store_allocation(cfg, [BRANCH], shelf_percentage=Decimal(50))
        assert online_share(cfg, "cn02").accounts == ()
    finally:
        pos.close()
        for sandbox in online.values():
            sandbox.close()
