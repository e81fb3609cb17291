"""Sale prices with effective dates: Meta shows the sale price only between its dates; an
effective date it cannot read is refused for that item alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facebook_testkit import channel_on, seeded
from omnisdk_facebook.batch import BatchRequest

from omnisdk.http import Lane
from omnisdk.models import Money, PromotionItem, PromotionWrite


def _vnd(amount: int) -> Money:
    return Money.of(amount, "VND")


async def test_the_sale_price_shows_between_its_dates_and_clears() -> None:
    sandbox = seeded()
    channel = channel_on(sandbox)
    moment = datetime(2027, 1, 25, 0, 0, tzinfo=UTC)
    channel.clock = lambda: moment
    promotion = PromotionWrite(
        id="tet-2027",
        name="Khuyến mãi Tết",
        starts_at=moment + timedelta(hours=1),
        ends_at=moment + timedelta(days=1),
        items=(PromotionItem(sku="NON-LA-HUE", base=_vnd(85000), promoted=_vnd(72250)),),
    )
    try:
        assert all(r.ok for r in await channel.write_promotion(promotion))
        item = sandbox.catalog.items["NON-LA-HUE"]
        assert (item.sale_price, item.sale_starts) == (72250, moment + timedelta(hours=1))
        assert await channel.read_selling_prices(["NON-LA-HUE"]) == {"NON-LA-HUE": _vnd(85000)}
        moment += timedelta(hours=2)
        assert await channel.read_selling_prices(["NON-LA-HUE"]) == {"NON-LA-HUE": _vnd(72250)}
        moment += timedelta(days=1)
        assert await channel.read_selling_prices(["NON-LA-HUE"]) == {"NON-LA-HUE": _vnd(85000)}
        assert all(r.ok for r in await channel.end_promotion(promotion))
        assert (item.sale_price, item.sale_starts, item.sale_ends) == (None, None, None)
    finally:
        await channel.aclose()
        sandbox.close()


async def test_an_unreadable_effective_date_fails_that_item_alone() -> None:
    sandbox = seeded()
    channel = channel_on(sandbox)
    try:
        outcomes = await channel._send(
            [
                BatchRequest("UPDATE", {"id": "NON-LA-HUE", "sale_price": "72250 VND",
                                        "sale_price_effective_date": "2027-01-25/2027-01-24"}),
                BatchRequest("UPDATE", {"id": "AO-DAI-DO", "sale_price": "552500 VND",
                                        "sale_price_effective_date":
                                        "2027-01-25T00:00+07:00/2027-02-05T00:00+07:00"}),
            ],
            allow_upsert=False,
            lane=Lane.DEFAULT,
        )
        assert [o.ok for o in outcomes] == [False, True], outcomes
    finally:
        await channel.aclose()
        sandbox.close()
