"""A run of authorisation refusals becomes a lost authorisation (issue #10 item 6)."""

from __future__ import annotations

import httpx
import pytest
from _http_testkit import AutoClock

from omnisdk.errors import AuthError, PlatformUnavailable, ReauthorisationRequired
from omnisdk.http import HttpClient

TOKEN = "shpat_7f3c2a9d1e5b4c8a"


def _client(statuses: list[int], **options: object) -> HttpClient:
    """A client whose platform answers ``statuses`` in turn (each request takes the next)."""
    answers = iter(statuses)

    def respond(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 401:
            body = {"errors": "[API] Invalid API key or access token (unrecognized login)"}
            return httpx.Response(401, json=body)
        return httpx.Response(status, json={"shop": {"name": "Cửa hàng Hà Nội"}})

    clock = AutoClock()
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
