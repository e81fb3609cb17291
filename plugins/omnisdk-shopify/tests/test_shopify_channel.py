"""ShopifyChannel against the sandbox: beyond the conformance suite."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shopify_helpers import make_channel

from omnisdk.hookspecs import hookimpl
from omnisdk.models import Money, PriceUpdate, StockUpdate
from omnisdk.plugins import Plugins
from omnisdk.testing.control import SandboxControl
from omnisdk.testing.faults import FaultKind
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox


def _seeds(count: int, prefix: str = "AT", stock: int = 10) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"{prefix}-{i:03d}",
            "title": f"Áo thun cổ tròn {i}",
            "price": str(99_000 + i * 1_000),
            "currency": "VND",
            "stock": stock,
        }
        for i in range(count)
    ]


async def test_injected_429_and_5xx_lose_and_double_nothing(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """With 20 % of calls failing (429/5xx) every product and order is read exactly once."""
    seeds = _seeds(60)
    await control.seed(seeds)
    placed = [await control.place_order([(seeds[i]["sku"], 1 + i % 3)]) for i in range(25)]
    await control.set_faults(
        error_rate=0.2, error_statuses=[429, 500, 502, 503], retry_after=0, seed=20
    )
    async with make_channel(sandbox, plugins, max_attempts=12) as channel:
        products = [p async for p in channel.stream_products()]
        orders = [o async for o in channel.stream_orders()]
    assert Counter(sku for p in products for sku in p.skus) == Counter(s["sku"] for s in seeds)
    assert Counter(o.channel_ref.external_id for o in orders) == Counter(placed)
    faulted = [r for r in sandbox.requests if r.fault is FaultKind.ERROR]
    assert len(faulted) >= 3, "too few faults were injected for the test to mean anything"


async def test_bulk_backfill_streams_jsonl(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """A full backfill past ``bulk_threshold`` runs as a bulk operation, grouped JSONL."""
    seeds = _seeds(40)
    seeds += [
        {
            "sku": f"AD-{size}",
            "title": "Áo dài",
            "product": "Áo dài lụa",
            "options": {"Size": size},
            "price": "1250000",
            "currency": "VND",
            "stock": 9,
        }
        for size in ("S", "M", "L", "XL")
    ]
    await control.seed(seeds)
    placed = {await control.place_order([("AD-M", 1), (f"AT-{i:03d}", 2)]) for i in range(6)}
    async with make_channel(sandbox, plugins, bulk_threshold=5, bulk_poll_interval=0.01) as channel:
        products = [p async for p in channel.stream_products()]
        orders = [o async for o in channel.stream_orders()]
    assert sorted(sku for p in products for sku in p.skus) == sorted(s["sku"] for s in seeds)
    ao_dai = next(p for p in products if p.title == "Áo dài lụa")
    assert [v.options for v in ao_dai.variants] == [{"Size": s} for s in ("S", "M", "L", "XL")]
    assert {o.channel_ref.external_id for o in orders} == placed
    assert all(o.quantities()["AD-M"] == 1 for o in orders)
    downloads = [r for r in sandbox.requests if r.path.startswith("/bulk/")]
    assert len(downloads) == 2  # one JSONL file per stream, no paged product/order queries
    assert not sandbox.operations("products.read") and not sandbox.operations("orders.read")


async def test_bulk_lines_keep_unicode_line_separators(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """JSON text may hold U+2028, U+2029 and U+0085 raw (the sandbox writes them so, as any
    encoder that does not escape them would): a bulk export's line ends only at ``\\n``.
    Cut as text lines (httpx's ``aiter_lines``), each such title broke the whole read."""
    titles = ["Nón lá\u2028Huế", "Áo\u2029dài", "Khăn \x85 lụa"]
    seeds = [
        {"sku": f"LS-{i}", "title": title, "price": "100000", "currency": "VND", "stock": 3}
        for i, title in enumerate(titles)
    ]
    await control.seed(seeds)
    placed = await control.place_order([("LS-0", 1), ("LS-2", 1)])
    async with make_channel(sandbox, plugins, bulk_threshold=0, bulk_poll_interval=0.01) as channel:
        products = [p async for p in channel.stream_products()]
        orders = [o async for o in channel.stream_orders()]
    assert sorted(p.title for p in products) == sorted(titles)
    [order] = orders
    assert order.channel_ref.external_id == placed
    assert sorted(line.title or "" for line in order.lines) == sorted([titles[0], titles[2]])
    assert [r for r in sandbox.requests if r.path.startswith("/bulk/")], "no bulk export read"


async def test_many_variants_and_lines_are_fetched_in_full(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """More variants than one product page holds, more lines than one order page holds."""
    seeds = [
        {
            "sku": f"G-{i:02d}",
            "title": "Gối",
            "product": "Gối tựa lưng thêu tay",
            "options": {"Màu": f"Màu {i}"},
            "price": "150000",
            "currency": "VND",
            "stock": 5,
        }
        for i in range(23)
    ]
    await control.seed(seeds)
    order_id = await control.place_order([(s["sku"], 1) for s in seeds])
    [product] = [p async for p in channel.stream_products()]
    assert len(product.variants) == 23
    order = await channel.get_order(order_id)
    assert len(order.lines) == 23 and order.total == Money.of(23 * 150_000, "VND")


async def test_stale_item_fails_alone_with_the_actual_count(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """One stale compare in a batch: it fails with what Shopify holds; the others land."""
    await control.seed(_seeds(3, stock=10))
    await control.place_order([("AT-001", 4)])  # sold while we were not looking
    results = await channel.write_stock(
        [
            StockUpdate(sku="AT-000", quantity=7, expected=10),
            StockUpdate(sku="AT-001", quantity=8, expected=10),
            StockUpdate(sku="AT-002", quantity=0, expected=10),
            StockUpdate(sku="KHONG-CO", quantity=1, expected=0),
        ]
    )
    assert [r.ok for r in results] == [True, False, True, False]
    assert results[1].code == "CHANGE_FROM_QUANTITY_STALE" and results[1].actual == 6
    assert results[1].retryable
    assert results[3].code == "SKU_NOT_FOUND"
    stock = await control.listed_stock()
    assert (stock["AT-000"], stock["AT-001"], stock["AT-002"]) == (7, 6, 0)
    writes = sandbox.operations("stock.write")
    assert [w.items for w in writes] == [3, 2]  # refused call, then the two fresh items


async def test_idempotency_key_makes_a_replayed_write_harmless(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """The same keyed write twice: applied once (the second answer is the first one)."""
    await control.seed(_seeds(1, stock=10))
    update = StockUpdate(sku="AT-000", quantity=4, expected=10, idempotency_key="push-1")
    assert (await channel.write_stock([update]))[0].ok
    await control.place_order([("AT-000", 1)])
    assert (await channel.write_stock([update]))[0].ok
    assert (await control.listed_stock())["AT-000"] == 3


async def test_prices_in_another_currency_fail_alone(
    control: SandboxControl, channel: ShopifyChannel
) -> None:
    """A USD price for a VND shop is refused with a reason; VND prices land exactly."""
    await control.seed(_seeds(2))
    results = await channel.write_prices(
        [
            PriceUpdate(sku="AT-000", price=Money.of("12.50", "USD")),
            PriceUpdate(
                sku="AT-001",
                price=Money.of(129_000, "VND"),
                compare_at_price=Money.of(159_000, "VND"),
            ),
        ]
    )
    assert [r.ok for r in results] == [False, True]
    assert results[0].code == "CURRENCY_MISMATCH" and "USD" in (results[0].error or "")
    listings = {e["sku"]: e for e in (await control.state())["listings"]}
    assert Decimal(listings["AT-001"]["price"]) == 129_000
    assert Decimal(listings["AT-000"]["price"]) == 99_000


async def test_cost_throttle_waits_instead_of_hammering(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """An empty bucket: one THROTTLED answer at most, then the channel waits for the bucket
    to refill before each query instead of hammering, and reads everything."""
    await control.seed(_seeds(60))
    [_ async for _ in channel.stream_products()]  # learn what each query costs
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        sandbox.clock.advance(seconds)  # the sandbox's bucket refills on its own clock

    channel.client.throttle._sleep = sleep
    channel.http._sleep = sleep
    bucket = sandbox.cost_bucket()
    answers: list[bool] = []
    charge = bucket.try_charge

    def counted(requested: int) -> bool:
        answers.append(charge(requested))
        return answers[-1]

    bucket.try_charge = counted  # type: ignore[method-assign]
    bucket.drain(2000)
    products = [p async for p in channel.stream_products()]
    assert len(products) == 60
    assert answers.count(False) <= 1, answers
    assert channel.client.throttle.waited > 0 and slept


async def test_orders_since_a_cursor_and_statuses(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """Advanced and cancelled orders map to canonical statuses; the cursor filters by
    ``updated_at``."""
    await control.seed(_seeds(2, stock=50))
    first = await control.place_order([("AT-000", 1)])
    second = await control.place_order([("AT-001", 1)])
    await control.advance_clock(120)
    cursor = datetime.fromisoformat(await control.now())
    await control.advance_clock(1)
    number = first.rsplit("/", 1)[-1]
    assert await control.advance_order(number) == "fulfilled"
    statuses = {
        o.channel_ref.external_id: o.status.value
        async for o in channel.stream_orders(updated_since=cursor)
    }
    assert statuses == {first: "shipped"}
    assert await control.advance_order(number) == "closed"
    await control.cancel_order(second.rsplit("/", 1)[-1])
    statuses = {
        o.channel_ref.external_id: (o.status.value, o.payment_status.value)
        async for o in channel.stream_orders(updated_since=cursor)
    }
    assert statuses == {first: ("completed", "paid"), second: ("cancelled", "refunded")}
    assert cursor.tzinfo is not None and cursor < datetime.now(UTC).replace(year=2100)


async def test_locations_and_stock_per_location(
    sandbox: ShopifySandbox, control: SandboxControl, channel: ShopifyChannel
) -> None:
    """A second location: stock reads per location, writes go where they are told."""
    await control.seed(_seeds(1, stock=6))
    with sandbox.lock:
        store = sandbox.shop.add_location("Cửa hàng Hà Nội", city="Hà Nội")
        item = next(iter(sandbox.shop.inventory_items.values()))
        sandbox.shop.connect(item, store, available=2)
    locations = [loc async for loc in channel.stream_locations()]
    assert {loc.name for loc in locations} == {"Kho HCM", "Cửa hàng Hà Nội"}
    levels = {lv.location: lv.on_hand async for lv in channel.stream_stock(["AT-000"])}
    assert levels == {str(sandbox.shop.primary_location.id): 6, str(store.id): 2}
    [result] = await channel.write_stock(
        [StockUpdate(sku="AT-000", quantity=5, expected=2, location=str(store.id))]
    )
    assert result.ok
    assert (await control.listed_stock())["AT-000"] == 11


async def test_register_and_unregister_webhooks(
    sandbox: ShopifySandbox, channel: ShopifyChannel
) -> None:
    """Subscriptions for the declared topics; registering twice is harmless; removal works."""
    url = "https://omnisdk.example.vn/hooks/shopify"
    assert await channel.register_webhooks(url) == list(channel.limits.webhook_topics)
    await channel.register_webhooks(url)
    topics = sorted(s.topic for s in sandbox.shop.webhook_subscriptions.values())
    assert topics == sorted(channel.limits.webhook_topics)
    await channel.unregister_webhooks(url)
    assert not sandbox.shop.webhook_subscriptions


async def test_rest_call_limit_slows_down_before_a_429(plugins: Plugins) -> None:
    """Near a full leaky bucket the channel sleeps instead of running into 429s."""
    sandbox = ShopifySandbox(rest_bucket_size=10, rest_leak_rate=2.0)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        sandbox.clock.advance(seconds)  # the bucket leaks on the sandbox clock

    async with make_channel(sandbox, plugins) as channel:
        channel.client._sleep = sleep
        for _ in range(25):
            assert [loc.name async for loc in channel.stream_locations()] == ["Kho HCM"]
    sandbox.close()
    assert slept
    assert all(r.status == 200 for r in sandbox.requests), "a call hit the 429"


async def test_a_product_that_cannot_be_mapped_is_quarantined(
    sandbox: ShopifySandbox, control: SandboxControl, plugins: Plugins
) -> None:
    """A variant without SKU: its product is set aside with the reason, the rest stream on."""
    rejected: list[tuple[str, str | None, str]] = []

    class Quarantine:
        @hookimpl
        def omnisdk_record_rejected(
            self, channel: Any, kind: str, external_id: str | None, raw: dict[str, Any], reason: str
        ) -> None:
            rejected.append((kind, external_id, reason))

    plugins.register(Quarantine(), name="quarantine")
    await control.seed(_seeds(3))
    with sandbox.lock:
        variant = next(v for v in sandbox.shop.variants.values() if v.sku == "AT-001")
        variant.sku = ""
    async with make_channel(sandbox, plugins) as channel:
        products = [p async for p in channel.stream_products()]
    assert sorted(sku for p in products for sku in p.skus) == ["AT-000", "AT-002"]
    [(kind, external_id, reason)] = rejected
    assert kind == "product" and external_id == f"gid://shopify/Product/{variant.product_id}"
    assert "has no SKU" in reason


async def test_a_sku_on_two_variants_is_never_guessed(
    control: SandboxControl, channel: ShopifyChannel
) -> None:
    """Shopify allows duplicate SKUs; writes to one fail with the reason instead of guessing."""
    await control.seed(
        [
            {"sku": "DUP-1", "title": "Khăn rằn", "price": "60000", "currency": "VND", "stock": 4},
            {
                "sku": "DUP-1",
                "title": "Khăn rằn (cũ)",
                "price": "50000",
                "currency": "VND",
                "stock": 1,
            },
        ]
    )
    [stock] = await channel.write_stock([StockUpdate(sku="DUP-1", quantity=3, expected=4)])
    [price] = await channel.write_prices([PriceUpdate(sku="DUP-1", price=Money.of(1, "VND"))])
    assert stock.code == price.code == "SKU_AMBIGUOUS"
    assert "2 variants" in (stock.error or "")
    assert (await control.listed_stock())["DUP-1"] in (4, 1)
