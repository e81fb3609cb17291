"""Cursors, webhook delivery ids and quarantine."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from _store_testkit import FakeClock

from omnisdk.store import Store


def test_cursors_per_account_and_stream(accounts: Store) -> None:
    assert accounts.get_cursor("shopee-hanoi", "orders") is None
    accounts.set_cursor("shopee-hanoi", "orders", "2024-07-01T09:30:00Z")
    accounts.set_cursor("shopee-hanoi", "orders", "2024-07-01T10:00:00Z")
    accounts.set_cursor("lazada-main", "orders", "page:7")
    assert accounts.get_cursor("shopee-hanoi", "orders") == "2024-07-01T10:00:00Z"
    assert accounts.get_cursor("lazada-main", "orders") == "page:7"
    assert accounts.get_cursor("shopee-hanoi", "products") is None


def test_cursor_moves_only_with_its_transaction(accounts: Store) -> None:
    accounts.set_cursor("shopee-hanoi", "orders", "old")
    try:
        with accounts.session() as session:
            accounts.set_cursor("shopee-hanoi", "orders", "new", session=session)
            raise RuntimeError("saving the polled orders failed")
    except RuntimeError:
        pass
    assert accounts.get_cursor("shopee-hanoi", "orders") == "old"


def test_redelivered_webhooks_are_recognised(accounts: Store) -> None:
    assert accounts.remember_delivery("shopee-hanoi", "d-1") is True
    assert accounts.remember_delivery("shopee-hanoi", "d-1") is False
    assert accounts.remember_delivery("lazada-main", "d-1") is True


def test_racing_deliveries_are_accepted_exactly_once(
    accounts: Store, make_store: Callable[..., Store]
) -> None:
    workers = [make_store() for _ in range(6)]
    barrier = threading.Barrier(len(workers))
    results: list[bool] = []
    lock = threading.Lock()

    def receive(worker: Store) -> None:
        barrier.wait()
        first = worker.remember_delivery("shopee-hanoi", "wh-2407-ÁO")
        with lock:
            results.append(first)

    threads = [threading.Thread(target=receive, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]


def test_old_deliveries_can_be_forgotten(make_store: Callable[..., Store]) -> None:
    clock = FakeClock()
    store = make_store(clock=clock)
    store.ensure_account("shopee-hanoi", "shopee")
    store.remember_delivery("shopee-hanoi", "old")
    clock.advance(3 * 86400)
    store.remember_delivery("shopee-hanoi", "new")
    assert store.forget_deliveries_before(clock.now - timedelta(days=1)) == 1
    assert store.remember_delivery("shopee-hanoi", "old") is True
    assert store.remember_delivery("shopee-hanoi", "new") is False


def test_quarantine_keeps_the_payload_and_reason(accounts: Store) -> None:
    payload = {"order_sn": "2407VN0001", "buyer": "Nguyễn Văn An", "total": "258000"}
    entry = accounts.quarantine(
        "shopee-hanoi", "order", "2407VN0001", "unknown status 'ĐANG_GIAO'", payload
    )
    [row] = accounts.list_quarantine()
    assert row.id == entry
    assert (row.account, row.kind, row.external_id) == ("shopee-hanoi", "order", "2407VN0001")
    assert row.payload == payload
    assert row.reason == "unknown status 'ĐANG_GIAO'"
    assert row.attempts == 1
    assert row.resolved_at is None


def test_a_payload_failing_again_updates_its_open_entry(accounts: Store) -> None:
    first = accounts.quarantine("shopee-hanoi", "order", "A1", "bad total", {"v": 1})
    again = accounts.quarantine("shopee-hanoi", "order", "A1", "bad currency", {"v": 2})
    assert again == first
    row = accounts.get_quarantined(first)
    assert row is not None
    assert (row.attempts, row.reason, row.payload) == (2, "bad currency", {"v": 2})
    # Entries without an external id are never merged.
    one = accounts.quarantine("shopee-hanoi", "webhook", None, "bad signature", "raw")
    two = accounts.quarantine("shopee-hanoi", "webhook", None, "bad signature", "raw")
    assert one != two


def test_resolving_and_retrying(accounts: Store) -> None:
    entry = accounts.quarantine("lazada-main", "product", "P9", "missing SKU", {"id": "P9"})
    assert accounts.record_retry_failure(entry, "still missing SKU") is True
    row = accounts.get_quarantined(entry)
    assert row is not None
    assert (row.attempts, row.reason) == (2, "still missing SKU")
    assert accounts.mark_resolved(entry) is True
    assert accounts.mark_resolved(entry) is False
    assert accounts.list_quarantine() == []
    assert [r.id for r in accounts.list_quarantine(resolved=True)] == [entry]
    # The same object failing after resolution opens a new entry.
    new = accounts.quarantine("lazada-main", "product", "P9", "missing SKU", {"id": "P9"})
    assert new != entry
    assert [r.id for r in accounts.list_quarantine(resolved=None)] == [entry, new]
    assert accounts.list_quarantine(account="shopee-hanoi") == []
    assert [r.id for r in accounts.list_quarantine(kind="product")] == [new]


def test_odd_payloads_are_still_quarantined(accounts: Store) -> None:
    entry = accounts.quarantine(
        "shopee-hanoi", "webhook", None, "not JSON", "Áo".encode() + b"\xff"
    )
    row = accounts.get_quarantined(entry)
    assert row is not None
    assert row.payload == {"body": "Áo\ufffd"}
