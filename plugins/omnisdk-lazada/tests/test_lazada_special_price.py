"""Special prices with dates: written in the site's local time to the minute, shown and paid
by them, ended by moving the end to now; bad dates are refused per SKU."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from lazada_testkit import START, channel, frozen_sandbox, order, seed

from omnisdk.models import Money, PromotionItem, PromotionWrite

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _vnd(amount: int) -> Money:
    return Money.of(amount, "VND")


def _promotion() -> PromotionWrite:
    return PromotionWrite(
        id="tet-2027",
        name="Khuyến mãi Tết",
        starts_at=START + timedelta(hours=2),
        ends_at=START + timedelta(days=1),
        items=(
            PromotionItem(sku="NON-LA-HUE", base=_vnd(85000), promoted=_vnd(72250)),
            PromotionItem(sku="AO-DAI-DO", base=_vnd(650000), promoted=_vnd(552500)),
        ),
    )


async def test_a_special_price_runs_between_its_local_dates_and_ends_now() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = channel(sandbox)
    try:
        assert all(r.ok for r in await seller.write_promotion(_promotion()))
        _, sku = sandbox.catalog.find("NON-LA-HUE") or (None, None)
        assert sku is not None and sku.special_from is not None
        # 11:00 in Hồ Chí Minh City is what Lazada keeps (its sites' local time, to the minute)
        assert sku.special_from.astimezone(HCM).strftime("%Y-%m-%d %H:%M") == "2025-03-15 11:00"
        skus = ["NON-LA-HUE", "AO-DAI-DO"]
        assert await seller.read_selling_prices(skus) == {
            "NON-LA-HUE": _vnd(85000), "AO-DAI-DO": _vnd(650000)
        }
        sandbox.clock.advance(2 * 3600)
        assert await seller.read_selling_prices(skus) == {
            "NON-LA-HUE": _vnd(72250), "AO-DAI-DO": _vnd(552500)
        }
        order_id = order(sandbox, {"AO-DAI-DO": 1})
        assert {item.price for item in sandbox.flow.orders[order_id].items} == {Decimal(552500)}

        for _ in range(2):
            assert all(r.ok for r in await seller.end_promotion(_promotion()))
            assert await seller.read_selling_prices(skus) == {
                "NON-LA-HUE": _vnd(85000), "AO-DAI-DO": _vnd(650000)
            }
    finally:
        await seller.aclose()
        sandbox.close()


async def test_dates_the_platform_refuses_fail_per_sku() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = channel(sandbox)
    try:
        backwards = _promotion().model_copy(
            update={"ends_at": START + timedelta(hours=2), "starts_at": START + timedelta(hours=2)}
        )
        results = await seller.write_promotion(backwards)
        assert [r.ok for r in results] == [False, False]
        assert all("4117" in (r.error or "") for r in results), results
        same = _promotion().model_copy(
            update={"items": (PromotionItem(sku="NON-LA-HUE", base=_vnd(85000),
                                            promoted=_vnd(85000)),)}
        )
        [refused] = await seller.write_promotion(same)
        assert (refused.ok, refused.code) == (False, "4119")
    finally:
        await seller.aclose()
        sandbox.close()
