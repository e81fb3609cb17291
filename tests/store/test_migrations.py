"""Migrations: shipped in the package, run from code, and equal to the SQLAlchemy metadata."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, text

from omnisdk.store import SchemaOutOfDate, Store, open_store
from omnisdk.store.migrate import MIGRATIONS_DIR, head_revision
from omnisdk.store.schema import VERSION_TABLE, include_store_name, metadata


def _schema_diff(store: Store, target: MetaData) -> list[object]:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_store_name,
                "version_table": VERSION_TABLE,
            },
        )
        return list(compare_metadata(context, target))


def test_migration_files_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    versions = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert versions[:9] == [
        "0001_initial.py",
        "0002_listings.py",
        "0003_quotas.py",
        "0004_sales.py",
        "0005_unseen_settled.py",
        "0006_sales_days.py",
        "0007_promotions.py",
        "0008_auth_refusals.py",
        "0009_quota_turns.py",
    ]
    assert head_revision() == versions[-1].split("_", 1)[0]


def test_migrated_schema_equals_the_metadata(empty_url: str) -> None:
    store = open_store(empty_url)
    try:
        assert _schema_diff(store, metadata) == []
    finally:
        store.close()


def test_the_schema_comparison_can_fail(empty_url: str) -> None:
    """Control for the test above: a column the migrations lack is reported."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["omnisdk_orders"].append_column(Column("gift_wrap", Integer))
    store = open_store(empty_url)
    try:
        diff = _schema_diff(store, changed)
        assert [entry[0] for entry in diff] == ["add_column"]  # type: ignore[index]
    finally:
        store.close()


def test_open_store_without_migrate_refuses_an_old_schema(empty_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match=rf"no omnisdk tables.*revision {head_revision()}"):
        open_store(empty_url, migrate=False)
    open_store(empty_url).close()
    store = open_store(empty_url, migrate=False)
    try:
        assert store.schema_revision() == head_revision()
    finally:
        store.close()


def test_downgrade_removes_everything_and_upgrade_restores_it(empty_url: str) -> None:
    from omnisdk.store.migrate import downgrade

    store = open_store(empty_url)
    try:
        downgrade(store.engine, "base")
        names = set(inspect(store.engine).get_table_names())
        assert not {name for name in names if name.startswith("omnisdk_") and name != VERSION_TABLE}
        assert store.schema_revision() is None
        store.migrate()
        store.migrate()  # idempotent
        assert store.schema_revision() == head_revision()
        assert _schema_diff(store, metadata) == []
    finally:
        store.close()


def test_workers_starting_together_migrate_once(empty_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start_worker() -> None:
        store = Store(empty_url)
        try:
            barrier.wait()
            store.migrate()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=start_worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = Store(empty_url)
    try:
        assert store.schema_revision() == head_revision()
    finally:
        store.close()


def test_the_store_shares_a_database_with_the_app(empty_url: str) -> None:
    """The app's own ``products`` and ``alembic_version`` tables are left alone."""
    engine = create_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE products (id INTEGER PRIMARY KEY)"))
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            connection.execute(text("INSERT INTO alembic_version VALUES ('app-42')"))
        store = open_store(empty_url)
        try:
            assert _schema_diff(store, metadata) == []
        finally:
            store.close()
        with engine.connect() as connection:
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == "app-42"
            )
            assert "products" in inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_0006_fills_line_refunds_and_builds_the_summary_from_stored_orders(
    empty_url: str,
) -> None:
    """Orders stored at 0005 (a returned one among them) are in the summary once 0006 runs,
    with the figures intake would have kept."""
    from datetime import UTC, datetime

    from omnisdk.models import ChannelRef, Money, Order, OrderLine, OrderStatus
    from omnisdk.store.migrate import downgrade, upgrade
    from omnisdk.store.schema import sales_days

    def order(external_id: str, status: OrderStatus) -> Order:
        unit = Money.of(129000, "VND")
        placed = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 00:30 on 1 December in Hà Nội
        return Order(
            channel_ref=ChannelRef(channel="shopee", account="shopee-hn", external_id=external_id),
            status=status, currency="VND",
            lines=[OrderLine(sku="ÁO-THUN-ĐỎ-M", quantity=2, unit_price=unit)],
            subtotal=unit * 2, total=unit * 2, created_at=placed, updated_at=placed,
        )

    def summary() -> set[tuple[object, ...]]:
        with store.engine.connect() as connection:
            return {tuple(row) for row in connection.execute(select_all)}

    store = open_store(empty_url)
    try:
        select_all = sales_days.select()
        store.upsert_order(order("S1", OrderStatus.COMPLETED))
        store.upsert_order(order("S2", OrderStatus.RETURNED))
        store.upsert_order(order("S3", OrderStatus.CANCELLED))
        kept = summary()
        assert kept == {("Asia/Ho_Chi_Minh", "ÁO-THUN-ĐỎ-M", "VND", "2026-12-01",
                         2, 4, 516000, 0, 258000)}
        downgrade(store.engine, "0005")
        with store.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("omnisdk_order_lines")}
        assert "refund_minor" not in columns
        upgrade(store.engine)
        assert summary() == kept
        [by_sku] = store.iter_sales("sku")  # from the lines: their refunds were filled
        assert by_sku.refund_minor == 258000
    finally:
        store.close()
