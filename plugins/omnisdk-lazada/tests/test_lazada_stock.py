"""Stock and prices: sellable figures read, deltas that never overwrite a sale, lost answers
read back (never applied twice), per-SKU failures, XML payloads (escaping, 50 SKUs)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lazada_testkit import IN_PROCESS, channel, frozen_sandbox, order, requests_to, seed
from omnisdk_lazada import LazadaChannel
from omnisdk_lazada.channel import sku_payload
from omnisdk_lazada.errors import LazadaBadRequest
from omnisdk_lazada.sandbox import LazadaSandbox

from omnisdk import Money, PriceUpdate, StockPushMode, StockUpdate
from omnisdk.testing.registration import unthrottled

ADJUST = "/product/stock/sellable/adjust"


def test_the_declared_push_mode_is_delta() -> None:
    assert LazadaChannel.limits.stock_push_mode is StockPushMode.DELTA
    assert LazadaChannel.limits.max_stock_batch == 50


async def test_listed_stock_is_the_sellable_figure_not_the_total() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    order(sandbox, {"NON-LA-HUE": 2}, customer={"payment": "card", "name": "Lê Văn Tám"})
    order(sandbox, {"NON-LA-HUE": 1})  # COD: occupied at once
    seller = channel(sandbox)
    [level] = [lv async for lv in seller.stream_stock(["NON-LA-HUE"])]
    assert level.on_hand == 7 - 3
    listing = sandbox.listing("NON-LA-HUE")
    assert (listing["quantity"], listing["withhold"], listing["occupy"]) == (7, 2, 1)
    await seller.aclose()


async def test_a_delta_keeps_a_sale_made_between_read_and_write() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = channel(sandbox)
    [level] = [lv async for lv in seller.stream_stock(["AO-DAI-DO"])]
    assert level.on_hand == 5
    order(sandbox, {"AO-DAI-DO": 1})  # a buyer takes one before our write lands
    [result] = await seller.write_stock_batch([StockUpdate(sku="AO-DAI-DO", quantity=8, delta=3)])
    assert result.ok, result
    assert sandbox.listing("AO-DAI-DO")["stock"] == 7  # 5 - 1 sold + 3: the sale is kept
    [absolute] = await seller.write_stock_batch([StockUpdate(sku="AO-DAI-DO", quantity=2)])
    assert absolute.ok
    assert sandbox.listing("AO-DAI-DO")["stock"] == 2
    assert sandbox.listing("AO-DAI-DO")["quantity"] == 3  # the occupied unit stays in the total
    await seller.aclose()


async def test_per_sku_failures_leave_the_others_written() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = channel(sandbox)
    results = await seller.write_stock_batch(
        [
            StockUpdate(sku="AO-THUN-TRANG-M", quantity=25, delta=5),
            StockUpdate(sku="NON-LA-HUE", quantity=0, delta=-100),
            StockUpdate(sku="KHONG-CO", quantity=1, delta=1),
        ]
    )
    assert [r.ok for r in results] == [True, False, False]
    assert "negative sellable" in (results[1].error or "")
    assert results[1].code == "501"
    assert sandbox.listing("AO-THUN-TRANG-M")["stock"] == 25
    assert sandbox.listing("NON-LA-HUE")["stock"] == 7
    assert len(requests_to(sandbox, ADJUST)) == 1
    await seller.aclose()


class LoseAnswers(httpx.AsyncBaseTransport):
    """Forwards to the sandbox; the first ``lose`` answers to ``path`` are lost after the
    sandbox handled the request (as a connection reset on the way back would)."""

    def __init__(self, sandbox: LazadaSandbox, path: str, lose: int = 1) -> None:
        self.inner = httpx.ASGITransport(app=sandbox.app)
        self.path = path
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith(self.path) and self.lose > 0:
            self.lose -= 1
            await response.aread()
            raise httpx.ReadError("connection reset", request=request)
        return response


def _seller(sandbox: LazadaSandbox, transport: httpx.AsyncBaseTransport) -> LazadaChannel:
    seller = LazadaChannel(
        sandbox.channel_settings(IN_PROCESS),
        account="hn",
        transport=transport,
        clock=sandbox.clock.now,
    )
    seller.retry_backoff = 0.001  # type: ignore[misc]
    return unthrottled(seller)  # type: ignore[return-value]


async def test_a_lost_answer_is_read_back_and_the_delta_applied_once() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = _seller(sandbox, LoseAnswers(sandbox, ADJUST))
    [result] = await seller.write_stock_batch([StockUpdate(sku="NON-LA-HUE", quantity=10, delta=3)])
    assert result.ok, result
    assert sandbox.listing("NON-LA-HUE")["stock"] == 10  # landed once, not twice
    assert len(requests_to(sandbox, ADJUST)) == 1
    await seller.aclose()


async def test_a_delta_that_did_not_land_is_sent_again() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = _seller(sandbox, httpx.ASGITransport(app=sandbox.app))
    _ = [lv async for lv in seller.stream_stock(["NON-LA-HUE"])]
    with sandbox.lock:
        sandbox.faults = sandbox.faults.model_copy(
            update={"fail_first": 1, "error_statuses": [503], "paths": ["/rest" + ADJUST]}
        )
    [result] = await seller.write_stock_batch([StockUpdate(sku="NON-LA-HUE", quantity=4, delta=-3)])
    assert result.ok, result
    assert sandbox.listing("NON-LA-HUE")["stock"] == 4
    assert len(requests_to(sandbox, ADJUST)) == 2  # refused by the fault, then sent again
    await seller.aclose()


async def test_a_lost_answer_during_a_sale_reports_the_actual_figure() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)

    class SaleThenLose(LoseAnswers):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith(ADJUST) and self.lose > 0:
                order(sandbox, {"NON-LA-HUE": 1})  # sold while our write travelled
            return await super().handle_async_request(request)

    seller = _seller(sandbox, SaleThenLose(sandbox, ADJUST))
    [result] = await seller.write_stock_batch([StockUpdate(sku="NON-LA-HUE", quantity=9, delta=2)])
    assert not result.ok and result.actual == 8 and result.code == "delta_unconfirmed"
    assert sandbox.listing("NON-LA-HUE")["stock"] == 8
    await seller.aclose()


async def test_prices_are_xml_escaped_and_batched_by_fifty() -> None:
    sandbox = frozen_sandbox()
    skus: list[dict[str, Any]] = [
        {"sku": f"GỐM-BÁT-TRÀNG&<{i:02d}>", "title": "Gốm Bát Tràng", "price": "120000", "stock": 3}
        for i in range(60)
    ]
    seed(sandbox, skus)
    seller = channel(sandbox)
    results = await seller.write_prices(
        [PriceUpdate(sku=s["sku"], price=Money.of(130000 + i, "VND")) for i, s in enumerate(skus)]
    )
    assert all(r.ok for r in results), results
    assert [sandbox.listing(s["sku"])["price"] for s in skus[:2]] == ["130000", "130001"]
    writes = sandbox.operations("price.write")
    assert [w.items for w in writes] == [50, 10]
    await seller.aclose()


async def test_the_sandbox_refuses_bad_xml_and_more_than_fifty_skus() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = channel(sandbox)
    with pytest.raises(LazadaBadRequest) as bad:
        await seller.client.post("/product/price_quantity/update", {"payload": "<Request><Sku>"})
    assert bad.value.code == "5"
    many = sku_payload([{"SellerSku": f"S{i}", "Price": "1000"} for i in range(51)])
    with pytest.raises(LazadaBadRequest) as too_many:
        await seller.client.post("/product/price_quantity/update", {"payload": many})
    assert too_many.value.code == "4171"
    with pytest.raises(LazadaBadRequest) as precision:
        await seller.client.post(
            "/product/price_quantity/update",
            {"payload": sku_payload([{"SellerSku": "NON-LA-HUE", "Price": "85000.50"}])},
        )
    assert precision.value.code == "501" and "4104" in precision.value.detail[0]["message"]
    # Lazada's own codes for a special price (the UpdatePriceQuantity error table): 4121
    # special-price precision, 4118 a price of 0.
    for fields, code in (
        ({"SalePrice": "70000.5"}, "4121"),
        ({"Price": "0"}, "4118"),
    ):
        with pytest.raises(LazadaBadRequest) as refused:
            await seller.client.post(
                "/product/price_quantity/update",
                {"payload": sku_payload([{"SellerSku": "NON-LA-HUE", **fields}])},
            )
        assert refused.value.detail[0]["message"].startswith(code), refused.value.detail
    json_payload = (
        '{"Request":{"Product":{"Skus":{"Sku":{"SellerSku":"NON-LA-HUE","Quantity":"30"}}}}}'
    )
    await seller.client.post("/product/price_quantity/update", {"payload": json_payload})
    assert sandbox.listing("NON-LA-HUE")["quantity"] == 30
    await seller.aclose()


async def test_multi_warehouse_sellers_name_their_warehouse() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = channel(sandbox, warehouse_code="dropshipping")
    [result] = await seller.write_stock_batch([StockUpdate(sku="NON-LA-HUE", quantity=9, delta=2)])
    assert result.ok, result
    assert sandbox.listing("NON-LA-HUE")["stock"] == 9
    [call] = requests_to(sandbox, ADJUST)
    assert call.items == 1
    stranger = channel(sandbox, warehouse_code="kho-ha-noi")
    [refused] = await stranger.write_stock_batch(
        [StockUpdate(sku="NON-LA-HUE", quantity=10, delta=1)]
    )
    assert not refused.ok and refused.code == "501"
    await seller.aclose()
    await stranger.aclose()
