"""Issue #10, item 1, on the real plugins: a product priced 1e30 (Shopify) or a listing of
10**30 units (Shopee), a buyer's order of it, then an ordinary order. The bad order is
quarantined with the bound it broke; the ordinary one reaches the book; the cursor moves."""

from __future__ import annotations

import pytest
from _engine_testkit import Account, MakeHarness

from omnisdk.testing.flash_sale import online_shops

GOLD = "VÀNG-MIẾNG-9999"
HAT = "NÓN-LÁ-HUẾ"


@pytest.mark.parametrize(
    ("name", "price", "stock", "units"),
    [("shopify-1", "1e30", 5, 1), ("shopee-1", "2400000", 10**30, 10**20)],
)
async def test_one_order_out_of_range_never_stops_the_account(
    make_harness: MakeHarness, name: str, price: str, stock: int, units: int
) -> None:
    shops = {shop: (cls, sandbox) for shop, cls, sandbox in online_shops(seed=70)}
    if name not in shops:
        pytest.skip(f"needs the plugin of {name}")
    cls, sandbox = shops.pop(name)
    for _, other in shops.values():
        other.close()
    harness = await make_harness(Account(name, channel_class=cls, sandbox=sandbox))
    control = harness.controls[name]
    await control.seed(
        [
            {"sku": GOLD, "title": "Vàng miếng", "price": price, "currency": "VND", "stock": stock},
            {"sku": HAT, "title": "Nón lá Huế", "price": "85000", "currency": "VND", "stock": 5},
        ]
    )
    bad = await control.place_order([(GOLD, units)])
    good = await control.place_order([(HAT, 1)])

    stats = await harness.engine.poll_orders(name)
    again = await harness.engine.poll_orders(name)

    assert (stats.new, stats.quarantined) == (1, 1)
    assert [o.order.channel_ref.external_id for o in harness.store.iter_orders()] == [good]
    kept = harness.store.list_quarantine(account=name)
    assert [(q.kind, q.external_id) for q in kept] == [("order", bad)]
    assert "out of range" in kept[0].reason or "less than or equal to" in kept[0].reason
    assert again.new == 0  # the cursor moved past both
