"""A run of authorisation refusals becomes a lost authorisation (issue #10 item 6)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _http_testkit import AutoClock

from omnisdk.errors import AuthError, PlatformUnavailable, ReauthorisationRequired
from omnisdk.http import HttpClient
from omnisdk.store import Store, open_store
from omnisdk.store.refusal_count import StoreRefusalCount

TOKEN = "shpat_7f3c2a9d1e5b4c8a"


def _client(
    statuses: list[int], clock: AutoClock | None = None, **options: object
) -> HttpClient:
    """A client whose platform answers ``statuses`` in turn (each request takes the next)."""
    answers = iter(statuses)

    def respond(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 401:
            body = {"errors": "[API] Invalid API key or access token (unrecognized login)"}
            return httpx.Response(401, json=body)
        return httpx.Response(status, json={"shop": {"name": "Cửa hàng Hà Nội"}})

    clock = clock or AutoClock()
    return HttpClient(
        base_url="https://ha-noi.myshopify.com",
        channel="shopify",
        account="hanoi",
        transport=httpx.MockTransport(respond),
        clock=clock,
        sleep=clock.sleep,
        max_attempts=1,
        secrets=[TOKEN],
        headers={"X-Shopify-Access-Token": TOKEN},
        **options,  # type: ignore[arg-type]
    )


async def _outcome(http: HttpClient) -> type[BaseException] | None:
    try:
        await http.get("/admin/api/2026-10/shop.json")
    except (AuthError, PlatformUnavailable) as exc:
        return type(exc)
    return None


async def test_three_refusals_in_a_row_mean_the_authorisation_is_lost() -> None:
    async with _client([401, 401, 401], reauth_after=3) as http:
        assert await _outcome(http) is AuthError
        assert await _outcome(http) is AuthError
        with pytest.raises(ReauthorisationRequired) as lost:
            await http.get("/admin/api/2026-10/shop.json")
    message = str(lost.value)
    assert message.startswith("shopify/hanoi: 3 requests in a row were refused")
    assert message.count("shopify/hanoi") == 1
    assert "Invalid API key" in message and TOKEN not in message
    assert lost.value.status == 401
    assert isinstance(lost.value.__cause__, AuthError)


async def test_any_success_resets_the_count_and_other_failures_do_not() -> None:
    statuses = [401, 401, 200, 401, 500, 401, 401]
    async with _client(statuses, reauth_after=3) as http:
        outcomes = [await _outcome(http) for _ in range(5)]
        assert outcomes == [AuthError, AuthError, None, AuthError, PlatformUnavailable]
        assert http.auth_failures == 1, "a 500 neither counts nor resets"
        assert await _outcome(http) is AuthError
        assert await _outcome(http) is ReauthorisationRequired


@pytest.mark.parametrize(
    ("reauth_after", "expected"),
    [(None, [AuthError] * 5), (1, [ReauthorisationRequired] * 5)],
)
async def test_the_threshold_is_configurable(
    reauth_after: int | None, expected: list[type[BaseException]]
) -> None:
    async with _client([401] * 5, reauth_after=reauth_after) as http:
        assert [await _outcome(http) for _ in range(5)] == expected


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="reauth_after"):
        _client([], reauth_after=0)


async def test_calls_refused_together_count_once_an_expired_token_is_not_a_lost_one() -> None:
    """An access token that just expired refuses every call in flight at once, before the
    channel's one refresh: found by the chaos suite, where Shopee's poller, pusher and
    webhook fetches were refused together and the account was stopped as needs_reauth."""
    release = asyncio.Event()
    arrived = 0

    async def respond(request: httpx.Request) -> httpx.Response:
        nonlocal arrived
        arrived += 1
        if arrived == 3:
            release.set()
        await release.wait()  # all three are in flight before any answer
        return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})

    async with HttpClient(
        base_url="https://ha-noi.myshopify.com",
        channel="shopify",
        account="hanoi",
        transport=httpx.MockTransport(respond),
        max_attempts=1,
        reauth_after=3,
    ) as http:
        outcomes = await asyncio.gather(
            *(http.get("/admin/api/2026-10/shop.json") for _ in range(3)),
            return_exceptions=True,
        )
        assert [type(o) for o in outcomes] == [AuthError] * 3  # none is a lost authorisation
        assert http.auth_failures == 1


# -- the count kept in the store (every process adds to it) ----------------------------------


def _store_count(tmp_path: Path) -> tuple[Store, Callable[[], StoreRefusalCount]]:
    store = open_store(f"sqlite:///{tmp_path / 'omnisdk.db'}")
    store.ensure_account("hanoi", "shopify")
    return store, lambda: StoreRefusalCount(store, "hanoi")


async def test_refusals_in_separate_processes_add_up_in_the_store(tmp_path: Path) -> None:
    """A cron ``omnisdk sync --once`` is a new process each time: each run's one refusal
    counted only in its own client never reached ``reauth_after``."""
    store, count = _store_count(tmp_path)
    try:
        for run in (1, 2):
            async with _client([401], reauth_after=3, refusals=count()) as http:
                assert await _outcome(http) is AuthError, run
        assert store.auth_refusals("hanoi") == 2
        async with _client([401], reauth_after=3, refusals=count()) as http:
            assert await _outcome(http) is ReauthorisationRequired
    finally:
        store.close()


async def test_a_success_in_any_process_ends_the_run_of_refusals(tmp_path: Path) -> None:
    store, count = _store_count(tmp_path)
    try:
        async with _client([401, 401], reauth_after=3, refusals=count()) as http:
            assert [await _outcome(http) for _ in range(2)] == [AuthError, AuthError]
        async with _client([200], reauth_after=3, refusals=count()) as http:
            assert await _outcome(http) is None  # the client started from the stored 2
        assert store.auth_refusals("hanoi") == 0
        async with _client([401, 401], reauth_after=3, refusals=count()) as http:
            assert [await _outcome(http) for _ in range(2)] == [AuthError, AuthError]
    finally:
        store.close()


async def test_a_long_running_client_resets_what_another_process_counted(tmp_path: Path) -> None:
    """``omnisdk run`` whose calls go through, beside cron runs that were refused (a token
    swapped meanwhile): its successes end the others' run of refusals, read now and then."""
    store, count = _store_count(tmp_path)
    clock = AutoClock()
    try:
        async with _client([200] * 3, clock, reauth_after=3, refusals=count()) as running:
            assert await _outcome(running) is None
            async with _client([401, 401], reauth_after=3, refusals=count()) as cron:
                assert [await _outcome(cron) for _ in range(2)] == [AuthError, AuthError]
            assert await _outcome(running) is None  # checked 0 s ago: not read again yet
            assert store.auth_refusals("hanoi") == 2
            await clock.sleep(60.0)  # refusals_checked_every: read again, and reset
            assert await _outcome(running) is None
        assert store.auth_refusals("hanoi") == 0
    finally:
        store.close()
