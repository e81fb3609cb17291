"""Tokens: persistence through the TokenStore protocol, and the refresh lock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from omnisdk.auth import Token, TokenKeeper, TokenStore
from omnisdk.errors import StoreError
from omnisdk.store import AccountStatus, Store, StoreTokenStore
from omnisdk.store.schema import tokens

ISSUED = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)


def _token(access: str = "access-1", refresh: str = "refresh-1", **extra: str) -> Token:
    return Token.lasting(
        access,
        seconds=4 * 3600,
        refresh_token=refresh,
        refresh_seconds=30 * 86400,
        now=ISSUED,
        **extra,
    )


async def test_save_and_load_round_trip(store: Store) -> None:
    token_store = StoreTokenStore(store)
    assert isinstance(token_store, TokenStore)
    assert await token_store.load_token("shopee", "shopee-hanoi") is None
    token = _token(shop_id="220011", shop_name="Cửa hàng Áo thun An")
    await token_store.save_token("shopee", "shopee-hanoi", token)
    loaded = await token_store.load_token("shopee", "shopee-hanoi")
    assert loaded == token
    assert loaded is not None
    assert loaded.refresh_token is not None
    assert loaded.refresh_token.get_secret_value() == "refresh-1"
    assert loaded.extra["shop_name"] == "Cửa hàng Áo thun An"
    assert loaded.expires_at == ISSUED + timedelta(hours=4)


async def test_saving_replaces_the_previous_token(store: Store) -> None:
    token_store = StoreTokenStore(store)
    await token_store.save_token("shopee", "shopee-hanoi", _token())
    await token_store.save_token("shopee", "shopee-hanoi", _token("access-2", "refresh-2"))
    loaded = await token_store.load_token("shopee", "shopee-hanoi")
    assert loaded is not None
    assert loaded.access_token.get_secret_value() == "access-2"
    with store.session() as session:
        assert len(session.execute(select(tokens)).all()) == 1


def test_secrets_never_show_in_reprs(store: Store) -> None:
    store.write_token("shopee", "shopee-hanoi", _token("tok-bí-mật", "ref-bí-mật"))
    loaded = store.read_token("shopee", "shopee-hanoi")
    assert "bí-mật" not in repr(loaded)
    assert "bí-mật" not in repr(StoreTokenStore(store))


def test_reading_with_the_wrong_channel_is_an_error(store: Store) -> None:
    store.write_token("shopee", "shopee-hanoi", _token())
    with pytest.raises(StoreError, match="belongs to channel 'shopee', not 'lazada'"):
        store.read_token("lazada", "shopee-hanoi")


def test_a_new_token_clears_needs_reauth_but_not_archived(store: Store) -> None:
    store.write_token("lazada", "lazada-main", _token())
    store.set_account_status("lazada-main", "needs_reauth")
    store.write_token("lazada", "lazada-main", _token("access-2"))
    assert store.get_account("lazada-main").status is AccountStatus.ACTIVE  # type: ignore[union-attr]
    store.set_account_status("lazada-main", "archived")
    store.write_token("lazada", "lazada-main", _token("access-3"))
    assert store.get_account("lazada-main").status is AccountStatus.ARCHIVED  # type: ignore[union-attr]


async def test_lock_serialises_tasks_of_one_loop(store: Store) -> None:
    token_store = StoreTokenStore(store)
    events: list[str] = []

    async def hold(name: str) -> None:
        async with token_store.token_lock("shopee", "shopee-hanoi"):
            events.append(f"{name} in")
            await asyncio.sleep(0.02)
            events.append(f"{name} out")

    await asyncio.gather(hold("a"), hold("b"), hold("c"))
    assert [e.split()[1] for e in events] == ["in", "out"] * 3
    # Other accounts are not blocked by this one.
    async with token_store.token_lock("shopee", "shopee-hanoi"):
        async with asyncio.timeout(5):
            async with token_store.token_lock("shopee", "shopee-saigon"):
                pass


async def test_lock_times_out_with_a_store_error(store: Store) -> None:
    token_store = StoreTokenStore(store, lock_timeout=0.1)
    async with token_store.token_lock("shopee", "shopee-hanoi"):
        with pytest.raises(StoreError, match=r"gave up waiting 0\.1s for the token lock"):
            async with token_store.token_lock("shopee", "shopee-hanoi"):
                pass


async def test_a_cancelled_waiter_does_not_keep_the_lock(store: Store) -> None:
    token_store = StoreTokenStore(store)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with token_store.token_lock("shopee", "shopee-hanoi"):
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with token_store.token_lock("shopee", "shopee-hanoi"):
            pytest.fail("the cancelled waiter must never get the lock")

    held = asyncio.create_task(holder())
    await holding.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.05)
    waiting.cancel()
    release.set()
    await held
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with asyncio.timeout(5):
        async with token_store.token_lock("shopee", "shopee-hanoi"):
            pass


@pytest.mark.postgres
async def test_lock_excludes_other_processes_on_postgresql(
    make_pg_store: Callable[..., Store],
) -> None:
    """Two stores with their own pools stand for two worker processes."""
    worker_a = StoreTokenStore(make_pg_store())
    worker_b = StoreTokenStore(make_pg_store(), lock_timeout=0.3)
    async with worker_a.token_lock("shopee", "shopee-hanoi"):
        with pytest.raises(StoreError, match="gave up waiting"):
            async with worker_b.token_lock("shopee", "shopee-hanoi"):
                pass
    async with asyncio.timeout(5):
        async with worker_b.token_lock("shopee", "shopee-hanoi"):
            pass


async def test_rotating_refresh_token_is_spent_once(
    backend: str, make_store: Callable[..., Store]
) -> None:
    """Two keepers refresh a due token at once; the single-use refresh token is used once."""
    first = StoreTokenStore(make_store())
    # On PostgreSQL the second keeper is another "process"; SQLite supports one process.
    second = StoreTokenStore(make_store()) if backend == "postgresql" else first
    await first.save_token("shopee", "shopee-hanoi", _token())
    spent: list[str] = []

    async def refresh(current: Token) -> Token:
        assert current.refresh_token is not None
        spent.append(current.refresh_token.get_secret_value())
        await asyncio.sleep(0.05)
        number = len(spent) + 1
        return Token(
            access_token=SecretStr(f"access-{number}"),
            refresh_token=SecretStr(f"refresh-{number}"),
            issued_at=ISSUED + timedelta(hours=3),
            expires_at=ISSUED + timedelta(hours=7),
        )

    def clock() -> datetime:
        return ISSUED + timedelta(hours=3)  # past half of the 4-hour life

    keepers = [
        TokenKeeper(
            channel="shopee",
            account="shopee-hanoi",
            store=token_store,
            refresh=refresh,
            clock=clock,
        )
        for token_store in (first, second)
    ]
    results = await asyncio.gather(*(keeper.current() for keeper in keepers))
    assert spent == ["refresh-1"]
    assert {token.access_token.get_secret_value() for token in results} == {"access-2"}
    saved = await second.load_token("shopee", "shopee-hanoi")
    assert saved is not None
    assert saved.access_token.get_secret_value() == "access-2"


@pytest.mark.postgres
async def test_a_worker_cancelled_while_waiting_on_postgresql_leaks_no_lock(
    make_pg_store: Callable[..., Store],
) -> None:
    """The waiter is cancelled inside the blocking pg_advisory_lock call: when that call
    later succeeds in its thread, the lock must be given back, not kept by nobody."""
    holder = StoreTokenStore(make_pg_store())
    waiter = StoreTokenStore(make_pg_store())
    latecomer = StoreTokenStore(make_pg_store(), lock_timeout=10)
    observer = make_pg_store()

    async def wait_for_lock() -> None:
        async with waiter.token_lock("shopee", "shopee-hanoi"):
            pytest.fail("the cancelled waiter must never enter")

    async with holder.token_lock("shopee", "shopee-hanoi"):
        waiting = asyncio.create_task(wait_for_lock())
        await asyncio.to_thread(_wait_for_advisory_lock_wait, observer)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    async with latecomer.token_lock("shopee", "shopee-hanoi"):
        pass


def _wait_for_advisory_lock_wait(observer: Store) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with observer.session() as s:
            if s.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one():
                return
        time.sleep(0.01)
    raise AssertionError("the waiter never blocked on the advisory lock")
