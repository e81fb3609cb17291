"""Products, variants (by SKU) with content hashes, and locations."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from _store_testkit import HANOI, HCM, SKU_RED_L, SKU_RED_M, FakeClock, make_product, vnd
from sqlalchemy import select

from omnisdk.errors import StoreError
from omnisdk.models import ChannelRef, Location, LocationKind, Money
from omnisdk.store import Store
from omnisdk.store.schema import variants


def test_product_round_trip(store: Store) -> None:
    product = make_product()
    saved = store.upsert_product(product)
    assert saved.created and saved.product_changed
    assert saved.changed_skus == (SKU_RED_M, SKU_RED_L)
    stored = store.get_product(saved.product_id)
    assert stored is not None
    assert stored.product == product
    assert stored.product.variants[0].weight_grams == Decimal("180.5")
    variant = store.get_variant(SKU_RED_M)
    assert variant is not None
    assert variant.product_id == saved.product_id
    assert variant.variant.price == Money.of(129000, "VND")
    assert store.get_product("nope") is None
    assert store.get_variant("NOPE") is None


def test_prices_are_stored_exactly_as_minor_units(store: Store) -> None:
    store.upsert_product(make_product(SKU_RED_M, price=129000))
    with store.session() as s:
        price, currency = s.execute(
            select(variants.c.price_minor, variants.c.currency).where(variants.c.sku == SKU_RED_M)
        ).one()
    assert (price, currency) == (129000, "VND")
    assert isinstance(price, int)


def test_only_what_changed_is_reported(make_store: Callable[..., Store]) -> None:
    clock = FakeClock()
    store = make_store(clock=clock)
    first = store.upsert_product(make_product())
    before = store.get_variant(SKU_RED_L)
    clock.advance(60)
    # Same content, new raw payload and source: nothing to send.
    ref = ChannelRef(channel="shopee", account="shopee-hanoi", external_id="99")
    same = store.upsert_product(make_product(raw={"item_id": 99}, channel_ref=ref))
    assert (same.product_id, same.created, same.product_changed, same.changed_skus) == (
        first.product_id,
        False,
        False,
        (),
    )
    # A new price on one size: only that SKU changed.
    repriced = make_product()
    repriced.variants[0].price = vnd(119000)
    result = store.upsert_product(repriced)
    assert (result.product_changed, result.changed_skus) == (False, (SKU_RED_M,))
    after = store.get_variant(SKU_RED_L)
    assert before is not None and after is not None
    assert after.content_hash == before.content_hash
    assert after.updated_at == before.updated_at  # untouched variants keep their time
    changed = store.get_variant(SKU_RED_M)
    assert changed is not None and changed.updated_at == clock.now
    # A new title is a product-level change.
    renamed = store.upsert_product(make_product(title="Áo thun cổ tròn nam"))
    assert renamed.product_changed and renamed.changed_skus == (SKU_RED_M,)


def test_variants_removed_from_a_product_are_deleted(store: Store) -> None:
    saved = store.upsert_product(make_product(SKU_RED_M, SKU_RED_L))
    smaller = store.upsert_product(make_product(SKU_RED_M))
    assert smaller.product_id == saved.product_id
    assert smaller.removed_skus == (SKU_RED_L,)
    assert store.get_variant(SKU_RED_L) is None


def test_a_sku_moving_to_another_product(store: Store) -> None:
    shirt = store.upsert_product(make_product(SKU_RED_M, SKU_RED_L))
    store.upsert_product(make_product("QUẦN-JEAN-30", title="Quần jean"), product_id="jeans")
    with pytest.raises(StoreError, match="belong to several products"):
        store.upsert_product(make_product(SKU_RED_M, "QUẦN-JEAN-30"))
    moved = store.upsert_product(
        make_product(SKU_RED_L, title="Áo thun size L"), product_id="shirt-l"
    )
    assert moved.changed_skus == (SKU_RED_L,)
    remaining = store.get_product(shirt.product_id)
    assert remaining is not None and remaining.product.skus == [SKU_RED_M]
    # A product whose last SKU moves away disappears.
    store.upsert_product(make_product(SKU_RED_M, SKU_RED_L, title="Áo"), product_id="shirt-l")
    assert store.get_product(shirt.product_id) is None


def test_streaming_products_and_variants(store: Store) -> None:
    for number in range(5):
        store.upsert_product(
            make_product(f"ÁO-{number}-M", f"ÁO-{number}-L", title=f"Áo số {number}"),
            product_id=f"p{number}",
        )
    products = list(store.iter_products(batch_size=3))
    assert [p.id for p in products] == ["p0", "p1", "p2", "p3", "p4"]
    assert products[3].product.skus == ["ÁO-3-M", "ÁO-3-L"]
    assert [v.sku for v in store.iter_variants(batch_size=4)][:3] == ["ÁO-0-L", "ÁO-0-M", "ÁO-1-L"]


def test_locations(store: Store) -> None:
    store.upsert_location(
        Location(code=HCM, name="Cửa hàng Quận 1", kind=LocationKind.STORE, pickup=True)
    )
    store.upsert_location(Location(code=HANOI, name="Kho Hoàn Kiếm"))
    store.upsert_location(Location(code=HANOI, name="Kho Hoàn Kiếm", active=False))
    stored = store.get_location(HCM)
    assert stored is not None
    assert stored.location.name == "Cửa hàng Quận 1" and stored.location.pickup
    assert [loc.code for loc in store.list_locations()] == [HCM, HANOI]
    assert [loc.code for loc in store.list_locations(active_only=True)] == [HCM]
    assert store.get_location("đà-nẵng") is None
