"""import_catalog: bootstrap the master catalog from a channel, bind a second one by SKU."""

from __future__ import annotations

import pytest
from _sync_testkit import BACKENDS, MARKUP, SKU_DRESS, SKU_HAT, SKU_RED_L, SKU_RED_M, Account, vnd

from omnisdk.errors import StoreError, UnsupportedOperation
from omnisdk.store import BindingKind
from omnisdk.sync.catalog import ConflictKind

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

SHOPIFY = "shopify-hcm"
SHOPEE = "shopee-hà-nội"


def tshirt_seed(price_m: int = 129_000, price_l: int = 129_000, *, title: str = "Áo thun cổ tròn"):
    return [
        {
            "sku": SKU_RED_M,
            "title": title,
            "product": title,
            "options": {"Size": "M"},
            "price": str(price_m),
            "stock": 5,
        },
        {
            "sku": SKU_RED_L,
            "title": title,
            "product": title,
            "options": {"Size": "L"},
            "price": str(price_l),
            "stock": 3,
        },
    ]


async def test_first_import_builds_the_master_catalog_and_binds_it(make_world):
    world = await make_world(Account(SHOPIFY))
    shop = world.shops[SHOPIFY]
    await shop.control.seed(
        [*tshirt_seed(), {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000", "stock": 12}]
    )

    stats = await world.engine.import_catalog(SHOPIFY)

    assert (stats.products_seen, stats.variants_seen) == (2, 3)
    assert (stats.products_created, stats.variants_created, stats.variants_matched) == (2, 3, 0)
    assert stats.bindings_created == 5  # 3 variants + 2 products
    assert stats.conflicts == [] and stats.failures == []
    store = world.engine.store
    master = {p.product.title: p for p in store.iter_products()}
    assert set(master) == {"Áo thun cổ tròn", "Nón lá Huế"}
    tshirt = master["Áo thun cổ tròn"].product
    assert tshirt.skus == [SKU_RED_M, SKU_RED_L]
    assert tshirt.channel_ref is None and tshirt.variants[0].channel_ref is None
    assert store.get_variant(SKU_HAT).variant.price == vnd(85_000)
    sandbox = shop.sandbox
    assert store.bindings_of(SHOPIFY, BindingKind.VARIANT) == {
        sku: variant.id for sku, variant in sandbox.variants.items()
    }
    assert store.bindings_of(SHOPIFY, BindingKind.PRODUCT) == {
        master["Áo thun cổ tròn"].id: sandbox.variants[SKU_RED_M].product_id,
        master["Nón lá Huế"].id: sandbox.variants[SKU_HAT].product_id,
    }


async def test_second_channel_binds_by_sku_and_the_master_price_wins(make_world):
    world = await make_world(Account(SHOPIFY), Account(SHOPEE, pricing=MARKUP))
    await world.shops[SHOPIFY].control.seed(tshirt_seed())
    await world.engine.import_catalog(SHOPIFY)
    # Shopee titles the product differently (no title matching), prices it at base * 1.1
    # rounded to 1,000 VND, except the L size, and lists a dress the master does not have.
    await world.shops[SHOPEE].control.seed(
        [
            *tshirt_seed(142_000, 150_000, title="Áo phông đỏ nam nữ"),
            {"sku": SKU_DRESS, "title": "Áo dài lụa xanh", "price": "143000", "stock": 2},
        ]
    )

    stats = await world.engine.import_catalog(SHOPEE)

    assert (stats.variants_matched, stats.variants_created, stats.products_created) == (2, 1, 1)
    [conflict] = stats.conflicts
    assert conflict.kind is ConflictKind.PRICE and conflict.sku == SKU_RED_L
    assert conflict.master_price == vnd(129_000)
    assert conflict.expected_price == vnd(142_000)
    assert conflict.listed_price == vnd(150_000)
    store = world.engine.store
    # The master is unchanged: its title and prices stay.
    tshirt = store.get_product(store.get_variant(SKU_RED_L).product_id).product
    assert tshirt.title == "Áo thun cổ tròn"
    assert [v.price for v in tshirt.variants] == [vnd(129_000), vnd(129_000)]
    # The dress is new: its master price is taken back through the rule (143,000 / 1.1).
    assert store.get_variant(SKU_DRESS).variant.price == vnd(130_000)
    sandbox = world.sandbox(SHOPEE)
    assert store.bindings_of(SHOPEE, BindingKind.VARIANT) == {
        sku: variant.id for sku, variant in sandbox.variants.items()
    }
    # Shopee's T-shirt listing is bound to the master T-shirt product.
    assert (
        store.external_id_for(
            SHOPEE, BindingKind.PRODUCT, tshirt_id := store.get_variant(SKU_RED_M).product_id
        )
        == sandbox.variants[SKU_RED_M].product_id
    )
    assert tshirt_id


async def test_import_is_idempotent_and_reports_duplicate_skus(make_world):
    world = await make_world(Account(SHOPIFY))
    await world.shops[SHOPIFY].control.seed(
        [
            {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000"},
        ]
    )
    first = await world.engine.import_catalog(SHOPIFY)
    again = await world.engine.import_catalog(SHOPIFY)
    assert first.bindings_created == 2
    assert (again.products_created, again.variants_created, again.bindings_created) == (0, 0, 0)
    assert again.variants_matched == 1 and again.conflicts == []

    # The platform lets a second listing reuse the SKU: only the first is bound, it is reported.
    sandbox = world.sandbox(SHOPIFY)
    with sandbox.lock:
        original = sandbox.variants[SKU_HAT]
        del sandbox.variants[SKU_HAT]
    await world.shops[SHOPIFY].control.seed(
        [
            {"sku": SKU_HAT, "title": "Nón lá (bản sao)", "price": "85000"},
        ]
    )
    with sandbox.lock:
        sandbox.variants[SKU_HAT] = original
    stats = await world.engine.import_catalog(SHOPIFY)
    assert [c.kind for c in stats.conflicts] == [ConflictKind.DUPLICATE_SKU]
    assert world.engine.store.bindings_of(SHOPIFY, BindingKind.VARIANT) == {SKU_HAT: original.id}


async def test_a_listing_bound_elsewhere_is_reported_not_rebound(make_world):
    world = await make_world(Account(SHOPIFY))
    await world.shops[SHOPIFY].control.seed(
        [
            {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000"},
            {"sku": SKU_DRESS, "title": "Áo dài lụa xanh", "price": "130000"},
        ]
    )
    store = world.engine.store
    # Another worker already bound the hat's listing id to a different master object.
    hat_product = world.sandbox(SHOPIFY).variants[SKU_HAT].product_id
    store.bind(SHOPIFY, BindingKind.PRODUCT, "another-product", hat_product)

    stats = await world.engine.import_catalog(SHOPIFY)

    assert stats.variants_created == 2
    [conflict] = stats.conflicts
    assert conflict.kind is ConflictKind.BINDING and conflict.external_id == hat_product
    assert store.get_variant(SKU_DRESS) is not None


async def test_a_listing_that_cannot_be_stored_is_quarantined_and_the_rest_go_on(
    make_world, monkeypatch
):
    world = await make_world(Account(SHOPIFY))
    await world.shops[SHOPIFY].control.seed(
        [
            {"sku": SKU_DRESS, "title": "Áo dài lụa xanh", "price": "130000"},
            {"sku": SKU_HAT, "title": "Nón lá Huế", "price": "85000"},
        ]
    )
    store = world.engine.store
    save = store.upsert_product

    def refuse_the_dress(product, **kwargs):
        if SKU_DRESS in product.skus:
            raise StoreError("disk full while saving the dress")
        return save(product, **kwargs)

    monkeypatch.setattr(store, "upsert_product", refuse_the_dress)
    stats = await world.engine.import_catalog(SHOPIFY)

    [failure] = stats.failures
    assert "disk full" in failure.error
    assert stats.variants_created == 1 and store.get_variant(SKU_HAT) is not None
    assert store.get_variant(SKU_DRESS) is None
    assert store.bindings_of(SHOPIFY, BindingKind.VARIANT) == {
        SKU_HAT: world.sandbox(SHOPIFY).variants[SKU_HAT].id
    }  # nothing half done
    [entry] = store.list_quarantine(account=SHOPIFY)
    assert entry.kind == "product" and "disk full" in entry.reason
    assert entry.payload["title"] == "Áo dài lụa xanh"


async def test_import_needs_a_channel_that_reads_products(make_world, monkeypatch):
    world = await make_world(Account(SHOPIFY))
    channel = world.channel(SHOPIFY)
    monkeypatch.setattr(channel, "capabilities", frozenset())
    with pytest.raises(UnsupportedOperation, match="read_products"):
        await world.engine.import_catalog(SHOPIFY)
