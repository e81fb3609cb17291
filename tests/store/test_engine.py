"""Engine set-up: URLs, SQLite pragmas and locking, UTC timestamps, error hygiene."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from omnisdk.errors import StoreError
from omnisdk.store import DEFAULT_URL, Store, open_store
from omnisdk.store.engine import normalise_url
from omnisdk.store.schema import accounts, tokens


def test_default_url_is_a_sqlite_file() -> None:
    assert DEFAULT_URL == "sqlite:///omnisdk.db"
    assert normalise_url(DEFAULT_URL).database == "omnisdk.db"


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@db/omni", "postgresql+psycopg"),
        ("postgres://u@db/omni", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/omni", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_urls_get_the_supported_driver(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


def test_other_databases_are_refused_with_a_clear_error() -> None:
    with pytest.raises(StoreError, match="unsupported store database 'mysql'"):
        normalise_url("mysql://u@db/omni")
    with pytest.raises(StoreError, match="cannot read the store URL"):
        normalise_url("not a url")


def test_repr_hides_the_database_password() -> None:
    store = Store("postgresql+psycopg://omni:hunter2-mật-khẩu@db.example/omni")
    try:
        assert "hunter2" not in repr(store)
        assert "***" in repr(store)
    finally:
        store.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/pragmas.db", busy_timeout=12.5)
    try:
        with store.session() as session:
            assert session.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert session.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert session.exec_driver_sql("PRAGMA busy_timeout").scalar() == 12500
    finally:
        store.close()


def test_sqlite_refuses_a_second_write_transaction_in_the_same_thread(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/nested.db")
    try:
        store.migrate()
        store.ensure_account("shopee-hanoi", "shopee")
        with store.session(), pytest.raises(StoreError, match="pass its session="):
            store.set_cursor("shopee-hanoi", "orders", "x")  # forgot session=session
        # The guard is per transaction: the thread can write again afterwards.
        store.set_cursor("shopee-hanoi", "orders", "y")
        assert store.get_cursor("shopee-hanoi", "orders") == "y"
    finally:
        store.close()


def test_sqlite_write_transactions_queue_instead_of_failing(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE + busy timeout: 6 threads x 20 read-modify-write increments, none lost."""
    store = Store(f"sqlite:///{tmp_path}/queue.db")
    try:
        store.migrate()
        store.ensure_account("shopee-hanoi", "shopee")
        store.set_cursor("shopee-hanoi", "counter", "0")
        errors: list[BaseException] = []

        def bump() -> None:
            try:
                for _ in range(20):
                    with store.session() as session:
                        value = int(
                            store.get_cursor("shopee-hanoi", "counter", session=session) or "0"
                        )
                        store.set_cursor("shopee-hanoi", "counter", str(value + 1), session=session)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=bump) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.get_cursor("shopee-hanoi", "counter") == "120"
    finally:
        store.close()


def test_timestamps_come_back_aware_utc(accounts: Store) -> None:
    row = accounts.get_account("shopee-hanoi")
    assert row is not None
    assert row.created_at.utcoffset() is not None
    assert row.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="naive datetime"), store.session() as session:
        session.execute(
            accounts.insert().values(
                name="pos-q1",
                channel="pos",
                status="active",
                created_at=datetime(2024, 7, 1),
                updated_at=datetime(2024, 7, 1),
            )
        )


def test_database_errors_become_store_errors_without_parameters(store: Store) -> None:
    secret = "shpat_bí-mật-0123456789"
    with pytest.raises(StoreError) as caught, store.session() as session:
        # No account 999: a foreign-key violation whose parameters hold a secret.
        session.execute(
            tokens.insert().values(
                account_id=999, secrets={"access_token": secret}, updated_at=store.now()
            )
        )
    assert "IntegrityError" in str(caught.value) or "ForeignKey" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value.__cause__)
    with store.session() as session:
        assert session.execute(select(accounts)).all() == []
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_open_store_defaults_to_omnisdk_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store()
    try:
        store.ensure_account("pos-quan-1", "pos")
    finally:
        store.close()
    assert (tmp_path / "omnisdk.db").is_file()


def test_in_memory_sqlite_works_for_single_threaded_scripts() -> None:
    store = open_store("sqlite://")
    try:
        store.ensure_account("pos-quan-1", "pos")
        with store.session() as session:
            store.apply_stock_movement(
                session, key="k", sku="ÁO-THUN-ĐỎ-M", location="q1", kind="adjust", on_hand_delta=3
            )
        assert store.stock_level("ÁO-THUN-ĐỎ-M", "q1").on_hand == 3
    finally:
        store.close()
