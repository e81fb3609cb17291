"""One customer, 360°: identities with why they were merged, every order, value per currency."""

from __future__ import annotations

from datetime import timedelta

from _engine_testkit import HCM, PHONE_AN, T0, Account, MakeHarness, buyer, make_order

from omnisdk.models import ChannelRef, Money, Order, OrderStatus


def _at(order: Order, hours: int) -> Order:
    return order.model_copy(update={"created_at": T0 + timedelta(hours=hours)})


def _in_usd(order: Order) -> Order:
    data = order.model_dump()
    unit = Money.of("5.50", "USD")
    data.update(currency="USD", subtotal=unit * 2, total=unit * 2)
    data["lines"][0]["unit_price"] = unit
    return Order.model_validate(data)


async def test_the_view_gathers_every_channel_store_and_merge(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"), Account("pos-q1"))
    engine = harness.engine
    # Three records that are one person: a phone on shop-a, an email on shop-b, and a store
    # sale that carries both (so the two records are merged, with the reason).
    await engine.ingest_order(_at(make_order("A1", customer=buyer(phone="0912 345 678")), 1))
    by_email = buyer("An Nguyễn", phone=None, email="An.Nguyen@Example.vn")
    in_usd = _in_usd(make_order("B1", account="shop-b", customer=by_email))
    await engine.ingest_order(_at(in_usd, 2))
    both = buyer(phone="84912345678", email="an.nguyen@example.vn")
    store_sale = make_order("K1", account="pos-q1", customer=both, pickup=HCM)
    await engine.ingest_order(_at(store_sale, 3))
    cancelled = make_order("A2", status=OrderStatus.CANCELLED, customer=buyer())
    await engine.ingest_order(_at(cancelled, 4))
    # A marketplace buyer with a masked phone: shown as a separate person, never merged.
    masked = buyer("N***n", phone="84****5678")
    await engine.ingest_order(_at(make_order("M1", account="shop-b", customer=masked), 5))

    [found] = await engine.find_customers("+84 912 345 678")
    view = await engine.customer_view(found.id)

    assert [o.channel_ref.external_id for o in view.orders] == ["A1", "B1", "K1", "A2"]
    assert [o.location for o in view.orders] == [None, None, HCM, None]
    [merge] = view.merges
    assert merge.reason.startswith("order pos-q1/K1: one buyer has")
    assert "email an.nguyen@example.vn" in merge.reason and f"phone {PHONE_AN}" in merge.reason
    assert view.merged_ids == [merge.merged_id]
    # Two currencies, never added together; the cancelled order is no value.
    assert [(line.currency, line.orders) for line in view.lifetime] == [("USD", 1), ("VND", 2)]
    assert view.lifetime_value == [Money.of("11.00", "USD"), Money.of(516000, "VND")]
    assert view.last_channel == ChannelRef(channel="example", account="shop-a", external_id="A2")
    assert {(c.kind, c.value, c.masked) for c in view.contacts} == {
        ("phone", PHONE_AN, False),
        ("email", "an.nguyen@example.vn", False),
    }
    # The masked buyer is someone else, and says so.
    assert await engine.find_customers("84****5678") == []  # a mask finds no one
    stored = engine.store.get_order("shop-b", "M1")
    assert stored is not None and stored.customer_id is not None
    stranger = await engine.customer_view(stored.customer_id)
    assert [(c.value, c.masked) for c in stranger.contacts] == [("84****5678", True)]
    assert stranger.id != view.id


async def test_every_written_form_of_the_phone_finds_the_customer(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    engine = harness.engine
    await engine.ingest_order(make_order("A1", customer=buyer(phone="0912345678")))
    ids = set()
    for written in ("0912 345 678", "84912345678", "+84 912 345 678", "(+84) 912.345.678"):
        [view] = await engine.find_customers(written)
        ids.add(view.id)
    assert len(ids) == 1
    assert await engine.find_customers("0999 999 999") == []
    assert await engine.find_customers("not a phone") == []
