"""The bulk order seed (``POST /_sandbox/seed/orders``) on the Shopee sandbox."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from shopee_testkit import START, channel, frozen_sandbox, seed

from omnisdk.models import OrderStatus
from omnisdk.testing.control import SandboxControl, SandboxRefused


async def test_seeded_history_reads_back_through_the_channel() -> None:
    """Orders with lines, buyers and back-dated timestamps in one call; no stock taken, no
    push; the channel backfills every one exactly once, paid and ready to ship."""
    sandbox = frozen_sandbox()
    seed(sandbox)
    since = START - timedelta(days=40)
    history = [
        {
            "lines": [{"sku": "NON-LA-HUE", "quantity": 1}, {"sku": "AO-DAI-DO", "quantity": 2}],
            "customer": {
                "name": f"Lê Văn Hùng {i % 4}",
                "phone": f"0912 345 67{i % 4}",
                "email": f"hung{i % 4}@example.vn",
                "address": {
                    "ward": "Phường Tràng Tiền",
                    "district": "Hoàn Kiếm",
                    "province": "Hà Nội",
                },
            },
            "created_at": since + timedelta(hours=5 * i),
        }
        for i in range(150)
    ]
    async with SandboxControl.for_sandbox(sandbox) as control:
        await control.set_webhook_url("https://omnisdk.example.vn/hooks/shopee")
        before = await control.listed_stock()
        numbers = await control.seed_orders(history)
        assert await control.listed_stock() == before
    assert len(set(numbers)) == 150 and sandbox.webhook_log == []
    assert len({sandbox.orders[n].buyer_user_id for n in numbers}) == 4
    shop = channel(sandbox)
    seen: Counter[str] = Counter()
    async for one in shop.stream_orders(updated_since=since):
        seen[one.channel_ref.external_id] += 1
        if one.channel_ref.external_id == numbers[0]:
            assert one.created_at == since and one.status is OrderStatus.CONFIRMED
            assert one.quantities() == {"NON-LA-HUE": 1, "AO-DAI-DO": 2}
    assert set(seen) == set(numbers) and max(seen.values()) == 1
    await shop.aclose()


async def test_an_unknown_sku_records_nothing() -> None:
    """One SKU nobody lists: 404, and no order of the batch is recorded."""
    sandbox = frozen_sandbox()
    seed(sandbox)
    async with SandboxControl.for_sandbox(sandbox) as control:
        with pytest.raises(SandboxRefused) as refused:
            await control.seed_orders(
                [
                    {"lines": [{"sku": "NON-LA-HUE", "quantity": 1}]},
                    {"lines": [{"sku": "KHONG-CO", "quantity": 1}]},
                ]
            )
    assert refused.value.status == 404 and sandbox.orders == {}
