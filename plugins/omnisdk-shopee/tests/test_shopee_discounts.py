"""Shop discounts: the sandbox keeps Shopee's rules, the channel writes promotions through
them (found again by name, never twice), buyers pay the discount price while it runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from shopee_testkit import START, channel, frozen_sandbox, order, requests_to, seed

from omnisdk.errors import ChannelError
from omnisdk.models import Money, PromotionItem, PromotionWrite

HOUR = 3600


def _vnd(amount: int) -> Money:
    return Money.of(amount, "VND")


def _promotion(**changes: Any) -> PromotionWrite:
    fields: dict[str, Any] = {
        "id": "tet-2027",
        "name": "Khuyến mãi Tết",
        "starts_at": START + timedelta(hours=2),
        "ends_at": START + timedelta(days=1),
        "items": (
            PromotionItem(
                sku="NON-LA-HUE", base=Money.of(85000, "VND"), promoted=Money.of(72250, "VND")
            ),
            PromotionItem(
                sku="AO-DAI-DO", base=Money.of(650000, "VND"), promoted=Money.of(552500, "VND")
            ),
        ),
    }
    fields.update(changes)
    return PromotionWrite.model_validate(fields)


async def test_a_promotion_is_one_discount_found_again_by_name_and_buyers_pay_it() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    try:
        first = await shop.write_promotion(_promotion())
        assert [r.ok for r in first] == [True, True], first
        again = await shop.write_promotion(_promotion())
        assert [r.external_id for r in again] == [r.external_id for r in first]
        assert len(requests_to(sandbox, "/api/v2/discount/add_discount")) == 1
        assert len(requests_to(sandbox, "/api/v2/discount/add_discount_item")) == 1
        [discount] = sandbox.catalog.discounts.values()
        assert discount.name == "Khuyến mãi Tết [tet-2027]"
        assert discount.start == int((START + timedelta(hours=2)).timestamp())

        sandbox.clock.advance(2 * HOUR)
        shop.clock = sandbox.clock.now
        prices = await shop.read_selling_prices(["NON-LA-HUE", "AO-DAI-DO"])
        assert prices == {"NON-LA-HUE": _vnd(72250), "AO-DAI-DO": _vnd(552500)}
        order_sn = order(sandbox, {"AO-DAI-DO": 1})
        [line] = sandbox.orders[order_sn].lines
        assert line.price == Decimal(552500)

        # A price that moved is changed in place, not added twice.
        moved = _promotion(items=(_promotion().items[0].model_copy(
            update={"promoted": Money.of(70000, "VND")}
        ),))
        assert (await shop.write_promotion(moved))[0].ok
        assert len(requests_to(sandbox, "/api/v2/discount/update_discount_item")) == 1
        assert (await shop.read_selling_prices(["NON-LA-HUE"]))["NON-LA-HUE"] == Money.of(
            70000, "VND"
        )
    finally:
        await shop.aclose()
        sandbox.close()


async def test_a_promotion_starting_within_the_hour_starts_an_hour_after_it_is_written() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    try:
        results = await shop.write_promotion(_promotion(starts_at=START - timedelta(minutes=5)))
        assert all(r.ok for r in results), results
        [discount] = sandbox.catalog.discounts.values()
        assert discount.start == int((START + timedelta(hours=1, minutes=1)).timestamp())
        short = _promotion(id="gio-vang", starts_at=START, ends_at=START + timedelta(minutes=90))
        refused = await shop.write_promotion(short)
        assert {r.code for r in refused} == {"discount_too_late"}
    finally:
        await shop.aclose()
        sandbox.close()


async def test_ending_before_during_and_after_each_leaves_the_base_price() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    try:
        written = await shop.write_promotion(_promotion())
        applied = _promotion(
            items=tuple(
                item.model_copy(update={"external_id": result.external_id})
                for item, result in zip(_promotion().items, written, strict=True)
            )
        )
        assert all(r.ok for r in await shop.end_promotion(applied))  # not started: deleted
        assert requests_to(sandbox, "/api/v2/discount/delete_discount")
        assert all(r.ok for r in await shop.end_promotion(applied))  # gone: nothing to do

        again = await shop.write_promotion(_promotion(id="tet-2028"))
        sandbox.clock.advance(3 * HOUR)
        ids = tuple(
            item.model_copy(update={"external_id": result.external_id})
            for item, result in zip(_promotion().items, again, strict=True)
        )
        running = _promotion(id="tet-2028", items=ids)
        assert all(r.ok for r in await shop.end_promotion(running))  # running: ended now
        assert requests_to(sandbox, "/api/v2/discount/end_discount")
        prices = await shop.read_selling_prices(["NON-LA-HUE", "AO-DAI-DO"])
        assert prices == {"NON-LA-HUE": _vnd(85000), "AO-DAI-DO": _vnd(650000)}
        assert all(r.ok for r in await shop.end_promotion(running))  # expired: nothing
    finally:
        await shop.aclose()
        sandbox.close()


@pytest.mark.parametrize(
    ("promoted", "code"),
    [(85000, "discount.error_price"), (90000, "discount.error_price")],
)
async def test_a_promotion_price_not_below_the_price_fails_that_item_alone(
    promoted: int, code: str
) -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    try:
        items = (
            PromotionItem(
                sku="NON-LA-HUE", base=Money.of(85000, "VND"), promoted=Money.of(promoted, "VND")
            ),
            _promotion().items[1],
        )
        results = await shop.write_promotion(_promotion(items=items))
        assert [(r.ok, r.code) for r in results] == [(False, code), (True, None)]
    finally:
        await shop.aclose()
        sandbox.close()


async def test_one_model_cannot_be_in_two_overlapping_discounts() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    try:
        assert all(r.ok for r in await shop.write_promotion(_promotion()))
        other = await shop.write_promotion(_promotion(id="flash", name="Giờ vàng"))
        assert {r.code for r in other} == {"discount.error_item_in_promotion"}
    finally:
        await shop.aclose()
        sandbox.close()


async def test_a_promotion_over_180_days_fails_clearly_and_the_sandbox_refuses_one_too() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    try:
        long = _promotion(ends_at=START + timedelta(hours=2, days=181))
        refused = await shop.write_promotion(long)
        assert {r.code for r in refused} == {"discount_too_long"}
        assert requests_to(sandbox, "/api/v2/discount/add_discount") == []
        start = int((START + timedelta(hours=2)).timestamp())
        for end, code in (
            (start + 181 * 86400, "discount.discount_period_too_long"),
            (start + 600, "discount.discount_period_too_short"),
        ):
            with pytest.raises(ChannelError) as error:
                await shop.client.post(
                    "/api/v2/discount/add_discount",
                    {"discount_name": "Dài quá", "start_time": start, "end_time": end},
                )
            assert getattr(error.value, "code", None) == code
        now = int(START.timestamp())
        with pytest.raises(ChannelError) as early:
            await shop.client.post(
                "/api/v2/discount/add_discount",
                {"discount_name": "Sớm quá", "start_time": now + 60, "end_time": now + 86400},
            )
        assert getattr(early.value, "code", None) == "discount.discount_start_time_smaller_than_now"
    finally:
        await shop.aclose()
        sandbox.close()
