"""Orders: idempotent, order-independent ingestion and streaming reads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from _store_testkit import SKU_RED_L, SKU_RED_M, make_customer, make_order
from sqlalchemy import event, select

from omnisdk.models import OrderStatus
from omnisdk.store import Store
from omnisdk.store.schema import order_lines, orders

T0 = datetime(2024, 7, 1, 9, 35, tzinfo=UTC)


def test_new_order_round_trip(store: Store) -> None:
    order = make_order()
    saved = store.upsert_order(order)
    assert (saved.created, saved.applied, saved.changed) == (True, True, True)
    assert saved.previous_status is None and saved.status is OrderStatus.CONFIRMED
    stored = store.get_order("shopee-hanoi", "2407VN0001")
    assert stored is not None
    assert stored.order == order
    assert stored.order.raw == {"order_sn": "2407VN0001", "buyer": "An Nguyễn"}
    assert stored.order.customer is not None
    assert stored.order.customer.full_name == "Nguyễn Văn An"
    # The account was registered from the order's channel_ref.
    account = store.get_account("shopee-hanoi")
    assert account is not None and account.channel == "shopee"
    with store.session() as s:
        assert s.execute(select(orders.c.total_minor, orders.c.currency)).one() == (288000, "VND")
        assert s.execute(
            select(order_lines.c.sku, order_lines.c.quantity, order_lines.c.total_minor)
        ).all() == [(SKU_RED_M, 2, 258000)]


def test_the_same_version_twice_changes_nothing(store: Store) -> None:
    store.upsert_order(make_order(updated_at=T0))
    again = store.upsert_order(make_order(updated_at=T0))
    assert (again.created, again.applied, again.changed) == (False, True, False)
    assert again.previous_status is OrderStatus.CONFIRMED


def test_a_newer_version_replaces_and_reports_the_transition(store: Store) -> None:
    store.upsert_order(make_order(updated_at=T0))
    shipped = store.upsert_order(
        make_order(
            status=OrderStatus.SHIPPED,
            quantity=3,
            sku=SKU_RED_L,
            updated_at=T0 + timedelta(hours=2),
        )
    )
    assert shipped.applied and shipped.changed
    assert (shipped.previous_status, shipped.status) == (OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
    stored = store.get_order("shopee-hanoi", "2407VN0001")
    assert stored is not None and stored.order.status is OrderStatus.SHIPPED
    with store.session() as s:
        assert s.execute(select(order_lines.c.sku, order_lines.c.quantity)).all() == [
            (SKU_RED_L, 3)
        ]


def test_an_older_version_arriving_late_is_ignored(store: Store) -> None:
    store.upsert_order(make_order(status=OrderStatus.SHIPPED, updated_at=T0 + timedelta(hours=1)))
    late = store.upsert_order(make_order(status=OrderStatus.CONFIRMED, updated_at=T0))
    assert (late.applied, late.changed, late.status) == (False, False, OrderStatus.SHIPPED)
    stored = store.get_order("shopee-hanoi", "2407VN0001")
    assert stored is not None and stored.order.status is OrderStatus.SHIPPED


def test_orders_link_to_customers(store: Store) -> None:
    customer_id = store.save_customer(make_customer())
    store.upsert_order(make_order(), customer_id=customer_id)
    store.upsert_order(make_order(updated_at=T0 + timedelta(hours=1)))  # keeps the link
    stored = store.get_order("shopee-hanoi", "2407VN0001")
    assert stored is not None and stored.customer_id == customer_id
    assert [
        o.order.channel_ref.external_id for o in store.iter_orders(customer_id=customer_id)
    ] == ["2407VN0001"]


def test_same_external_id_on_two_accounts_are_two_orders(store: Store) -> None:
    store.upsert_order(make_order("1001"))
    store.upsert_order(make_order("1001", account="lazada-main", channel="lazada"))
    assert [o.account for o in store.iter_orders()] == ["shopee-hanoi", "lazada-main"]


def test_racing_ingestion_of_one_order_stores_it_once(make_store: Callable[..., Store]) -> None:
    workers = [make_store() for _ in range(6)]
    barrier = threading.Barrier(len(workers))
    created: list[bool] = []

    def ingest(worker: Store) -> None:
        barrier.wait()
        created.append(worker.upsert_order(make_order("RACE-1")).created)

    threads = [threading.Thread(target=ingest, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == [False] * 5 + [True]
    assert len(list(workers[0].iter_orders())) == 1


def test_streaming_with_filters_and_interleaved_writes(store: Store) -> None:
    for number in range(7):
        status = OrderStatus.SHIPPED if number % 2 else OrderStatus.CONFIRMED
        store.upsert_order(
            make_order(f"VN{number:03d}", status=status, updated_at=T0 + timedelta(minutes=number))
        )
    seen = []
    for stored in store.iter_orders(batch_size=2):
        seen.append(stored.external_id)
        store.set_cursor("shopee-hanoi", "orders", stored.external_id)  # write mid-stream
    assert seen == [f"VN{n:03d}" for n in range(7)]
    assert store.get_cursor("shopee-hanoi", "orders") == "VN006"
    shipped = [o.external_id for o in store.iter_orders(status="shipped")]
    assert shipped == ["VN001", "VN003", "VN005"]
    recent = [
        o.external_id
        for o in store.iter_orders(account="shopee-hanoi", updated_since=T0 + timedelta(minutes=5))
    ]
    assert recent == ["VN005", "VN006"]


def test_streaming_uses_a_server_side_cursor_on_postgresql(backend: str, store: Store) -> None:
    store.upsert_order(make_order())
    cursors: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _record(conn: object, cursor: object, *args: object) -> None:
        cursors.append(type(cursor).__name__)

    stream = store.iter_orders(batch_size=1)
    next(stream)
    stream.close()  # stopping early releases the connection
    expected = "ServerCursor" if backend == "postgresql" else "Cursor"
    assert expected in cursors
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
