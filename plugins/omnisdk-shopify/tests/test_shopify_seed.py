"""The bulk order seed (``POST /_sandbox/seed/orders``): a shop's history in one call."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from shopify_helpers import make_channel

from omnisdk.plugins import Plugins
from omnisdk.testing.control import SandboxControl, SandboxRefused
from omnisdk_shopify.sandbox.app import ShopifySandbox

START = datetime(2025, 1, 28, 1, 0, tzinfo=UTC)  # Tết, 08:00 in Hồ Chí Minh City
SEEDS = [
    {"sku": "AT-M", "title": "Áo thun cổ tròn", "price": "199000", "stock": 5},
    {"sku": "NL-3", "title": "Nón lá Huế", "price": "85000", "stock": 2},
]


def _history(count: int) -> list[dict[str, object]]:
    return [
        {
            "lines": [{"sku": "AT-M", "quantity": 1 + i % 3}, {"sku": "NL-3", "quantity": 1}],
            "customer": {
                "name": f"Trần Thị Mai {i % 7}",
                "phone": f"090 123 45{i % 7:02d}",
                "email": f"mai{i % 7}@example.vn",
                "address": {"ward": "Phường Bến Nghé", "district": "Quận 1", "province": "HCM"},
            },
            "created_at": START + timedelta(hours=i),
            "updated_at": START + timedelta(hours=i, minutes=30),
        }
        for i in range(count)
    ]


async def test_seeded_history_reads_back_through_the_channel(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """Orders with their lines, customers (one per buyer) and timestamps, in one call; no
    stock moves, no webhook; the channel reads them as Shopify orders, paged and bulk."""
    await control.seed(SEEDS)
    await control.set_webhook_url("https://omnisdk.example.vn/hooks/shopify")
    ids = await control.seed_orders(_history(40))
    assert len(ids) == len(set(ids)) == 40 and all(
        i.startswith("gid://shopify/Order/") for i in ids
    )
    assert await control.listed_stock() == {"AT-M": 5, "NL-3": 2}
    assert sandbox.webhook_log == [] and len(sandbox.shop.customers) == 7
    for threshold in (None, 0):  # paged, then one bulk export
        async with make_channel(
            sandbox, plugins, bulk_threshold=threshold, bulk_poll_interval=0.01
        ) as channel:
            orders = [o async for o in channel.stream_orders()]
            since = [
                o async for o in channel.stream_orders(updated_since=START + timedelta(hours=30))
            ]
        assert sorted(o.channel_ref.external_id for o in orders) == sorted(ids)
        first = next(o for o in orders if o.channel_ref.external_id == ids[0])
        assert first.created_at == START and first.updated_at == START + timedelta(minutes=30)
        assert first.quantities() == {"AT-M": 1, "NL-3": 1}
        assert first.customer is not None
        assert [p.e164 for p in first.customer.phones] == ["+84901234500"]
        assert len(since) == 10  # hours 30..39 (updated half an hour later)
        buyers = Counter(str(o.customer.emails[0]) for o in orders if o.customer)
        assert len(buyers) == 7 and sum(buyers.values()) == 40


async def test_an_unknown_sku_records_nothing(
    sandbox: ShopifySandbox, control: SandboxControl
) -> None:
    """One bad SKU anywhere in the batch: 404, and no order of the batch is recorded."""
    await control.seed(SEEDS)
    batch = [*_history(3), {"lines": [{"sku": "KHONG-CO", "quantity": 1}]}]
    with pytest.raises(SandboxRefused) as refused:
        await control.seed_orders(batch)
    assert refused.value.status == 404 and "KHONG-CO" in str(refused.value.body)
    assert sandbox.shop.orders == {} and sandbox.shop.customers == {}
