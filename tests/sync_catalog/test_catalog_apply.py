"""plan() and apply() against Example sandboxes and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from _sync_testkit import BACKENDS, MARKUP, SKU_DRESS, SKU_HAT, SKU_RED_L, SKU_RED_M, Account, vnd

from omnisdk.cli.engine_render import result_text
from omnisdk.pricing import PricingRule
from omnisdk.store import BindingKind
from omnisdk.sync.catalog import ChangeKind, Plan

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

POS = "pos-quận-1"
SHOPEE = "shopee-hà-nội"
LAZADA = "lazada-main"

CATALOG = [
    {
        "sku": SKU_RED_M,
        "title": "Áo thun cổ tròn",
        "product": "Áo thun cổ tròn",
        "options": {"Size": "M"},
        "price": "129000",
        "stock": 5,
    },
    {
        "sku": SKU_RED_L,
        "title": "Áo thun cổ tròn",
        "product": "Áo thun cổ tròn",
        "options": {"Size": "L"},
        "price": "129000",
        "stock": 3,
    },
    {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000", "stock": 12},
]


def listed_prices(world, account):
    return {entry["sku"]: entry["price"] for entry in world.sandbox(account).listings()}


async def shop_with_master(make_world, *more):
    """A POS account holding the master catalog (imported), plus ``more`` accounts."""
    world = await make_world(Account(POS), *more)
    await world.shops[POS].control.seed(CATALOG)
    await world.engine.import_catalog(POS)
    return world


async def test_plan_prices_a_marketplace_through_its_rule_and_apply_sends_them(make_world):
    world = await shop_with_master(make_world, Account(SHOPEE, pricing=MARKUP))
    # Shopee lists everything at the base price: the 10% mark-up is missing.
    await world.shops[SHOPEE].control.seed(CATALOG)
    await world.engine.import_catalog(SHOPEE)

    plan = await world.engine.plan()

    assert plan.account(POS).changes == []
    shopee = plan.account(SHOPEE)
    assert {c.sku: (c.kind, c.price.price) for c in shopee.changes} == {
        SKU_RED_M: (ChangeKind.PRICE, vnd(142_000)),
        SKU_RED_L: (ChangeKind.PRICE, vnd(142_000)),
        SKU_HAT: (ChangeKind.PRICE, vnd(94_000)),
    }
    assert "142,000 VND" in result_text(plan, width=140)

    stats = await world.engine.apply(plan)

    assert (stats.sent, stats.succeeded, stats.failed) == (3, 3, 0)
    assert stats.account(SHOPEE).sent_by_kind == {ChangeKind.PRICE: 3}
    assert listed_prices(world, SHOPEE) == {
        SKU_RED_M: "142000",
        SKU_RED_L: "142000",
        SKU_HAT: "94000",
    }
    assert listed_prices(world, POS) == {SKU_RED_M: "129000", SKU_RED_L: "129000", SKU_HAT: "85000"}

    # Idempotent: the same plan again sends nothing, and a new plan is empty.
    requests = len(world.sandbox(SHOPEE).operations("price.write"))
    again = await world.engine.apply(plan)
    assert (again.sent, again.unchanged) == (0, 3)
    assert len(world.sandbox(SHOPEE).operations("price.write")) == requests
    assert (await world.engine.plan()).is_empty


async def test_a_saved_plan_is_applied_like_a_fresh_one(make_world):
    world = await shop_with_master(make_world, Account(SHOPEE, pricing=MARKUP))
    await world.shops[SHOPEE].control.seed(CATALOG[2:])
    saved = (await world.engine.plan([SHOPEE])).model_dump_json()

    stats = await world.engine.apply(Plan.model_validate_json(saved))

    assert stats.succeeded == 1
    assert listed_prices(world, SHOPEE) == {SKU_HAT: "94000"}


async def test_master_price_change_flows_to_every_channel(make_world):
    world = await shop_with_master(make_world, Account(SHOPEE, pricing=MARKUP))
    await world.shops[SHOPEE].control.seed([{**CATALOG[2], "price": "94000"}])
    assert (await world.engine.plan()).is_empty

    # A promotion: the hat goes down to 79,000 in the master catalog.
    store = world.engine.store
    stored = store.get_product(store.get_variant(SKU_HAT).product_id)
    hat = stored.product.model_copy(
        update={"variants": [stored.product.variants[0].model_copy(update={"price": vnd(79_000)})]}
    )
    store.upsert_product(hat, product_id=stored.id)

    stats = await world.engine.apply()  # plans itself

    assert stats.succeeded == 2
    assert listed_prices(world, POS)[SKU_HAT] == "79000"
    assert listed_prices(world, SHOPEE)[SKU_HAT] == "87000"  # 79,000 * 1.1 = 86,900 -> 87,000


async def test_new_listings_are_created_bound_and_never_sent_twice(make_world):
    world = await shop_with_master(make_world, Account(LAZADA, pricing=MARKUP, listings=True))

    plan = await world.engine.plan([LAZADA])
    creates = [c for c in plan.account(LAZADA).changes if c.kind is ChangeKind.CREATE]
    assert sorted(c.product.title for c in creates) == ["Nón lá Huế", "Áo thun cổ tròn"]
    # No stock is recorded yet: the new listings' stock is left alone, never zeroed.
    assert {s.sku for s in plan.account(LAZADA).skipped} == {SKU_RED_M, SKU_RED_L, SKU_HAT}

    stats = await world.engine.apply(plan)

    assert stats.account(LAZADA).sent_by_kind == {ChangeKind.CREATE: 2}
    sandbox = world.sandbox(LAZADA)
    assert listed_prices(world, LAZADA) == {
        SKU_RED_M: "142000",
        SKU_RED_L: "142000",
        SKU_HAT: "94000",
    }
    store = world.engine.store
    assert store.bindings_of(LAZADA, BindingKind.VARIANT) == {
        sku: variant.id for sku, variant in sandbox.variants.items()
    }
    tshirt_id = store.get_variant(SKU_RED_M).product_id
    assert (
        store.external_id_for(LAZADA, BindingKind.PRODUCT, tshirt_id)
        == sandbox.variants[SKU_RED_M].product_id
    )

    again = await world.engine.apply(plan)
    assert (again.sent, again.unchanged) == (0, 2)
    assert len(sandbox.products) == 2
    assert [c for c in (await world.engine.plan([LAZADA])).changes] == []


async def test_a_new_master_variant_is_added_to_the_existing_listing(make_world):
    world = await shop_with_master(make_world, Account(LAZADA, pricing=MARKUP, listings=True))
    await world.engine.apply(await world.engine.plan([LAZADA]))
    store = world.engine.store
    stored = store.get_product(store.get_variant(SKU_RED_M).product_id)
    xl = stored.product.variants[0].model_copy(
        update={"sku": "ÁO-THUN-ĐỎ-XL", "options": {"Size": "XL"}}
    )
    store.upsert_product(
        stored.product.model_copy(update={"variants": [*stored.product.variants, xl]}),
        product_id=stored.id,
    )

    plan = await world.engine.plan([LAZADA])
    [update] = plan.account(LAZADA).changes
    assert update.kind is ChangeKind.UPDATE
    assert update.field_change("variants").after == [SKU_RED_M, SKU_RED_L, "ÁO-THUN-ĐỎ-XL"]
    await world.engine.apply(plan)

    sandbox = world.sandbox(LAZADA)
    assert sandbox.variants["ÁO-THUN-ĐỎ-XL"].product_id == sandbox.variants[SKU_RED_M].product_id
    assert sandbox.variants["ÁO-THUN-ĐỎ-XL"].price == 142_000
    assert (
        store.external_id_for(LAZADA, BindingKind.VARIANT, "ÁO-THUN-ĐỎ-XL")
        == sandbox.variants["ÁO-THUN-ĐỎ-XL"].id
    )


async def test_fields_the_channel_owns_are_never_overwritten(make_world):
    title_only = PricingRule(owns=frozenset({"title"}))
    world = await shop_with_master(make_world, Account(LAZADA, pricing=title_only, listings=True))
    await world.shops[LAZADA].control.seed(
        [
            {"sku": SKU_HAT, "title": "Non la Hue (khong dau)", "price": "99000", "stock": 4},
        ]
    )

    plan = await world.engine.plan([LAZADA])

    kinds = {(c.kind, c.sku) for c in plan.account(LAZADA).changes}
    assert (ChangeKind.UPDATE, SKU_HAT) in kinds
    assert all(c.kind is not ChangeKind.PRICE for c in plan.account(LAZADA).changes)
    # The channel edits its own price after the plan was made: apply must keep it.
    sandbox = world.sandbox(LAZADA)
    with sandbox.lock:
        sandbox.variants[SKU_HAT].price = 101_000
    await world.engine.apply(plan)
    with sandbox.lock:
        hat = sandbox.variants[SKU_HAT]
        assert sandbox.products[hat.product_id].title == "Nón lá Huế"
        assert hat.price == 101_000 and hat.stock == 4


async def test_a_refused_item_never_stops_the_others(make_world):
    world = await shop_with_master(make_world, Account(SHOPEE, pricing=MARKUP))
    await world.shops[SHOPEE].control.seed(CATALOG)
    sandbox = world.sandbox(SHOPEE)
    set_price = sandbox.set_price

    def refuse_the_hat(item):
        if item.get("sku") == SKU_HAT:
            return {
                "sku": SKU_HAT,
                "ok": False,
                "error": "item_banned",
                "message": "sản phẩm bị khoá",
            }
        return set_price(item)

    sandbox.set_price = refuse_the_hat
    fired = []

    class Recorder:
        from omnisdk import hookimpl

        @hookimpl
        def omnisdk_push_failed(self, account, key, error, retryable):
            fired.append((account, key, error))

    world.engine.plugins.register(Recorder(), name="recorder")
    stats = await world.engine.apply()

    assert (stats.sent, stats.succeeded, stats.failed) == (3, 2, 1)
    [failure] = stats.failures
    assert (failure.sku, failure.code, failure.kind) == (SKU_HAT, "item_banned", ChangeKind.PRICE)
    assert fired == [(SHOPEE, SKU_HAT, "sản phẩm bị khoá")]
    assert listed_prices(world, SHOPEE)[SKU_RED_M] == "142000"
    # The failure is still planned, the rest is done.
    assert [c.sku for c in (await world.engine.plan([SHOPEE])).changes] == [SKU_HAT]


async def test_an_unreachable_account_is_reported_and_the_others_planned(make_world):
    world = await shop_with_master(make_world, Account(SHOPEE, pricing=MARKUP))
    await world.shops[SHOPEE].control.seed(CATALOG[2:])
    await world.shops[POS].control.set_faults(error_rate=1.0, error_statuses=[503])

    plan = await world.engine.plan()

    assert plan.account(POS).error is not None
    assert [c.sku for c in plan.account(SHOPEE).changes] == [SKU_HAT]
    text = result_text(plan, width=160)
    assert "error" in text


async def test_unknown_and_stopped_accounts_get_an_error_not_an_exception(make_world):
    world = await shop_with_master(make_world, Account(SHOPEE, pricing=MARKUP))
    await asyncio.to_thread(world.engine.store.set_account_status, SHOPEE, "archived")

    plan = await world.engine.plan([SHOPEE, "tiki-typo", POS])

    assert "archived" in plan.account(SHOPEE).error
    assert "tiki-typo" in plan.account("tiki-typo").error
    assert plan.account(POS).error is None


async def test_a_dress_only_on_one_channel_is_listed_on_the_others(make_world):
    world = await shop_with_master(make_world, Account(LAZADA, pricing=MARKUP, listings=True))
    await world.shops[POS].control.seed(
        [{"sku": SKU_DRESS, "title": "Áo dài lụa xanh", "price": "1250000", "stock": 1}]
    )
    await world.engine.import_catalog(POS)

    await world.engine.apply(await world.engine.plan([LAZADA]))

    assert listed_prices(world, LAZADA)[SKU_DRESS] == "1375000"
