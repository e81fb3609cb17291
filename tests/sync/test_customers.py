"""Identity resolution on intake: matching, masked values, explainable and reversible merges."""

from __future__ import annotations

from _engine_testkit import PHONE_AN, Account, MakeHarness, buyer, make_order

from omnisdk.models import ChannelRef, OrderStatus


async def test_one_phone_written_two_ways_is_one_customer(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    engine = harness.engine
    first = await engine.ingest_order(make_order("A1", customer=buyer(phone="0912 345 678")))
    second = await engine.ingest_order(
        make_order(
            "B1",
            account="shop-b",
            customer=buyer("An Nguyễn", phone="+84 912 345 678", email="An.Nguyen@Example.vn"),
        )
    )
    assert first.customer_id is not None and first.customer_id == second.customer_id
    history = await engine.customer_history(first.customer_id)
    assert [o.external_id for o in history.orders] == ["A1", "B1"]
    customer = history.customer.customer
    assert customer.full_name == "Nguyễn Văn An"  # the first record's name is kept
    assert [str(e) for e in customer.emails] == ["an.nguyen@example.vn"]
    assert f"phone:{PHONE_AN}" in history.customer.match_keys


async def test_a_masked_phone_never_matches(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"))
    engine = harness.engine
    known = await engine.ingest_order(make_order("A1", customer=buyer(phone="0912345678")))
    masked = await engine.ingest_order(
        make_order("A2", customer=buyer("N***n", phone="84****5678"))
    )
    assert masked.customer_id != known.customer_id
    assert harness.recorder.of("customer_merged") == []


async def test_a_known_channel_identity_matches(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"))
    ref = ChannelRef(channel="example", account="shop-a", external_id="cus_00042")
    engine = harness.engine
    first = await engine.ingest_order(make_order("A1", customer=buyer(ref=ref, phone=None)))
    second = await engine.ingest_order(
        make_order("A2", customer=buyer("Lê Thị Hoa", ref=ref, phone="*****321"))
    )
    assert first.customer_id == second.customer_id


async def test_an_order_revealing_one_person_merges_and_the_merge_can_be_undone(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"), Account("shop-b"))
    engine = harness.engine
    by_phone = await engine.ingest_order(make_order("A1", customer=buyer(phone="0912345678")))
    by_email = await engine.ingest_order(
        make_order(
            "B1", account="shop-b", customer=buyer("Anh An", phone=None, email="an@example.vn")
        )
    )
    assert by_phone.customer_id != by_email.customer_id
    both = await engine.ingest_order(
        make_order(
            "B2", account="shop-b", customer=buyer(phone="0912345678", email="an@example.vn")
        )
    )
    assert both.customer_id == by_phone.customer_id  # the older record survives
    [merge_id] = both.merges
    [merged] = harness.recorder.of("customer_merged")
    assert "phone +84912345678" in merged["reason"] and "email an@example.vn" in merged["reason"]
    assert "order shop-b/B2" in merged["reason"]
    assert [str(e) for e in merged["customer"].emails] == ["an@example.vn"]
    assert by_phone.customer_id is not None and by_email.customer_id is not None
    history = await engine.customer_history(by_phone.customer_id)
    assert [o.external_id for o in history.orders] == ["A1", "B1", "B2"]
    assert history.merged_ids == (by_email.customer_id,)
    assert harness.store.resolve_customer_id(by_email.customer_id) == by_phone.customer_id

    await engine.undo_customer_merge(merge_id)
    restored = await engine.customer_history(by_email.customer_id)
    assert [o.external_id for o in restored.orders] == ["B1"]
    survivor = await engine.customer_history(by_phone.customer_id)
    assert [o.external_id for o in survivor.orders] == ["A1", "B2"]


async def test_a_new_version_of_an_order_keeps_its_customer(make_harness: MakeHarness) -> None:
    harness = await make_harness(Account("shop-a"))
    engine = harness.engine
    anonymous = buyer("N***n", phone="84****5678")
    first = await engine.ingest_order(make_order("A1", customer=anonymous))
    later = await engine.ingest_order(
        make_order("A1", customer=anonymous, status=OrderStatus.SHIPPED, minutes=3)
    )
    assert later.customer_id == first.customer_id
    assert len(list(harness.store.iter_customers())) == 1
