"""The omnisdk channel conformance suite, run against the Shopee sandbox."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from omnisdk_shopee import ShopeeChannel
from omnisdk_shopee.sandbox import ShopeeSandbox

from omnisdk import Channel, StockUpdate
from omnisdk.testing.conformance import ChannelConformance
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.sandbox import Sandbox


class TestShopeeConformance(ChannelConformance):
    """Every contract test of omnisdk, against the Shopee sandbox in VND."""

    channel_class = ShopeeChannel
    sandbox_class = ShopeeSandbox
    sandbox_kwargs: ClassVar[dict[str, Any]] = {"seed": 5}
    # update_stock takes up to 50 models of ONE item per call; single-model items are
    # covered by the test below.
    stock_batches_per_product = True

    async def test_stock_writes_to_single_model_items_take_one_call_each(
        self, make_channel: Callable[..., Channel], control: SandboxControl, sandbox: Sandbox
    ) -> None:
        """Items without variations: every write lands, one ``update_stock`` per item."""
        seeds = self.catalog(7, variants_of_first=0)
        await control.seed(seeds)
        channel = make_channel()
        listed = await control.listed_stock()
        updates = [StockUpdate(sku=s["sku"], quantity=listed[s["sku"]] + 3) for s in seeds]
        results = await channel.write_stock(updates)
        assert all(r.ok for r in results), results
        assert [r.external_id and r.external_id.endswith(":0") for r in results] == [True] * 7
        now = await control.listed_stock()
        assert {u.sku: now[u.sku] for u in updates} == {u.sku: u.quantity for u in updates}
        writes = sandbox.operations("stock.write")
        assert [w.items for w in writes] == [1] * 7
        assert math.ceil(len(updates) / self.channel_class.limits.max_stock_batch) == 1
