"""TokenKeeper: refresh at half-life, under a lock, persisted before use."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from omnisdk import MemoryTokenStore, ReauthorisationRequired, Token
from omnisdk.auth import TokenKeeper

T0 = datetime(2026, 11, 23, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def keeper(store: MemoryTokenStore, clock: Clock, calls: list[str],
           *, fail: bool = False) -> TokenKeeper:
    async def refresh(token: Token) -> Token:
        assert token.refresh_token is not None
        calls.append(token.refresh_token.get_secret_value())
        await asyncio.sleep(0.01)
        if fail:
            raise ReauthorisationRequired("refresh token revoked", channel="x", account="a")
        n = len(calls)
        return Token.lasting(f"access-{n}", seconds=4 * 3600, refresh_token=f"refresh-{n}",
                             refresh_seconds=30 * 86400, now=clock())

    initial = Token.lasting("access-0", seconds=4 * 3600, refresh_token="refresh-0",
                            refresh_seconds=30 * 86400, now=T0)
    return TokenKeeper(channel="x", account="a", store=store, refresh=refresh, initial=initial,
                       clock=clock)


async def test_no_refresh_before_half_life_then_exactly_one_under_concurrency() -> None:
    store, clock, calls = MemoryTokenStore(), Clock(), []
    k = keeper(store, clock, calls)
    assert (await k.current()).access_token.get_secret_value() == "access-0"
    clock.now = T0 + timedelta(hours=2, minutes=1)
    tokens = await asyncio.gather(*(k.current() for _ in range(10)))
    assert calls == ["refresh-0"]  # single-use refresh token spent once
    assert {t.access_token.get_secret_value() for t in tokens} == {"access-1"}
    saved = await store.load_token("x", "a")
    assert saved is not None and saved.access_token.get_secret_value() == "access-1"


async def test_two_keepers_sharing_a_store_refresh_once() -> None:
    store, clock, calls = MemoryTokenStore(), Clock(), []
    first, second = keeper(store, clock, calls), keeper(store, clock, calls)
    await first.current()
    clock.now = T0 + timedelta(hours=3)
    await asyncio.gather(first.current(), second.current())
    assert calls == ["refresh-0"]


async def test_expired_refresh_token_needs_reauthorisation() -> None:
    store, clock, calls = MemoryTokenStore(), Clock(), []
    k = keeper(store, clock, calls)
    await k.current()
    clock.now = T0 + timedelta(days=31)
    with pytest.raises(ReauthorisationRequired, match="expired"):
        await k.current()
    assert calls == []


async def test_revoked_refresh_raises_and_force_refresh_works() -> None:
    store, clock, calls = MemoryTokenStore(), Clock(), []
    with pytest.raises(ReauthorisationRequired):
        await keeper(store, clock, calls, fail=True).force_refresh()
    ok = keeper(MemoryTokenStore(), clock, [])
    assert (await ok.force_refresh()).access_token.get_secret_value() == "access-1"


def test_token_repr_and_dump_keep_secrets_apart() -> None:
    token = Token.lasting("shpat_secret", seconds=60, refresh_token="rt_secret", shop_id="42")
    assert "shpat_secret" not in repr(token) and "rt_secret" not in str(token)
    again = Token.load_secrets(token.dump_secrets())
    assert again == token and again.extra == {"shop_id": "42"}


async def test_lost_authorisation_is_remembered_until_a_new_token_is_saved() -> None:
    store, clock, calls = MemoryTokenStore(), Clock(), []
    k = keeper(store, clock, calls, fail=True)
    await k.current()
    clock.now = T0 + timedelta(hours=3)
    with pytest.raises(ReauthorisationRequired):
        await k.current()
    with pytest.raises(ReauthorisationRequired):
        await k.current()
    assert calls == ["refresh-0"]  # never spends the refresh token twice
    await store.save_token("x", "a", Token.lasting("re-authorised", seconds=4 * 3600, now=clock()))
    assert (await k.current()).access_token.get_secret_value() == "re-authorised"


async def test_a_refused_token_whose_refresh_failed_is_not_handed_out_again() -> None:
    """A refresh lost to a dropped connection leaves the refused access token: every call
    made with it would be refused again (and count towards ``reauth_after``)."""
    from omnisdk.errors import PlatformUnavailable

    store, clock, calls = MemoryTokenStore(), Clock(), []
    failures = 2

    async def refresh(token: Token) -> Token:
        nonlocal failures
        calls.append("refresh")
        if failures:
            failures -= 1
            raise PlatformUnavailable("connection dropped", channel="x", account="a")
        return Token.lasting("access-1", seconds=4 * 3600, refresh_token="refresh-1",
                             refresh_seconds=30 * 86400, now=clock())

    initial = Token.lasting("access-0", seconds=4 * 3600, refresh_token="refresh-0",
                            refresh_seconds=30 * 86400, now=T0)
    k = TokenKeeper(channel="x", account="a", store=store, refresh=refresh, initial=initial,
                    clock=clock)
    assert (await k.current()).access_token.get_secret_value() == "access-0"
    with pytest.raises(PlatformUnavailable):
        await k.force_refresh()  # the platform refused access-0; the refresh is lost
    with pytest.raises(PlatformUnavailable):
        await k.current()  # tried again first, and lost again: access-0 is not handed out
    assert (await k.current()).access_token.get_secret_value() == "access-1"
    assert calls == ["refresh"] * 3
    assert (await k.current()).access_token.get_secret_value() == "access-1"
    assert calls == ["refresh"] * 3, "a good token is not refreshed again"
