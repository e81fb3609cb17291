"""The stock ledger: exactly-once movements and levels kept in step."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from _store_testkit import HANOI, HCM, SKU_RED_L, SKU_RED_M
from sqlalchemy import text

from omnisdk.errors import StoreError
from omnisdk.models import StockLevel
from omnisdk.store import MovementKind, Store


def _level(store: Store, sku: str = SKU_RED_M, location: str = HCM) -> tuple[int, int]:
    level = store.stock_level(sku, location)
    return level.on_hand, level.reserved


def test_a_movement_changes_the_level_once(store: Store) -> None:
    with store.session() as session:
        assert store.apply_stock_movement(
            session,
            key="receive:PO-7",
            sku=SKU_RED_M,
            location=HCM,
            kind="adjust",
            on_hand_delta=10,
            reference="Phiếu nhập PO-7",
        )
        assert not store.apply_stock_movement(
            session,
            key="receive:PO-7",
            sku=SKU_RED_M,
            location=HCM,
            kind="adjust",
            on_hand_delta=10,
        )
    with store.session() as session:
        assert not store.apply_stock_movement(
            session,
            key="receive:PO-7",
            sku=SKU_RED_M,
            location=HCM,
            kind="adjust",
            on_hand_delta=99,
        )
    assert _level(store) == (10, 0)
    [entry] = store.ledger_entries(sku=SKU_RED_M)
    assert (entry.key, entry.kind, entry.on_hand_delta, entry.reference) == (
        "receive:PO-7",
        MovementKind.ADJUST,
        10,
        "Phiếu nhập PO-7",
    )


def test_order_lifecycle_reserve_commit_release(store: Store) -> None:
    with store.session() as s:
        store.apply_stock_movement(
            s, key="in", sku=SKU_RED_M, location=HCM, kind="adjust", on_hand_delta=5
        )
        store.apply_stock_movement(
            s, key="o1:reserve", sku=SKU_RED_M, location=HCM, kind="reserve", reserved_delta=2
        )
        store.apply_stock_movement(
            s, key="o2:reserve", sku=SKU_RED_M, location=HCM, kind="reserve", reserved_delta=1
        )
    assert store.stock_level(SKU_RED_M, HCM) == StockLevel(
        sku=SKU_RED_M, location=HCM, on_hand=5, reserved=3
    )
    with store.session() as s:
        store.apply_stock_movement(
            s,
            key="o1:commit",
            sku=SKU_RED_M,
            location=HCM,
            kind="commit",
            on_hand_delta=-2,
            reserved_delta=-2,
        )
        store.apply_stock_movement(
            s, key="o2:release", sku=SKU_RED_M, location=HCM, kind="release", reserved_delta=-1
        )
    assert _level(store) == (3, 0)
    assert store.stock_level(SKU_RED_M, HCM).available == 3


def test_levels_per_location_and_unknown_is_zero(store: Store) -> None:
    with store.session() as s:
        store.apply_stock_movement(
            s, key="a", sku=SKU_RED_M, location=HCM, kind="adjust", on_hand_delta=4
        )
        store.apply_stock_movement(
            s, key="b", sku=SKU_RED_M, location=HANOI, kind="adjust", on_hand_delta=6
        )
    assert [(level.location, level.on_hand) for level in store.stock_levels(SKU_RED_M)] == [
        (HCM, 4),
        (HANOI, 6),
    ]
    assert store.stock_level(SKU_RED_L, HCM) == StockLevel(sku=SKU_RED_L, location=HCM, on_hand=0)
    assert store.stock_levels(SKU_RED_L) == []


def test_oversell_is_recorded_but_negative_reserved_is_refused(store: Store) -> None:
    with store.session() as s:
        store.apply_stock_movement(
            s, key="sold-twice", sku=SKU_RED_M, location=HCM, kind="commit", on_hand_delta=-1
        )
    assert _level(store) == (-1, 0)
    with (
        pytest.raises(StoreError, match="would make the reserved quantity negative"),
        store.session() as s,
    ):
        store.apply_stock_movement(
            s, key="bad-release", sku=SKU_RED_M, location=HCM, kind="release", reserved_delta=-1
        )
    assert _level(store) == (-1, 0)
    assert [entry.key for entry in store.ledger_entries()] == ["sold-twice"]


def test_a_movement_rolls_back_with_its_transaction(store: Store) -> None:
    def crash_mid_transaction() -> None:
        with store.session() as s:
            store.apply_stock_movement(
                s, key="k", sku=SKU_RED_M, location=HCM, kind="adjust", on_hand_delta=3
            )
            raise RuntimeError("the order could not be saved")

    with pytest.raises(RuntimeError):
        crash_mid_transaction()
    assert _level(store) == (0, 0)
    with store.session() as s:  # the key was not consumed by the failed attempt
        assert store.apply_stock_movement(
            s, key="k", sku=SKU_RED_M, location=HCM, kind="adjust", on_hand_delta=3
        )


def test_bad_arguments_are_refused(store: Store) -> None:
    with store.session() as s:
        with pytest.raises(ValueError, match="'teleport'"):
            store.apply_stock_movement(s, key="x", sku=SKU_RED_M, location=HCM, kind="teleport")
        not_an_int: Any = 1.5
        with pytest.raises(TypeError, match="on_hand_delta must be an int"):
            store.apply_stock_movement(
                s, key="x", sku=SKU_RED_M, location=HCM, kind="adjust", on_hand_delta=not_an_int
            )
        with pytest.raises(ValueError, match="needs a key"):
            store.apply_stock_movement(s, key="", sku=SKU_RED_M, location=HCM, kind="adjust")


def test_stocktake_sets_on_hand(store: Store) -> None:
    with store.session() as s:
        store.apply_stock_movement(
            s, key="in", sku=SKU_RED_M, location=HCM, kind="adjust", on_hand_delta=7
        )
        assert store.record_count(
            s,
            key="count-2024-07",
            sku=SKU_RED_M,
            location=HCM,
            counted=5,
            reference="Kiểm kê tháng 7",
        )
        assert not store.record_count(
            s, key="count-2024-07", sku=SKU_RED_M, location=HCM, counted=1
        )
        assert store.record_count(s, key="count-new", sku=SKU_RED_L, location=HCM, counted=3)
    assert _level(store) == (5, 0)
    assert _level(store, SKU_RED_L) == (3, 0)
    assert [e.on_hand_delta for e in store.ledger_entries(sku=SKU_RED_M)] == [7, -2]


def _race(workers: list[Store], apply: Callable[[Store], bool]) -> list[bool]:
    barrier = threading.Barrier(len(workers))
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(worker: Store) -> None:
        try:
            barrier.wait()
            outcome = apply(worker)
            with lock:
                results.append(outcome)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_racing_workers_apply_one_key_once(make_store: Callable[..., Store]) -> None:
    def apply(worker: Store) -> bool:
        with worker.session() as s:
            return worker.apply_stock_movement(
                s,
                key="order:shopee:shopee-hanoi:2407VN0001:reserve",
                sku=SKU_RED_M,
                location=HCM,
                kind="reserve",
                reserved_delta=2,
            )

    store = make_store()
    results = _race([make_store() for _ in range(8)], apply)
    assert sorted(results) == [False] * 7 + [True]
    assert _level(store) == (0, 2)
    assert len(list(store.ledger_entries())) == 1


def test_racing_workers_with_different_keys_all_count(make_store: Callable[..., Store]) -> None:
    counter = iter(range(100))
    lock = threading.Lock()

    def apply(worker: Store) -> bool:
        with lock:
            number = next(counter)
        with worker.session() as s:
            return worker.apply_stock_movement(
                s,
                key=f"sale-{number}",
                sku=SKU_RED_M,
                location=HCM,
                kind="commit",
                on_hand_delta=-1,
            )

    store = make_store()
    assert _race([make_store() for _ in range(8)], apply) == [True] * 8
    assert _level(store) == (-8, 0)


@pytest.mark.postgres
def test_second_worker_waits_for_the_first_then_finds_the_key(
    make_pg_store: Callable[..., Store],
) -> None:
    """PostgreSQL: the loser blocks on the winner's uncommitted key, then applies nothing."""
    first, second, observer = make_pg_store(), make_pg_store(), make_pg_store()
    outcome: list[bool] = []

    def apply_second() -> None:
        with second.session() as s:
            outcome.append(
                second.apply_stock_movement(
                    s, key="dup", sku=SKU_RED_M, location=HCM, kind="reserve", reserved_delta=1
                )
            )

    with first.session() as s:
        assert first.apply_stock_movement(
            s, key="dup", sku=SKU_RED_M, location=HCM, kind="reserve", reserved_delta=1
        )
        racer = threading.Thread(target=apply_second)
        racer.start()
        _wait_for_lock_wait(observer)
        assert outcome == []  # still blocked behind our transaction
    racer.join()
    assert outcome == [False]
    assert _level(first) == (0, 1)


def _wait_for_lock_wait(observer: Store) -> None:
    """Return once some backend of this database is waiting on a lock."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with observer.session() as s:
            waiting = s.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the second worker never blocked on the first one's key")
