"""Items batches: one call at the platform maximum, handles followed to completion, every
item's own outcome (refused at once, failed in processing, or unconfirmed)."""

from __future__ import annotations

import pytest
from facebook_testkit import channel_on, seeded
from omnisdk_facebook.batch import MAX_BATCH_REQUESTS, BatchRequest, run_batch

from omnisdk import Money, PriceUpdate, Product, StockUpdate, Variant
from omnisdk.http import single_attempt
from omnisdk.models import Image
from omnisdk.testing.control import SandboxControl


async def test_stock_writes_land_and_unknown_skus_fail_alone() -> None:
    sandbox = seeded()
    async with channel_on(sandbox) as channel:
        results = await channel.write_stock([
            StockUpdate(sku="NON-LA-HUE", quantity=0),
            StockUpdate(sku="KHONG-CO", quantity=3),
            StockUpdate(sku="AO-DAI-DO", quantity=9),
        ])
    assert [(r.key, r.ok) for r in results] == [
        ("NON-LA-HUE", True), ("KHONG-CO", False), ("AO-DAI-DO", True)]
    assert results[1].code == "item_error" and "KHONG-CO" in (results[1].error or "")
    assert sandbox.listing("NON-LA-HUE") == {**sandbox.listing("NON-LA-HUE"), "stock": 0,
                                             "availability": "out of stock"}
    assert sandbox.listing("AO-DAI-DO")["stock"] == 9
    assert "KHONG-CO" not in sandbox.catalog.items  # allow_upsert=false: no half item
    [write] = sandbox.operations("stock.write")
    assert write.items == 3
    assert len(sandbox.operations("batch.status")) == 2  # in_progress, then finished


async def test_prices_are_currency_strings_and_a_wrong_currency_is_refused_before_sending() -> None:
    sandbox = seeded()
    async with channel_on(sandbox) as channel:
        results = await channel.write_prices([
            PriceUpdate(sku="NON-LA-HUE", price=Money.of(150000, "VND")),
            PriceUpdate(sku="AO-DAI-DO", price=Money.of("25.00", "USD")),
            PriceUpdate(sku="AO-DAI-XANH", price=Money.of(600000, "VND"),
                        compare_at_price=Money.of(690000, "VND")),
        ])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].code == "currency_mismatch"
    assert sandbox.listing("NON-LA-HUE")["price"] == "150000"
    item = sandbox.catalog.items["AO-DAI-XANH"]
    assert (item.price, item.sale_price) == (690000, 600000)
    assert sandbox.operations("price.write")[0].items == 2


async def test_a_refused_request_is_reported_without_waiting_for_the_batch() -> None:
    sandbox = seeded()
    async with channel_on(sandbox) as channel:
        outcomes = await run_batch(channel.graph, channel.catalog_id, [
            BatchRequest("UPDATE", {"id": "NON-LA-HUE", "price": "85000.5 VND"}),
            BatchRequest("UPDATE", {"id": "AO-DAI-DO", "availability": "còn hàng"}),
            BatchRequest("UPDATE", {"id": "AO-THUN-TRANG-M", "price": "99000 VND"}),
        ], allow_upsert=False, within=5)
    assert [(o.ok, o.code) for o in outcomes] == [
        (False, "invalid_request"), (False, "invalid_request"), (True, None)]
    assert "decimal places" in (outcomes[0].error or "")
    assert sandbox.listing("AO-THUN-TRANG-M")["price"] == "99000"


async def test_new_products_are_created_with_their_variants_grouped() -> None:
    sandbox = seeded()
    product = Product(
        title="Túi cói đi biển", description="Cói Nga Sơn",
        variants=[Variant(sku="TUI-COI-NHO", price=Money.of(120000, "VND"),
                          options={"Cỡ": "Nhỏ"}),
                  Variant(sku="TUI-COI-LON", price=Money.of(180000, "VND"),
                          options={"Cỡ": "Lớn"})],
    )
    bare = Product(title="Khăn rằn", variants=[Variant(sku="KHAN-RAN",
                                                       price=Money.of(50000, "VND"))])
    async with channel_on(sandbox, link_template="https://shop.example.vn/p/{sku}") as channel:
        missing = await channel.write_products([bare])  # no image: Meta refuses the item
        product = product.model_copy(update={"images": [Image(url="https://shop.example.vn/i/t.jpg")]})
        [written] = await channel.write_products([product])
        products = [p async for p in channel.stream_products()]
    assert not missing[0].ok and "image_link" in (missing[0].error or "")
    assert written.ok, written
    [bag] = [p for p in products if "TUI-COI-NHO" in p.skus]
    assert bag.skus == ["TUI-COI-NHO", "TUI-COI-LON"] and bag.title == "Túi cói đi biển"
    assert bag.variants[1].options == {"Cỡ": "Lớn"}


async def test_a_status_that_never_comes_leaves_the_items_unconfirmed() -> None:
    sandbox = seeded()
    async with SandboxControl.for_sandbox(sandbox) as control:
        await control.set_faults(error_rate=1.0, error_statuses=[503],
                                 only_paths=[f"/v26.0/{sandbox.catalog.id}/check_batch"])
    async with channel_on(sandbox, batch_timeout=0.4, max_attempts=1) as channel:
        with single_attempt():
            [result] = await channel.write_stock([StockUpdate(sku="NON-LA-HUE", quantity=2)])
    assert not result.ok and result.retryable and result.code == "batch_unconfirmed"


async def test_the_batch_maximum_is_metas() -> None:
    sandbox = seeded()
    async with channel_on(sandbox) as channel:
        assert channel.limits.max_stock_batch == MAX_BATCH_REQUESTS == 5000
        with pytest.raises(ValueError, match="5000"):
            await run_batch(channel.graph, channel.catalog_id,
                            [BatchRequest("DELETE", {"id": f"X{i}"}) for i in range(5001)],
                            allow_upsert=False, within=1)
        updates = [StockUpdate(sku=f"SKU-{i:05d}", quantity=1) for i in range(5001)]
        results = await channel.write_stock(updates)
    assert len(results) == 5001 and not any(r.ok for r in results)  # none is in the catalog
    assert [w.items for w in sandbox.operations("stock.write")] == [5000, 1]
