"""Promotions: one price function for every channel; a plan that names what cannot follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from _engine_testkit import Account, MakeHarness, seed
from pydantic import ValidationError

from omnisdk.models import Money, Promotion, PromotionKind, PromotionMechanism
from omnisdk.sync.promotions import PromotionAction

SKU = "ÁO-DÀI-ĐỎ-M"
NOW = datetime.now(UTC)


def _tet(**changes: object) -> Promotion:
    fields: dict[str, object] = {
        "id": "tet-2027",
        "name": "Khuyến mãi Tết",
        "kind": PromotionKind.PERCENTAGE,
        "value": "15",
        "skus": (SKU,),
        "starts_at": NOW - timedelta(hours=1),
        "ends_at": NOW + timedelta(days=1),
        "opt_out": ("shop-b",),
    }
    fields.update(changes)
    return Promotion.model_validate(fields)


def test_the_promoted_price_is_the_same_function_everywhere() -> None:
    assert _tet().price(Money.of(649999, "VND")) == Money.of(552499, "VND")  # half up
    fixed = _tet(kind="fixed", value=None, amount=Money.of(700000, "VND"))
    assert fixed.price(Money.of(650000, "VND")) == Money.zero("VND")  # never below zero
    with pytest.raises(ValueError, match="the price is in USD"):
        fixed.price(Money.of("25.00", "USD"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"skus": ()}, "needs skus or tags"),
        ({"value": "100"}, "between 0 and 100"),
        ({"ends_at": NOW - timedelta(days=1)}, "is not after"),
        ({"kind": "fixed", "value": None}, "positive amount"),
        ({"value": 15.0}, "as a string"),
    ],
)
def test_bad_promotions_say_what_is_wrong(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _tet(**changes)


async def test_the_plan_says_which_channel_cannot_follow(make_harness: MakeHarness) -> None:
    shopify_sandbox = pytest.importorskip("omnisdk_shopify.sandbox.app")
    shopify_channel = pytest.importorskip("omnisdk_shopify.channel")
    harness = await make_harness(
        Account("shop-a"),
        Account("shop-b"),
        Account(
            "shopify-hcm",
            channel_class=shopify_channel.ShopifyChannel,
            sandbox=shopify_sandbox.ShopifySandbox(),
        ),
        promotions=(_tet(),),
    )
    await seed(harness, SKU, stock=3, price="650000")
    for account in ("shop-a", "shop-b", "shopify-hcm"):
        await harness.engine.import_catalog(account)

    plan = await harness.engine.plan_promotions()

    steps = {step.account: step for step in plan.steps}
    assert steps["shopify-hcm"].action is PromotionAction.SET
    assert steps["shopify-hcm"].mechanism is PromotionMechanism.COMPARE_AT
    assert steps["shopify-hcm"].promoted == Money.of(552500, "VND")
    assert steps["shop-a"].action is PromotionAction.UNSUPPORTED  # declares no mechanism
    assert steps["shop-b"].action is PromotionAction.OPTED_OUT
    assert steps["shop-b"].promoted == steps["shop-b"].base
    assert [step.account for step in plan.unsupported()] == ["shop-a"]
    assert (await harness.engine.plan_promotions(NOW + timedelta(days=2))).steps == []


def test_config_times_without_a_zone_are_the_shops() -> None:
    from omnisdk.config import Config

    config = Config.model_validate(
        {
            "engine": {"timezone": "Asia/Bangkok"},
            "promotions": [
                {
                    "id": "sale-12-12",
                    "name": "Siêu sale 12.12",
                    "kind": "fixed",
                    "amount": {"amount": "20000", "currency": "VND"},
                    "tags": ["sale"],
                    "starts_at": datetime(2026, 12, 12),
                    "ends_at": "2026-12-13T00:00:00",
                }
            ],
        }
    )
    [promotion] = config.promotions
    assert promotion.starts_at == datetime(2026, 12, 11, 17, 0, tzinfo=UTC)
    assert promotion.ends_at - promotion.starts_at == timedelta(days=1)
