"""Customer and listing polling: one customer view across accounts, new listings bound by SKU.

Both pollers keep a per-(account, stream) cursor re-read with the engine's overlap, quarantine
what they cannot process and go on, and never change the master catalog.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from _engine_testkit import (
    SKU_HAT,
    SKU_RED_L,
    SKU_RED_M,
    TITLE,
    Account,
    Harness,
    MakeHarness,
    vnd,
)
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.models import Product, Variant
from omnisdk.store.records import BindingKind
from omnisdk.sync.intake import CUSTOMERS_STREAM, PRODUCTS_STREAM


def add_customer(
    sandbox: ExampleSandbox,
    customer_id: str,
    name: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """Put a customer record straight into the sandbox's customer list."""
    stamp = (updated_at or sandbox.clock.now()).isoformat()
    record = {
        "id": customer_id,
        "name": name,
        "phone": phone,
        "email": email,
        "address": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    with sandbox.lock:
        sandbox.customers[customer_id] = record
    return record


def master_product(harness: Harness, *skus: str, price: int = 129000) -> str:
    """Create a master product with variants ``skus``; returns its id."""
    product = Product(
        title=TITLE,
        variants=[Variant(sku=sku, title=f"{TITLE} {sku}", price=vnd(price)) for sku in skus],
    )
    return harness.store.upsert_product(product).product_id


async def list_on(harness: Harness, account: str, sku: str, **fields: Any) -> None:
    """List ``sku`` on ``account``'s sandbox (no stock there yet)."""
    entry = {"sku": sku, "title": "Áo thun Đỏ (bản sàn)", "price": "150000", "currency": "VND"}
    await harness.controls[account].seed([{**entry, "stock": 0, **fields}])


# -- customers ------------------------------------------------------------------------------


async def test_customers_listed_on_two_accounts_become_one_person(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    engine, store = harness.engine, harness.store
    a, b = harness.sandboxes["shop-a"], harness.sandboxes["shop-b"]
    assert isinstance(a, ExampleSandbox) and isinstance(b, ExampleSandbox)
    add_customer(a, "cus_00001", "Nguyễn Văn An", phone="0912 345 678")
    add_customer(a, "cus_00002", "Trần Thị Bích", phone="0987654321")
    add_customer(b, "cus_00001", "Anh An", email="an.nguyen@example.vn")

    first_a = await engine.poll_customers("shop-a")
    first_b = await engine.poll_customers("shop-b")
    assert (first_a.new, first_a.updated, first_a.merged) == (2, 0, 0)
    assert (first_b.new, first_b.merged) == (1, 0)
    assert len(list(store.iter_customers())) == 3

    # Shop B learns An's phone: the same person as shop A's customer, so the records merge.
    later = b.clock.now() + timedelta(minutes=20)
    add_customer(
        b,
        "cus_00001",
        "Anh An",
        phone="+84 912 345 678",
        email="an.nguyen@example.vn",
        updated_at=later,
    )
    second_b = await engine.poll_customers("shop-b")
    assert (second_b.seen, second_b.merged, second_b.quarantined) == (1, 1, 0)
    assert second_b.cursor == later

    people = list(store.iter_customers())
    assert len(people) == 2
    [an] = [p for p in people if p.customer.full_name == "Nguyễn Văn An"]
    assert {str(e) for e in an.customer.emails} == {"an.nguyen@example.vn"}
    assert {f"{r.account}/{r.external_id}" for r in an.customer.identities} == {
        "shop-a/cus_00001",
        "shop-b/cus_00001",
    }
    [merged] = harness.recorder.of("customer_merged")
    assert "customer shop-b/cus_00001" in merged["reason"]
    assert "phone +84912345678" in merged["reason"]
    finished = [
        call["stats"]
        for call in harness.recorder.of("sync_finished")
        if call["stream"] == CUSTOMERS_STREAM
    ]
    assert finished[-1] == {
        "seen": 1,
        "new": 0,
        "updated": 1,
        "unchanged": 0,
        "quarantined": 0,
        "merged": 1,
    }


async def test_customer_cursor_advances_and_rereads_only_the_overlap(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    engine, store = harness.engine, harness.store
    sandbox = harness.sandboxes["shop-a"]
    assert isinstance(sandbox, ExampleSandbox)
    now = sandbox.clock.now()
    add_customer(sandbox, "cus_00001", "Lê Văn Cường", phone="0903111222", updated_at=now)
    add_customer(
        sandbox, "cus_00002", "Phạm Thu Hà", phone="0903333444", updated_at=now - timedelta(days=90)
    )

    first = await engine.poll_customers("shop-a")
    assert first.seen == 2  # the first pass reads every customer, however old
    assert first.cursor == now
    assert store.get_cursor("shop-a", CUSTOMERS_STREAM) == now.isoformat()

    again = await engine.poll_customers("shop-a")
    # Only the record inside the overlap is read again, and it adds nothing.
    assert (again.seen, again.new, again.updated, again.unchanged) == (1, 0, 0, 1)
    assert again.cursor == now
    assert len(list(store.iter_customers())) == 2


async def test_a_bad_customer_record_is_quarantined_and_the_rest_go_on(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    engine, store = harness.engine, harness.store
    sandbox = harness.sandboxes["shop-a"]
    assert isinstance(sandbox, ExampleSandbox)
    add_customer(sandbox, "cus_00001", "Đặng Minh Khôi", phone="0911222333")
    bad = add_customer(sandbox, "cus_00002", "Võ Thị Lan", phone="0911444555")
    bad["updated_at"] = "hôm qua"  # not a timestamp: the channel cannot map it
    add_customer(sandbox, "cus_00003", "Bùi Quang Huy", email="huy@example.vn")

    stats = await engine.poll_customers("shop-a")

    assert (stats.seen, stats.new, stats.quarantined) == (3, 2, 1)
    [kept] = store.list_quarantine(account="shop-a", kind="customer")
    assert kept.external_id == "cus_00002"
    names = {c.customer.full_name for c in store.iter_customers()}
    assert names == {"Đặng Minh Khôi", "Bùi Quang Huy"}
    assert stats.cursor is not None


# -- listings -------------------------------------------------------------------------------


async def test_a_known_sku_newly_listed_on_b_is_bound_and_pushed(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    engine, store = harness.engine, harness.store
    product_id = master_product(harness, SKU_RED_M, SKU_RED_L)
    await list_on(harness, "shop-a", SKU_RED_M)
    await engine.add_listing("shop-a", SKU_RED_M)
    await engine.set_stock(SKU_RED_M, 7)
    await engine.push()
    assert await harness.listed("shop-a", SKU_RED_M) == 7

    await list_on(harness, "shop-b", SKU_RED_M)  # listed on B by hand, with its own price
    stats = await engine.poll_products("shop-b")

    assert (stats.seen, stats.new, stats.unknown, stats.quarantined) == (1, 1, 0, 0)
    sandbox_b = harness.sandboxes["shop-b"]
    assert isinstance(sandbox_b, ExampleSandbox)
    listed_variant = sandbox_b.variants[SKU_RED_M]
    assert store.external_id_for("shop-b", BindingKind.VARIANT, SKU_RED_M) == listed_variant.id
    assert (
        store.external_id_for("shop-b", BindingKind.PRODUCT, product_id)
        == listed_variant.product_id
    )
    assert store.listing_accounts(SKU_RED_M) == ["shop-a", "shop-b"]
    pushed = await engine.push("shop-b")
    assert sum(part.claimed for part in pushed.accounts) == 1
    assert await harness.listed("shop-b", SKU_RED_M) == 7

    # The master is untouched: its title and price stay, no variant was added.
    stored = store.get_product(product_id)
    assert stored is not None
    assert stored.product.title == TITLE
    assert [(v.sku, v.price) for v in stored.product.variants] == [
        (SKU_RED_M, vnd(129000)),
        (SKU_RED_L, vnd(129000)),
    ]

    # Polled again: already bound, nothing queued.
    again = await engine.poll_products("shop-b")
    assert (again.new, again.unchanged) == (0, 1)
    assert sum(part.claimed for part in (await engine.push("shop-b")).accounts) == 0


async def test_an_unknown_sku_is_counted_not_created(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-b"))
    engine, store = harness.engine, harness.store
    master_product(harness, SKU_RED_M)
    await list_on(harness, "shop-b", SKU_RED_M)
    await list_on(harness, "shop-b", SKU_HAT, title="Nón lá Huế")

    stats = await engine.poll_products("shop-b")

    assert (stats.seen, stats.new, stats.unknown) == (2, 1, 1)
    assert stats.unknown_skus == (SKU_HAT,)
    assert store.get_variant(SKU_HAT) is None
    assert store.external_id_for("shop-b", BindingKind.VARIANT, SKU_HAT) is None
    [finished] = [
        c["stats"] for c in harness.recorder.of("sync_finished") if c["stream"] == PRODUCTS_STREAM
    ]
    assert finished["unknown"] == 1 and finished["new"] == 1


async def test_listing_cursor_advances_and_rereads_only_the_overlap(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-b"))
    engine, store = harness.engine, harness.store
    control = harness.controls["shop-b"]
    master_product(harness, SKU_RED_M, SKU_RED_L)
    await list_on(harness, "shop-b", SKU_RED_M)
    await control.advance_clock(3600)
    await list_on(harness, "shop-b", SKU_RED_L)
    first = await engine.poll_products("shop-b")
    assert (first.seen, first.new) == (2, 2)
    assert first.cursor is not None
    assert store.get_cursor("shop-b", PRODUCTS_STREAM) == first.cursor.isoformat()

    await control.advance_clock(3600)
    await list_on(harness, "shop-b", SKU_HAT, title="Nón lá Huế")
    second = await engine.poll_products("shop-b")

    # The red L listing is inside the overlap and read again; the red M one an hour older is not.
    assert (second.seen, second.new, second.unchanged, second.unknown) == (2, 0, 1, 1)
    assert second.cursor is not None and second.cursor > first.cursor
    assert store.get_cursor("shop-b", PRODUCTS_STREAM) == second.cursor.isoformat()


async def test_a_bad_listing_is_quarantined_and_the_rest_are_bound(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-b"))
    engine, store = harness.engine, harness.store
    master_product(harness, SKU_RED_M, SKU_RED_L)
    await list_on(harness, "shop-b", SKU_RED_M)
    await list_on(harness, "shop-b", SKU_RED_L)
    sandbox = harness.sandboxes["shop-b"]
    assert isinstance(sandbox, ExampleSandbox)
    with sandbox.lock:
        sandbox.variants[SKU_RED_M].currency = "đồng"  # no such currency: unmappable

    stats = await engine.poll_products("shop-b")

    assert (stats.seen, stats.new, stats.quarantined) == (2, 1, 1)
    [kept] = store.list_quarantine(account="shop-b", kind="product")
    assert kept.external_id == sandbox.variants[SKU_RED_M].product_id
    assert store.external_id_for("shop-b", BindingKind.VARIANT, SKU_RED_L) is not None
    assert store.external_id_for("shop-b", BindingKind.VARIANT, SKU_RED_M) is None
