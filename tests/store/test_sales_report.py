"""The sales report: one GROUP BY per report, per currency, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from omnisdk.models import (
    ChannelRef,
    FulfilmentMode,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from omnisdk.store import SalesRow, Store
from omnisdk.store.documents import content_hash, to_document
from omnisdk.store.sales_figures import line_refunds, sales_figures
from omnisdk.store.schema import sales_days

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# 23:30 on 1 July in Hanoi is 16:30 UTC: still 1 July in both. 00:30 on 2 July in Hanoi is
# 17:30 UTC on 1 July: the day differs between UTC and the shop's zone.
LATE_EVENING = datetime(2024, 7, 1, 16, 30, tzinfo=UTC)
JUST_AFTER_MIDNIGHT = datetime(2024, 7, 1, 17, 30, tzinfo=UTC)
SKU_AO = "ÁO-THUN-ĐỎ-M"
SKU_QUAN = "QUẦN-JEAN-30"


def _order(
    external_id: str,
    *,
    account: str = "shopee-hanoi",
    channel: str = "shopee",
    currency: str = "VND",
    lines: tuple[tuple[str, int, str, str | None], ...] = ((SKU_AO, 2, "129000", None),),
    voucher: str = "0",
    shipping: str = "30000",
    status: OrderStatus = OrderStatus.CONFIRMED,
    payment: PaymentStatus = PaymentStatus.PAID,
    placed: datetime = LATE_EVENING,
    pickup: str | None = None,
) -> Order:
    def money(amount: str) -> Money:
        return Money.of(amount, currency)

    order_lines = [
        OrderLine(
            sku=sku,
            quantity=quantity,
            unit_price=money(price),
            discount=money(discount) if discount else None,
        )
        for sku, quantity, price, discount in lines
    ]
    subtotal = sum((line.total for line in order_lines), Money.zero(currency))
    total = subtotal - money(voucher) + money(shipping)
    return Order(
        channel_ref=ChannelRef(channel=channel, account=account, external_id=external_id),
        status=status,
        payment_status=payment,
        currency=currency,
        lines=order_lines,
        subtotal=subtotal,
        discount_total=money(voucher) if Decimal(voucher) else None,
        shipping_total=money(shipping) if Decimal(shipping) else None,
        total=total,
        fulfilment=FulfilmentMode.PICKUP if pickup else FulfilmentMode.SHIP,
        pickup_location=pickup,
        created_at=placed,
        updated_at=placed + timedelta(minutes=1),
    )


def test_figures_count_every_discount_once_and_leave_shipping_out() -> None:
    order = _order(
        "A1",
        lines=((SKU_AO, 2, "129000", "10000"), (SKU_QUAN, 1, "450000", None)),
        voucher="20000",
    )
    figures = sales_figures(order)
    assert (figures.units, figures.gross_minor) == (3, 708000)
    assert figures.discount_minor == 30000  # the line's 10,000 and the voucher's 20,000
    assert (figures.refund_minor, figures.location) == (0, None)
    returned = sales_figures(order.model_copy(update={"status": OrderStatus.RETURNED}))
    assert returned.refund_minor == 678000  # what was paid for the goods, shipping aside


def _seed(store: Store) -> None:
    store.upsert_order(_order("S1", lines=((SKU_AO, 2, "129000", "8000"),), voucher="10000"))
    store.upsert_order(_order("S2", placed=JUST_AFTER_MIDNIGHT, status=OrderStatus.RETURNED))
    store.upsert_order(_order("S3", status=OrderStatus.CANCELLED))  # never a sale
    store.upsert_order(
        _order(
            "L1", account="lazada-main", channel="lazada", lines=((SKU_QUAN, 1, "450000", None),)
        ),
    )
    store.upsert_order(
        _order(
            "K1",
            account="pos-q1",
            channel="pos",
            shipping="0",
            pickup="hcm-q1",
            lines=((SKU_AO, 1, "129000", None), (SKU_QUAN, 1, "450000", "50000")),
        )
    )
    store.upsert_order(
        _order(
            "U1",
            account="shop-global",
            channel="shopify",
            currency="USD",
            lines=((SKU_AO, 3, "5.50", None),),
            voucher="1.25",
            shipping="4.00",
        )
    )


def _table(rows: list[SalesRow]) -> list[tuple[str, str, int, int, int, int, int, int]]:
    return [
        (
            row.key,
            row.currency,
            row.orders,
            row.units,
            row.gross_minor,
            row.discount_minor,
            row.refund_minor,
            row.net_minor,
        )
        for row in rows
    ]


def test_by_channel_keeps_each_currency_apart_and_leaves_cancelled_out(store: Store) -> None:
    _seed(store)
    assert _table(list(store.iter_sales("channel"))) == [
        ("lazada", "VND", 1, 1, 450000, 0, 0, 450000),
        ("pos", "VND", 1, 2, 579000, 50000, 0, 529000),
        # S1: 258,000 gross, 8,000 + 10,000 off; S2 returned: 258,000 refunded.
        ("shopee", "VND", 2, 4, 516000, 18000, 258000, 240000),
        ("shopify", "USD", 1, 3, 1650, 125, 0, 1525),
    ]


def test_by_location_names_the_store_and_groups_shipped_orders_apart(store: Store) -> None:
    _seed(store)
    rows = _table(list(store.iter_sales("location")))
    assert [row[:4] for row in rows] == [
        ("", "USD", 1, 3),
        ("", "VND", 3, 5),
        ("hcm-q1", "VND", 1, 2),
    ]


def test_by_sku_uses_the_lines(store: Store) -> None:
    _seed(store)
    # Sorted here: the database orders keys by its own collation.
    assert sorted(_table(list(store.iter_sales("sku")))) == [
        # S1 (2, 8,000 off), S2 (2, refunded), K1 (1), U1 (3 in USD).
        ("QUẦN-JEAN-30", "VND", 2, 2, 900000, 50000, 0, 850000),
        ("ÁO-THUN-ĐỎ-M", "USD", 1, 3, 1650, 0, 0, 1650),
        ("ÁO-THUN-ĐỎ-M", "VND", 3, 5, 645000, 8000, 258000, 379000),
    ]


def test_days_are_counted_in_the_shops_time_zone(store: Store) -> None:
    _seed(store)
    in_hanoi = {(r.key, r.currency, r.orders) for r in store.iter_sales("day", zone=HANOI)}
    assert in_hanoi == {
        ("2024-07-01", "USD", 1),
        ("2024-07-01", "VND", 3),
        ("2024-07-02", "VND", 1),
    }
    in_utc = {(row.key, row.currency) for row in store.iter_sales("day")}
    assert in_utc == {("2024-07-01", "VND"), ("2024-07-01", "USD")}


def test_since_and_until_bound_the_placing_time(store: Store) -> None:
    _seed(store)
    rows = list(store.iter_sales("account", since=JUST_AFTER_MIDNIGHT))
    assert [(row.key, row.orders) for row in rows] == [("shopee-hanoi", 1)]
    rows = list(store.iter_sales("account", until=JUST_AFTER_MIDNIGHT))
    assert {row.key for row in rows} == {"lazada-main", "pos-q1", "shop-global", "shopee-hanoi"}


def test_an_updated_order_moves_its_figures(store: Store) -> None:
    store.upsert_order(_order("S1"))
    refunded = _order("S1", payment=PaymentStatus.REFUNDED).model_copy(
        update={"updated_at": LATE_EVENING + timedelta(hours=2)}
    )
    store.upsert_order(refunded)
    [row] = store.iter_sales("channel")
    assert (row.orders, row.gross_minor, row.refund_minor, row.net_minor) == (1, 258000, 258000, 0)


def test_an_unknown_grouping_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="'week' is not a valid SalesGroup"):
        list(store.iter_sales("week"))


def _partly_refunded(order: Order, amount: str, *, hours: int = 3) -> Order:
    return order.model_copy(
        update={
            "payment_status": PaymentStatus.PARTIALLY_REFUNDED,
            "refund_total": Money.of(amount, order.currency),
            "updated_at": order.updated_at + timedelta(hours=hours),
        }
    )


def test_a_partial_refund_counts_its_amount_split_over_the_lines() -> None:
    order = _order("P1", lines=((SKU_AO, 2, "129000", None), (SKU_QUAN, 1, "450000", None)))
    refunded = _partly_refunded(order, "100001")
    assert sales_figures(refunded).refund_minor == 100001
    # 258,000 and 450,000 of 708,000: the shares add up to the refund, to the đồng.
    assert line_refunds(refunded) == [36441, 63560]
    assert sum(line_refunds(refunded)) == 100001
    assert line_refunds(order) == [0, 0]
    # Never more than what was paid for the goods (the rest was shipping).
    assert sales_figures(_partly_refunded(order, "720000")).refund_minor == 708000


def test_a_refund_for_units_that_came_back_goes_to_their_lines() -> None:
    """When the platform says which units came back (Lazada), their lines take the refund;
    a refund above what they cost is split over every line again."""
    order = _order("P2", lines=((SKU_AO, 2, "129000", None), (SKU_QUAN, 1, "450000", None)))
    ao, quan = order.lines
    back = order.model_copy(update={"lines": [ao.model_copy(update={"returned": 1}), quan]})
    assert line_refunds(_partly_refunded(back, "129000")) == [129000, 0]
    both = back.model_copy(
        update={"lines": [back.lines[0], quan.model_copy(update={"returned": 1})]}
    )
    assert line_refunds(_partly_refunded(both, "100001")) == [22280, 77721]
    assert sum(line_refunds(_partly_refunded(both, "100001"))) == 100001
    assert line_refunds(_partly_refunded(back, "300000")) == [109322, 190678]


def test_a_refund_above_the_total_is_refused_saying_where() -> None:
    with pytest.raises(ValueError, match="refund_total 999,999 VND is not between 0"):
        Order.model_validate(
            {**_order("P1").model_dump(), "refund_total": {"amount": "999999", "currency": "VND"}}
        )


@pytest.mark.parametrize("zone", [None, HANOI], ids=["lines", "summary"])
def test_a_partial_refund_in_dong_lowers_net_by_channel_and_by_sku(
    store: Store, zone: ZoneInfo | None
) -> None:
    order = _order("P1", lines=((SKU_AO, 2, "129000", None), (SKU_QUAN, 1, "450000", None)))
    store.upsert_order(order)
    store.upsert_order(_partly_refunded(order, "150000"))  # the jeans came back, half paid
    [row] = store.iter_sales("channel", zone=zone)
    assert (row.gross_minor, row.refund_minor, row.net_minor) == (708000, 150000, 558000)
    by_sku = sorted(_table(list(store.iter_sales("sku", zone=zone))))
    assert by_sku == [
        ("QUẦN-JEAN-30", "VND", 1, 1, 450000, 0, 95339, 354661),
        ("ÁO-THUN-ĐỎ-M", "VND", 1, 2, 258000, 0, 54661, 203339),
    ]


def _summary(store: Store) -> set[tuple[object, ...]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(sales_days)).all()
    # A row every order left (moved to another day, cancelled) sums to nothing: no figure.
    return {tuple(row) for row in rows if any(row[4:])}


def test_the_summary_kept_by_intake_equals_one_built_from_the_orders(store: Store) -> None:
    assert store.sales_day_zones() == ["Asia/Ho_Chi_Minh"]  # built by the migration
    _seed(store)
    s1 = _order("S1", lines=((SKU_AO, 2, "129000", "8000"),), voucher="10000")
    store.upsert_order(_partly_refunded(s1, "50000"))
    late = JUST_AFTER_MIDNIGHT + timedelta(days=1)
    moved = _order("L1", account="lazada-main", channel="lazada", placed=late,
                   lines=((SKU_QUAN, 1, "450000", None), (SKU_AO, 1, "129000", None)))
    store.upsert_order(moved.model_copy(update={"updated_at": late + timedelta(hours=5)}))
    cancelled = _order("K1", account="pos-q1", channel="pos", shipping="0", pickup="hcm-q1",
                       status=OrderStatus.CANCELLED,
                       lines=((SKU_AO, 1, "129000", None), (SKU_QUAN, 1, "450000", "50000")))
    store.upsert_order(cancelled.model_copy(update={"updated_at": late}))
    kept = _summary(store)
    assert kept  # the test would prove nothing over an empty summary
    assert store.keep_sales_days("Asia/Ho_Chi_Minh") > 0
    assert _summary(store) == kept
    # Bangkok keeps Hanoi's days but no summary: its report sums the order lines.
    from_lines = list(store.iter_sales("sku", zone=ZoneInfo("Asia/Bangkok")))
    assert list(store.iter_sales("sku", zone=HANOI)) == from_lines
    assert any(row.refund_minor for row in from_lines)


def test_the_summary_answers_whole_days_and_the_lines_answer_the_rest(store: Store) -> None:
    _seed(store)
    midnight = datetime(2024, 7, 2, tzinfo=HANOI)
    whole_day = list(store.iter_sales("sku", zone=HANOI, since=midnight))
    assert [(r.key, r.orders, r.refund_minor) for r in whole_day] == [(SKU_AO, 1, 258000)]
    an_hour_later = list(store.iter_sales("sku", zone=HANOI, since=midnight + timedelta(hours=1)))
    assert an_hour_later == []  # S2 was placed at 00:30: not a whole day, read from the lines
    assert list(store.iter_sales("sku", zone=HANOI, since=midnight - timedelta(minutes=29))) \
        == whole_day


def test_an_order_stored_before_refunds_were_read_is_not_taken_for_a_new_version() -> None:
    document = to_document(_order("S1"))
    before = {key: value for key, value in document.items() if key != "refund_total"}
    assert content_hash(before) == content_hash(document)
    refunded = to_document(_partly_refunded(_order("S1"), "1000"))
    assert content_hash(refunded) != content_hash(document)
