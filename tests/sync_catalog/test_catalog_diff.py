"""The catalog diff (what plan() computes), without a store or a network."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from _sync_testkit import (
    MARKUP,
    SKU_HAT,
    SKU_RED_L,
    SKU_RED_M,
    ListingChannel,
    example_channel,
    hat,
    tshirt,
    vnd,
    with_refs,
)

from omnisdk.cli.engine_render import result_text
from omnisdk.models import Image, Money, ProductStatus, StockLevel, StockPushMode
from omnisdk.pricing import PricingRule, Rounding
from omnisdk.sync.catalog import (
    AccountView,
    ChangeKind,
    ChannelListings,
    ListedStock,
    Plan,
    base_price,
    diff_account,
    listed_stock,
)

MASTER = {"p-tshirt": tshirt(), "p-hat": hat()}
ALL_STOCK = {SKU_RED_M: 7, SKU_RED_L: 3, SKU_HAT: 12}


def view(*products, stock=None):
    return AccountView(ChannelListings(products), stock)


def test_marketplace_price_is_base_times_1_1_rounded_to_1000_vnd():
    # 129,000 * 1.1 = 141,900 -> 142,000; 85,000 * 1.1 = 93,500 -> 94,000 (half up).
    shown = view(with_refs(tshirt()), with_refs(hat(), product_id="prd_2"))
    price_only = MARKUP.model_copy(update={"owns": frozenset({"price"})})
    plan = diff_account("shopee", example_channel(), price_only, MASTER, shown, {})
    prices = {c.sku: c.price for c in plan.changes}
    assert [c.kind for c in plan.changes] == [ChangeKind.PRICE] * 3
    assert prices[SKU_RED_M].price == vnd(142_000)
    assert prices[SKU_HAT].price == vnd(94_000)
    change = plan.changes[0].field_change("price")
    assert change is not None and change.before == vnd(129_000) and change.after == vnd(142_000)


def test_prices_already_right_plan_nothing():
    shown = view(
        with_refs(tshirt(), {SKU_RED_M: 142_000, SKU_RED_L: 142_000}),
        with_refs(hat(), {SKU_HAT: 94_000}, product_id="prd_2"),
        stock={sku: ListedStock(quantity) for sku, quantity in ALL_STOCK.items()},
    )
    plan = diff_account("shopee", example_channel(), MARKUP, MASTER, shown, ALL_STOCK)
    assert plan.changes == []
    assert plan.skipped == []


def test_a_field_the_channel_owns_is_never_planned():
    rule = PricingRule(multiplier=Decimal("1.1"), round_to=Decimal(1000), owns=frozenset({"stock"}))
    shown = view(with_refs(tshirt(), {SKU_RED_M: 99_000}), stock={})
    plan = diff_account("shopee", example_channel(), rule, {"p": tshirt()}, shown, {})
    assert [c for c in plan.changes if c.kind is ChangeKind.PRICE] == []


def test_new_listing_is_created_with_channel_prices_when_the_channel_can():
    plan = diff_account(
        "lazada",
        example_channel(ListingChannel),
        MARKUP,
        MASTER,
        view(with_refs(hat()), stock={}),
        {SKU_RED_M: 4},
    )
    create = [c for c in plan.changes if c.kind is ChangeKind.CREATE]
    assert len(create) == 1
    product = create[0].product
    assert product is not None and product.title == "Áo thun cổ tròn"
    assert product.channel_ref is None
    assert [v.price for v in product.variants] == [vnd(142_000), vnd(142_000)]
    assert create[0].field_change("variants").after == [SKU_RED_M, SKU_RED_L]
    # Stock follows the new listing (its listed figure is unknown: no expected value).
    stock = {c.sku: c.stock for c in plan.changes if c.kind is ChangeKind.STOCK}
    assert stock[SKU_RED_M].quantity == 4 and stock[SKU_RED_M].expected is None
    # A new SKU without recorded stock is left alone, never zeroed.
    assert any(s.sku == SKU_RED_L and "never counted" in s.reason for s in plan.skipped)


def test_new_listing_is_skipped_with_a_reason_when_the_channel_cannot_create():
    plan = diff_account("shopee", example_channel(), MARKUP, MASTER, view(with_refs(hat())), {})
    assert [c.kind for c in plan.changes] == [ChangeKind.PRICE]
    reasons = {s.sku: s.reason for s in plan.skipped}
    assert "write_products" in reasons[SKU_RED_M] and SKU_RED_L in reasons


def test_inactive_master_products_are_not_listed_anew():
    master = {"p": tshirt(status=ProductStatus.ARCHIVED)}
    plan = diff_account("lazada", example_channel(ListingChannel), MARKUP, master, view(), {})
    assert plan.changes == []


def test_content_update_keeps_the_fields_the_channel_owns():
    rule = MARKUP.model_copy(update={"owns": frozenset({"title", "images", "price"})})
    on_channel = with_refs(
        tshirt(title="Ao thun co tron (SALE)"), {SKU_RED_M: 142_000, SKU_RED_L: 142_000}
    )
    on_channel = on_channel.model_copy(update={"description": "Mô tả riêng của sàn"})
    master = {"p": tshirt(images=[Image(url="https://cdn.example.vn/ao-do.jpg")])}
    plan = diff_account(
        "lazada", example_channel(ListingChannel), rule, master, view(on_channel), {}
    )
    [update] = plan.changes
    assert update.kind is ChangeKind.UPDATE
    assert {f.field for f in update.fields} == {"title", "images"}
    sent = update.product
    assert sent is not None
    assert sent.title == "Áo thun cổ tròn"
    assert [i.url for i in sent.images] == ["https://cdn.example.vn/ao-do.jpg"]
    assert sent.description == "Mô tả riêng của sàn"  # the channel's, untouched
    assert sent.channel_ref == on_channel.channel_ref  # the channel can find its listing
    assert sent.variants == on_channel.variants


def test_a_new_variant_of_a_listed_product_is_an_update_adding_it():
    on_channel = with_refs(
        tshirt().model_copy(update={"variants": tshirt().variants[:1]}), {SKU_RED_M: 142_000}
    )
    plan = diff_account(
        "lazada",
        example_channel(ListingChannel),
        MARKUP,
        {"p": tshirt()},
        view(on_channel, stock={}),
        {SKU_RED_L: 2},
    )
    update = next(c for c in plan.changes if c.kind is ChangeKind.UPDATE)
    assert update.field_change("variants").after == [SKU_RED_M, SKU_RED_L]
    added = update.product.variant(SKU_RED_L)
    assert added.price == vnd(142_000) and added.channel_ref is None
    assert [c.sku for c in plan.changes if c.kind is ChangeKind.STOCK] == [SKU_RED_L]


def test_stock_changes_follow_the_push_mode():
    shown = view(with_refs(hat(), {SKU_HAT: 94_000}), stock={SKU_HAT: ListedStock(5, "loc-hn")})
    cas = diff_account("shopee", example_channel(), MARKUP, {"p": hat()}, shown, {SKU_HAT: 9})
    [change] = cas.changes
    assert change.stock.quantity == 9 and change.stock.expected == 5
    assert change.stock.location == "loc-hn" and change.stock.delta is None

    class DeltaChannel(ListingChannel):
        limits = ListingChannel.limits.model_copy(update={"stock_push_mode": StockPushMode.DELTA})

    delta = diff_account(
        "shopee", example_channel(DeltaChannel), MARKUP, {"p": hat()}, shown, {SKU_HAT: 2}
    )
    assert delta.changes[0].stock.delta == -3 and delta.changes[0].stock.expected is None


def test_duplicate_and_foreign_currency_listings_are_skipped():
    twice = [with_refs(hat(), {SKU_HAT: 94_000}, product_id=f"prd_{i}") for i in (1, 2)]
    plan = diff_account("shopee", example_channel(), MARKUP, {"p": hat()}, view(*twice), {})
    assert plan.changes == []
    assert "2 times" in plan.skipped[0].reason

    usd = with_refs(hat()).model_copy(
        update={
            "variants": [
                with_refs(hat()).variants[0].model_copy(update={"price": Money.of("3.50", "USD")})
            ]
        }
    )
    plan = diff_account("shopee", example_channel(), MARKUP, {"p": hat()}, view(usd), {})
    assert plan.changes == []
    assert "USD" in plan.skipped[0].reason


def test_channels_that_cannot_read_are_not_blindly_overwritten():
    plan = diff_account("pos", example_channel(), MARKUP, MASTER, AccountView(None, None), {})
    assert plan.changes == []
    assert plan.skipped[0].sku == "*" and "read_products" in plan.skipped[0].reason


def test_plan_round_trips_through_json_and_renders_as_a_table():
    shown = view(with_refs(tshirt()), stock={SKU_RED_M: ListedStock(1)})
    account = diff_account(
        "shopee-hà-nội", example_channel(ListingChannel), MARKUP, MASTER, shown, ALL_STOCK
    )
    plan = Plan(created_at="2024-07-01T09:30:00Z", accounts=[account])
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    document = json.loads(plan.model_dump_json())
    price = next(c for c in document["accounts"][0]["changes"] if c["kind"] == "price")
    assert price["fields"][0]["after"] == {"amount": "142000", "currency": "VND"}
    text = result_text(plan, width=160)
    assert "shopee-hà-nội" in text and "142,000 VND" in text and "Nón lá Huế" in text
    assert plan.summary()["shopee-hà-nội"] == {
        "create": 1,
        "update": 0,
        "price": 2,
        "stock": 3,
        "skipped": 0,
    }


@pytest.mark.parametrize(
    ("listed", "base", "exact"),
    [(143_000, 130_000, True), (94_000, 85_455, True), (100, 91, False)],
)
def test_base_price_inverts_the_rule(listed, base, exact):
    assert base_price(MARKUP, vnd(listed)) == (vnd(base), exact)
    assert base_price(PricingRule(), vnd(listed)) == (vnd(listed), True)


def test_base_price_with_addition_and_rounding_down():
    rule = PricingRule(
        multiplier=Decimal("1.2"), add=Decimal(5000), round_to=Decimal(1000), rounding=Rounding.DOWN
    )
    price, exact = base_price(rule, vnd(125_000))
    assert exact and rule.apply(price) == vnd(125_000)


def test_listed_stock_sums_locations():
    levels = [
        StockLevel(sku=SKU_HAT, location="loc-hn", on_hand=3),
        StockLevel(sku=SKU_HAT, location="loc-q1", on_hand=4),
        StockLevel(sku=SKU_RED_M, location="loc-hn", on_hand=2),
    ]
    assert listed_stock(levels) == {
        SKU_HAT: ListedStock(7, None),
        SKU_RED_M: ListedStock(2, "loc-hn"),
    }
