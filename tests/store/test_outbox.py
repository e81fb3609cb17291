"""The outbox: dirty marks, leases, generation-guarded completion, retries."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from _store_testkit import SKU_RED_L, SKU_RED_M, FakeClock
from sqlalchemy import select

from omnisdk.store import Store
from omnisdk.store.schema import outbox


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pusher(make_store: Callable[..., Store], clock: FakeClock) -> Store:
    store = make_store(clock=clock)
    store.ensure_account("shopee-hanoi", "shopee")
    store.ensure_account("lazada-main", "lazada")
    return store


def _mark(store: Store, *skus: str, account: str = "shopee-hanoi") -> list[int]:
    with store.session() as s:
        return [store.mark_dirty(s, account, sku) for sku in skus]


def test_marking_bumps_the_generation_per_account(pusher: Store) -> None:
    assert _mark(pusher, SKU_RED_M, SKU_RED_M, SKU_RED_L) == [1, 2, 1]
    assert _mark(pusher, SKU_RED_M, account="lazada-main") == [1]
    assert pusher.outbox_depth("shopee-hanoi") == 2
    assert pusher.outbox_depth() == 3


def test_claim_push_complete(pusher: Store) -> None:
    _mark(pusher, SKU_RED_M, SKU_RED_L)
    items = pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    assert [(i.sku, i.generation, i.lease_owner) for i in items] == [
        (SKU_RED_L, 1, "worker-1"),
        (SKU_RED_M, 1, "worker-1"),
    ]
    assert pusher.claim_dirty("shopee-hanoi", 10, "worker-2", 60) == []  # leased
    for item in items:
        assert pusher.complete("shopee-hanoi", item.sku, item.generation, owner="worker-1")
    assert pusher.outbox_depth("shopee-hanoi") == 0


def test_a_change_during_the_push_is_not_lost(pusher: Store) -> None:
    _mark(pusher, SKU_RED_M)
    [item] = pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    _mark(pusher, SKU_RED_M)  # an order arrived while we were pushing
    assert not pusher.complete("shopee-hanoi", SKU_RED_M, item.generation, owner="worker-1")
    assert pusher.outbox_depth("shopee-hanoi") == 1
    [again] = pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    assert again.generation == 2
    assert pusher.complete("shopee-hanoi", SKU_RED_M, again.generation, owner="worker-1")
    assert pusher.outbox_depth("shopee-hanoi") == 0


def test_without_owner_a_stale_complete_waits_for_the_lease(
    pusher: Store, clock: FakeClock
) -> None:
    _mark(pusher, SKU_RED_M)
    [item] = pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    _mark(pusher, SKU_RED_M)
    assert not pusher.complete("shopee-hanoi", SKU_RED_M, item.generation)
    assert pusher.claim_dirty("shopee-hanoi", 10, "worker-2", 60) == []
    clock.advance(61)
    assert [i.generation for i in pusher.claim_dirty("shopee-hanoi", 10, "worker-2", 60)] == [2]


def test_an_expired_lease_is_claimed_again(pusher: Store, clock: FakeClock) -> None:
    _mark(pusher, SKU_RED_M)
    pusher.claim_dirty("shopee-hanoi", 10, "crashed-worker", 30)
    clock.advance(29)
    assert pusher.claim_dirty("shopee-hanoi", 10, "worker-2", 30) == []
    clock.advance(2)
    [item] = pusher.claim_dirty("shopee-hanoi", 10, "worker-2", 30)
    assert item.lease_owner == "worker-2"
    # The crashed worker coming back cannot fail a row it no longer holds.
    assert not pusher.fail("shopee-hanoi", SKU_RED_M, "late", clock.now, owner="crashed-worker")


def test_a_renewed_lease_is_not_claimed_again(pusher: Store, clock: FakeClock) -> None:
    _mark(pusher, SKU_RED_M, SKU_RED_L)
    pusher.claim_dirty("shopee-hanoi", 10, "slow-worker", 30)
    clock.advance(20)
    # Only the holder renews: another pusher's name changes nothing.
    assert pusher.renew_leases("shopee-hanoi", [SKU_RED_M, SKU_RED_L], "other-worker", 30) == 0
    assert pusher.renew_leases("shopee-hanoi", [SKU_RED_M], "slow-worker", 30) == 1
    clock.advance(20)  # 40 s after the claim: SKU_RED_L's lease ran out, SKU_RED_M's did not
    assert [i.sku for i in pusher.claim_dirty("shopee-hanoi", 10, "worker-2", 30)] == [SKU_RED_L]
    assert pusher.complete("shopee-hanoi", SKU_RED_M, 1, owner="slow-worker")
    assert pusher.renew_leases("shopee-hanoi", [SKU_RED_M], "slow-worker", 30) == 0


def test_failures_back_off_and_keep_the_error(pusher: Store, clock: FakeClock) -> None:
    _mark(pusher, SKU_RED_M)
    pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    retry_at = clock.now.replace(minute=5)
    assert pusher.fail(
        "shopee-hanoi", SKU_RED_M, "429 Too Many Requests (Lazada)", retry_at, owner="worker-1"
    )
    assert pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60) == []
    _mark(pusher, SKU_RED_M)  # a new change does not skip the back-off
    assert pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60) == []
    clock.now = retry_at
    [item] = pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    assert (item.attempts, item.last_error, item.generation) == (
        1,
        "429 Too Many Requests (Lazada)",
        2,
    )


def test_a_recovered_channel_hastens_the_retries_that_failed_a_few_times(
    pusher: Store, clock: FakeClock
) -> None:
    """Once a write lands again, the SKUs backing off from the outage are due at once; not
    one that failed past the bound, one just refused (its wait may be Retry-After), nor
    another account's."""
    skus = ["NÓN-LÁ-HUẾ", "ÁO-DÀI-LỤA", SKU_RED_M, SKU_RED_L]
    _mark(pusher, *skus)
    _mark(pusher, SKU_RED_M, account="lazada-main")
    later = clock.now.replace(minute=5)
    for attempts, sku in zip((1, 6, 7, 1), skus, strict=True):
        for _ in range(attempts):
            assert pusher.fail("shopee-hanoi", sku, "503 Dịch vụ tạm ngưng", later)
    pusher.fail("lazada-main", SKU_RED_M, "503", later)
    assert pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60) == []

    assert pusher.hasten_retries("shopee-hanoi", at_most_attempts=6, keep=[SKU_RED_L]) == 2
    due = pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    assert sorted(item.sku for item in due) == ["NÓN-LÁ-HUẾ", "ÁO-DÀI-LỤA"]
    assert [item.attempts for item in sorted(due, key=lambda i: i.sku)] == [1, 6]
    assert pusher.claim_dirty("lazada-main", 10, "worker-1", 60) == []
    # Leased rows are left to their pusher; the one kept comes due at the next hastening.
    assert pusher.hasten_retries("shopee-hanoi", at_most_attempts=6) == 1
    [again] = pusher.claim_dirty("shopee-hanoi", 10, "worker-2", 60)
    assert again.sku == SKU_RED_L


def test_claims_respect_the_limit_and_oldest_first(pusher: Store, clock: FakeClock) -> None:
    for number in range(5):
        _mark(pusher, f"SKU-{number}")
        clock.advance(1)
    first = pusher.claim_dirty("shopee-hanoi", 2, "w", 60)
    second = pusher.claim_dirty("shopee-hanoi", 2, "w", 60)
    assert [i.sku for i in first + second] == ["SKU-0", "SKU-1", "SKU-2", "SKU-3"]
    assert pusher.claim_dirty("shopee-hanoi", 0, "w", 60) == []


def test_mark_dirty_joins_the_stock_transaction(pusher: Store) -> None:
    def crash_before_commit() -> None:
        with pusher.session() as s:
            pusher.apply_stock_movement(
                s, key="k", sku=SKU_RED_M, location="hcm-q1", kind="adjust", on_hand_delta=1
            )
            pusher.mark_dirty(s, "shopee-hanoi", SKU_RED_M)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash_before_commit()
    assert pusher.outbox_depth() == 0


def test_concurrent_pushers_never_share_a_row(make_store: Callable[..., Store]) -> None:
    setup = make_store()
    setup.ensure_account("shopee-hanoi", "shopee")
    skus = [f"ÁO-{number:03d}" for number in range(60)]
    _mark(setup, *skus)
    workers = [make_store() for _ in range(4)]
    claimed: dict[str, list[str]] = {f"w{n}": [] for n in range(len(workers))}
    barrier = threading.Barrier(len(workers))

    def drain(name: str, worker: Store) -> None:
        barrier.wait()
        for _ in range(len(skus)):  # bounded: a broken lease would otherwise loop for ever
            items = worker.claim_dirty("shopee-hanoi", 3, name, 300)
            if not items:
                return
            claimed[name].extend(item.sku for item in items)

    threads = [
        threading.Thread(target=drain, args=(f"w{n}", worker)) for n, worker in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [sku for skus_of_worker in claimed.values() for sku in skus_of_worker]
    assert sorted(everything) == sorted(skus)  # each row claimed exactly once


@pytest.mark.postgres
def test_claims_skip_rows_locked_by_another_claim(make_pg_store: Callable[..., Store]) -> None:
    """PostgreSQL: rows locked by an in-flight claim are skipped, not waited for."""
    store, other = make_pg_store(), make_pg_store()
    store.ensure_account("shopee-hanoi", "shopee")
    _mark(store, "A", "B", "C", "D")
    result: list[list[str]] = []
    with store.session() as s:
        s.execute(select(outbox.c.sku).where(outbox.c.sku.in_(["A", "B"])).with_for_update())
        claimer = threading.Thread(
            target=lambda: result.append(
                [i.sku for i in other.claim_dirty("shopee-hanoi", 10, "w2", 60)]
            )
        )
        claimer.start()
        claimer.join(timeout=20)
        assert not claimer.is_alive(), "the claim waited for locked rows instead of skipping"
    assert result == [["C", "D"]]


def test_accounts_with_due_pushes(pusher: Store, clock: FakeClock) -> None:
    from datetime import timedelta

    from omnisdk.store import AccountStatus

    assert pusher.accounts_with_due_pushes() == []
    _mark(pusher, SKU_RED_M, account="shopee-hanoi")
    _mark(pusher, SKU_RED_L, account="lazada-main")
    assert pusher.accounts_with_due_pushes() == ["lazada-main", "shopee-hanoi"]
    # Leased rows are a pusher's already; rows waiting for a retry are not due yet.
    assert pusher.claim_dirty("shopee-hanoi", 10, "worker-1", 60)
    (claimed,) = pusher.claim_dirty("lazada-main", 10, "worker-2", 60)
    pusher.fail(
        "lazada-main", claimed.sku, "503", clock() + timedelta(seconds=120), owner="worker-2"
    )
    assert pusher.accounts_with_due_pushes() == []
    clock.advance(61)
    assert pusher.accounts_with_due_pushes() == ["shopee-hanoi"]
    # An account that needs re-authorisation is sent no pusher.
    pusher.set_account_status("shopee-hanoi", AccountStatus.NEEDS_REAUTH)
    assert pusher.accounts_with_due_pushes() == []


@pytest.mark.postgres
def test_a_lease_renewal_never_deadlocks_with_intake(make_pg_store: Callable[..., Store]) -> None:
    """PostgreSQL: an intake transaction marks a pusher's rows dirty out of SKU order while
    the pusher renews their leases. The renewal used to wait for the row intake held while
    holding the row intake wanted next: ``deadlock detected``. It now skips a locked row
    (renewed on its next round) and never waits, so intake goes through."""
    store, pusher = make_pg_store(), make_pg_store()
    store.ensure_account("shopee-hanoi", "shopee")
    first, second = "AO-DAI-LUA-01", "AO-DAI-LUA-02"
    _mark(store, first, second)
    assert len(pusher.claim_dirty("shopee-hanoi", 10, "pusher-1", 30)) == 2
    renewed: list[int] = []
    errors: list[BaseException] = []

    def renew() -> None:
        try:
            renewed.append(pusher.renew_leases("shopee-hanoi", [first, second], "pusher-1", 60))
        except BaseException as exc:
            errors.append(exc)

    with store.session() as intake:
        assert store.mark_dirty(intake, "shopee-hanoi", second) == 2  # row 2 locked first
        renewal = threading.Thread(target=renew)
        renewal.start()
        renewal.join(timeout=3)  # the old statement waits here, holding row 1
        assert store.mark_dirty(intake, "shopee-hanoi", first) == 2  # then row 1
    renewal.join(timeout=20)
    assert not renewal.is_alive()
    assert errors == []
    assert renewed == [1]  # row 1 renewed; row 2 was held by intake, skipped
    # The next round, with nothing held, renews both.
    assert pusher.renew_leases("shopee-hanoi", [first, second], "pusher-1", 60) == 2


@pytest.mark.postgres
def test_concurrent_pushers_and_intake_renew_and_mark_without_deadlock(
    make_pg_store: Callable[..., Store],
) -> None:
    """PostgreSQL, threads: two pushers renew their leases of 40 rows in a loop while intake
    transactions mark random subsets of the same rows dirty in random order. No deadlock,
    every renewal and every mark goes through. (One intake thread: two intake transactions
    out of order could deadlock each other, which the engine retries; renewals are never
    retried.)"""
    import random

    store = make_pg_store()
    store.ensure_account("shopee-hanoi", "shopee")
    skus = [f"NON-LA-{index:02d}" for index in range(40)]
    _mark(store, *skus)
    owners = ["pusher-a", "pusher-b"]
    halves = [skus[::2], skus[1::2]]
    stores = [make_pg_store() for _ in range(4)]
    for owner, half, claimer in zip(owners, halves, stores, strict=False):
        with claimer.session() as s:
            s.execute(
                outbox.update()
                .where(outbox.c.sku.in_(half))
                .values(lease_owner=owner, lease_expires_at=claimer.now())
            )
    errors: list[BaseException] = []
    marks = [0]

    def renewing(owner: str, half: list[str], own: Store) -> None:
        try:
            for _ in range(40):
                own.renew_leases("shopee-hanoi", list(reversed(half)), owner, 60)
        except BaseException as exc:
            errors.append(exc)

    def marking(seed: int, own: Store) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                with own.session() as s:
                    for sku in rng.sample(skus, 6):  # out of order, one statement each
                        own.mark_dirty(s, "shopee-hanoi", sku)
                marks[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=renewing, args=(owners[i], halves[i], stores[i]))
        for i in range(2)
    ] + [threading.Thread(target=marking, args=(7, stores[2]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert marks[0] == 25
