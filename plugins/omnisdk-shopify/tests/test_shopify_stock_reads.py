"""Reading listed stock: a few SKUs by SKU, many (or all) location by location.

``StockBySku`` costs ~23 query points a variant; ``location { inventoryLevels }`` ~3 a level,
so a first push over thousands of SKUs reads a tenth of the points in a tenth of the calls.
Both paths must read the same figures.
"""

from __future__ import annotations

from typing import Any

import pytest

from omnisdk.testing.control import SandboxControl
from omnisdk_shopify import queries
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox

SKUS = [f"ÁO-DÀI-{i:03}" for i in range(60)]


def _operation(document: str) -> str:
    return document.split("(", 1)[0].split()[-1]


@pytest.fixture
def calls(channel: ShopifyChannel, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The GraphQL operations the channel sends, by name."""
    sent: list[str] = []
    real = channel.client.graphql

    async def counting(document: str, variables: Any = None, **kwargs: Any) -> Any:
        sent.append(_operation(document))
        return await real(document, variables, **kwargs)

    monkeypatch.setattr(channel.client, "graphql", counting)
    return sent


async def _seed_two_locations(sandbox: ShopifySandbox, control: SandboxControl) -> str:
    await control.seed(
        [
            {"sku": sku, "title": f"Áo dài lụa {i}", "price": "350000", "currency": "VND",
             "stock": i % 7}
            for i, sku in enumerate(SKUS)
        ]
    )
    with sandbox.lock:
        store = sandbox.shop.add_location("Cửa hàng Hà Nội", city="Hà Nội")
        for n, item in enumerate(sandbox.shop.inventory_items.values()):
            if n % 3 == 0:
                sandbox.shop.connect(item, store, available=n)
    return str(store.id)


async def _read(channel: ShopifyChannel, skus: list[str] | None) -> dict[tuple[str, str], int]:
    return {(lv.sku, lv.location): lv.on_hand async for lv in channel.stream_stock(skus)}


async def test_many_skus_are_read_by_location_with_the_same_figures(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel, calls: list[str]
) -> None:
    store = await _seed_two_locations(sandbox, control)
    by_sku: dict[tuple[str, str], int] = {}
    for start in range(0, len(SKUS), queries.STOCK_PAGE):
        by_sku |= await _read(channel, SKUS[start : start + queries.STOCK_PAGE])
    assert set(calls) == {"StockBySku"}
    calls.clear()

    by_location = await _read(channel, SKUS)
    assert calls == ["LocationStock", "LocationStock"]  # one page per location
    assert by_location == by_sku
    assert by_location[(SKUS[3], store)] == 3
    assert len({sku for sku, _ in by_location}) == len(SKUS)


async def test_every_sku_is_read_by_location_and_unasked_skus_are_left_out(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel, calls: list[str]
) -> None:
    await _seed_two_locations(sandbox, control)
    everything = await _read(channel, None)
    assert set(calls) == {"LocationStock"}
    wanted = [*SKUS[: queries.STOCK_BY_SKU_AT_MOST + 1], "KHÔNG-CÓ"]
    some = await _read(channel, wanted)
    assert some == {key: value for key, value in everything.items() if key[0] in wanted}


async def test_a_few_skus_are_still_read_by_sku(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel, calls: list[str]
) -> None:
    await _seed_two_locations(sandbox, control)
    await _read(channel, SKUS[:5])
    assert calls == ["StockBySku"]
