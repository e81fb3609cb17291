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


async def test_overlapping_promotions_and_missing_settings_are_named_in_the_plan(
    make_harness: MakeHarness,
) -> None:
    shopify_sandbox = pytest.importorskip("omnisdk_shopify.sandbox.app")
    shopify_channel = pytest.importorskip("omnisdk_shopify.channel")
    pos_channel = pytest.importorskip("omnisdk_pos.channel")
    pos_sandbox = pytest.importorskip("omnisdk_pos.sandbox.app")
    shopee_channel = pytest.importorskip("omnisdk_shopee.channel")
    shopee_sandbox = pytest.importorskip("omnisdk_shopee.sandbox.app")
    flash = _tet(
        id="flash-sale", name="Giờ vàng", value="30", opt_out=(),
        starts_at=NOW + timedelta(minutes=10), ends_at=NOW + timedelta(hours=2),
    )
    later = _tet(id="thang-3", name="Tháng 3", opt_out=(),
                 starts_at=NOW + timedelta(days=30), ends_at=NOW + timedelta(days=31))
    harness = await make_harness(
        Account("shopify-hcm", channel_class=shopify_channel.ShopifyChannel,
                sandbox=shopify_sandbox.ShopifySandbox()),
        Account("pos-q1", channel_class=pos_channel.PosChannel,
                sandbox=pos_sandbox.KiotVietSandbox(), settings={"promotion_price_book": None}),
        Account("shopee-vn", channel_class=shopee_channel.ShopeeChannel,
                sandbox=shopee_sandbox.ShopeeSandbox()),
        promotions=(_tet(opt_out=()), flash, later),
    )
    await seed(harness, SKU, stock=3, price="650000")
    for account in ("shopify-hcm", "pos-q1", "shopee-vn"):
        await harness.engine.import_catalog(account)

    plan = await harness.engine.plan_promotions()

    steps = {(step.promotion, step.account): step for step in plan.steps}
    clash = steps[("tet-2027", "shopify-hcm")]
    assert clash.action is PromotionAction.CONFLICT
    assert clash.reason == "promotion flash-sale covers it at an overlapping time"
    assert clash.promoted == clash.base and not clash.due
    assert steps[("thang-3", "shopify-hcm")].action is PromotionAction.SET  # no overlap
    assert not steps[("thang-3", "shopify-hcm")].due  # compare-at: written at its start
    pos = steps[("thang-3", "pos-q1")]
    assert pos.action is PromotionAction.UNSUPPORTED
    assert "set promotion_price_book" in (pos.reason or "")
    shopee = steps[("flash-sale", "shopee-vn")]
    assert shopee.action is PromotionAction.CONFLICT  # tet-2027 covers it on Shopee too
    soon = steps[("thang-3", "shopee-vn")]
    assert soon.action is PromotionAction.SET and soon.due and soon.reason is None
    assert plan.to_write() == [soon]  # the only step a run would write now
    late = await harness.engine.plan_promotions(NOW + timedelta(days=30) - timedelta(minutes=30))
    [note] = [s for s in late.steps if (s.promotion, s.account) == ("thang-3", "shopee-vn")]
    assert note.action is PromotionAction.SET
    assert note.reason == (
        "starts here 1 h 00 min after it is written at the earliest (the platform needs that "
        "notice)"
    )


async def test_a_promotion_by_tag_covers_the_tagged_products_variants_only(
    make_harness: MakeHarness,
) -> None:
    """``tags`` is the catalog filter: every variant of a product carrying one of them, and
    nothing else (issue #16: "SKUs or a filter")."""
    from omnisdk.models import Product, Variant

    shopify_sandbox = pytest.importorskip("omnisdk_shopify.sandbox.app")
    shopify_channel = pytest.importorskip("omnisdk_shopify.channel")
    tagged = ("NÓN-LÁ-S", "NÓN-LÁ-M")
    harness = await make_harness(
        Account(
            "shopify-hcm",
            channel_class=shopify_channel.ShopifyChannel,
            sandbox=shopify_sandbox.ShopifySandbox(),
        ),
        promotions=(_tet(skus=(), tags=("tet",), opt_out=()),),
    )
    store = harness.store
    price = Money.of(650000, "VND")
    store.upsert_product(
        Product(title="Nón lá", tags=["tet", "thủ công"],
                variants=[Variant(sku=sku, title=sku, price=price) for sku in tagged])
    )
    store.upsert_product(
        Product(title="Áo dài", variants=[Variant(sku=SKU, title=SKU, price=price)])
    )
    await seed(harness, *tagged, SKU, stock=3, price="650000")
    await harness.engine.import_catalog("shopify-hcm")
    [stored] = [p for p in store.iter_products() if "NÓN-LÁ-S" in p.product.skus]
    assert "tet" in stored.product.tags

    plan = await harness.engine.plan_promotions()

    assert {step.sku for step in plan.steps} == set(tagged)
    assert {step.action for step in plan.steps} == {PromotionAction.SET}
