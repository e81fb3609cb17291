"""A partial refund in đồng through the engine: recorded, kept in the summary, reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from _engine_testkit import Account, MakeHarness

from omnisdk.models import ChannelRef, Money, Order, OrderLine, OrderStatus, PaymentStatus

SKU_AO = "ÁO-DÀI-LỤA-S"
SKU_KHAN = "KHĂN-RẰN-ĐỎ"


def _chat_order(*, refund: str | None = None, minutes: int = 0) -> Order:
    placed = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
    ao, khan = Money.of(650000, "VND"), Money.of(120000, "VND")
    lines = [OrderLine(sku=SKU_AO, quantity=1, unit_price=ao),
             OrderLine(sku=SKU_KHAN, quantity=2, unit_price=khan)]
    total = ao + khan * 2
    return Order(
        channel_ref=ChannelRef(channel="chat", account="zalo-shop", external_id="Z-16"),
        status=OrderStatus.DELIVERED,
        payment_status=PaymentStatus.PARTIALLY_REFUNDED if refund else PaymentStatus.PAID,
        currency="VND",
        lines=lines,
        subtotal=total,
        total=total,
        refund_total=Money.of(refund, "VND") if refund else None,
        created_at=placed,
        updated_at=placed + timedelta(minutes=minutes),
    )


async def test_a_partial_refund_recorded_later_lowers_net_in_every_report(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(Account("shop-a"))
    engine = harness.engine
    await engine.record_order(_chat_order())
    # One scarf came back: 120,000 đồng given back, recorded as a newer version.
    await engine.record_order(_chat_order(refund="120000", minutes=90))
    [by_channel] = (await engine.sales_report("channel")).rows
    assert (by_channel.gross.amount, by_channel.refunds.amount, by_channel.net.amount) == (
        890000, 120000, 770000
    )
    by_sku = {row.key: row for row in (await engine.sales_report("sku")).rows}
    # Split over the lines by what each cost (650,000 and 240,000 of 890,000).
    assert {k: r.refunds.amount for k, r in by_sku.items()} == {SKU_AO: 87640, SKU_KHAN: 32360}
    assert harness.store.sales_day_zones() == [harness.engine.config.engine.timezone]
    day = datetime(2026, 11, 30).date()
    one_day = {row.key: row.refunds.amount
               for row in (await engine.sales_report("sku", since=day, until=day)).rows}
    assert one_day == {}
    whole = {row.key: row.refunds.amount for row in
             (await engine.sales_report("sku", since=day, until=day + timedelta(days=1))).rows}
    assert whole == {SKU_AO: 87640, SKU_KHAN: 32360}
