"""Seller authorisation: code exchange, refresh at half-life under the store's lock (persisted
at once), a refused token (one refresh, one retry) and a dead refresh token (needs
re-authorisation: the channel stops calling; the engine reports it; the other accounts go
on)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from lazada_testkit import (
    IN_PROCESS,
    ReauthRecorder,
    channel,
    frozen_sandbox,
    plugins_with,
    requests_to,
    seed,
)
from omnisdk_lazada import LazadaChannel
from omnisdk_lazada.auth import country_user_info, token_from_response

from omnisdk import BadRequest, MemoryTokenStore, ReauthorisationRequired, Token

REFRESH = "/auth/token/refresh"


def stopped(seller: LazadaChannel) -> bool:
    """Whether ``seller`` stopped for lack of authorisation (a call, so mypy does not narrow)."""
    return seller.needs_reauthorisation


class RecordingStore(MemoryTokenStore):
    """A token store that notes, at each save, how many API calls the sandbox had seen."""

    def __init__(self, calls: Callable[[], int]) -> None:
        super().__init__()
        self.calls = calls
        self.saved: list[tuple[str, int]] = []

    async def save_token(self, channel: str, account: str, token: Token) -> None:
        self.saved.append((token.access_token.get_secret_value(), self.calls()))
        await super().save_token(channel, account, token)


async def test_a_code_is_exchanged_once_and_the_pair_saved_with_lazadas_lifetimes() -> None:
    sandbox = frozen_sandbox(access_ttl=10 * 86400, refresh_ttl=50 * 86400)
    settings = {
        k: v
        for k, v in sandbox.channel_settings(IN_PROCESS).items()
        if k not in ("access_token", "refresh_token", "token_expires_at", "refresh_expires_at")
    }
    store = MemoryTokenStore()
    seller = LazadaChannel(
        settings,
        account="moi",
        plugins=plugins_with(),
        tokens=store,
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now,
    )
    link = seller.authorisation_url("https://cua-hang.example.vn/lazada/cb")
    assert link.startswith("https://auth.lazada.com/oauth/authorize?response_type=code")
    assert f"client_id={sandbox.app_key}" in link
    code = sandbox.authorise()
    token = await seller.exchange_code(code)
    assert await store.load_token("lazada", "moi") == token
    assert token.expires_at is not None and token.refresh_expires_at is not None
    assert (token.expires_at - token.issued_at).days == 10
    assert (token.refresh_expires_at - token.issued_at).days == 50
    assert token.extra["seller_id"] == sandbox.seller_id
    assert (await seller.check()).name == "Lazada Sandbox Cửa hàng Hà Nội"
    with pytest.raises(BadRequest) as reused:
        await seller.exchange_code(code)
    assert reused.value.code == "InvalidCode"
    await seller.aclose()


async def test_the_token_is_refreshed_at_half_life_and_saved_before_use() -> None:
    sandbox = frozen_sandbox(access_ttl=3600)
    seed(sandbox)
    store = RecordingStore(lambda: len(sandbox.requests))
    seller = channel(sandbox, tokens=store)
    await seller.check()
    assert sandbox.grants.refreshes == 0
    sandbox.clock.advance(1900)  # past half of the hour
    await seller.check()
    assert sandbox.grants.refreshes == 1
    saved = await store.load_token("lazada", "hn")
    assert saved is not None
    fresh = saved.access_token.get_secret_value()
    assert fresh != sandbox.initial_access.value
    # The new pair was saved right after the refresh, before the next API call.
    refresh_calls = len(requests_to(sandbox, REFRESH))
    assert refresh_calls == 1
    assert store.saved[-1] == (fresh, len(sandbox.requests) - 1)
    last = sandbox.requests[-1]
    assert fresh in last.query or last.path == "/rest/seller/get"
    await seller.aclose()


async def test_concurrent_calls_refresh_once_under_the_lock() -> None:
    sandbox = frozen_sandbox(access_ttl=3600)
    seed(sandbox)
    store = MemoryTokenStore()
    seller = channel(sandbox, tokens=store)
    await seller.check()
    sandbox.clock.advance(3000)
    await asyncio.gather(*(seller.check() for _ in range(8)))
    assert sandbox.grants.refreshes == 1
    await seller.aclose()


async def test_a_refused_token_is_refreshed_once_and_the_call_tried_again() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    seller = channel(sandbox)
    await seller.check()
    sandbox.expire_access_tokens()
    info = await seller.check()
    assert info.details["seller_id"] == sandbox.seller_id
    assert sandbox.grants.refreshes == 1
    calls = requests_to(sandbox, "/seller/get")
    assert len(calls) == 3  # ok, refused, ok after the refresh
    await seller.aclose()


async def test_a_dead_refresh_token_needs_reauthorisation_once_and_others_go_on() -> None:
    sandbox = frozen_sandbox()
    other = frozen_sandbox(seed=9, seller_id="200999888")
    seed(sandbox)
    seed(other)
    recorder = ReauthRecorder()
    plugins = plugins_with(recorder)
    seller = channel(sandbox, plugins=plugins)
    neighbour = channel(other, account="hcm", plugins=plugins)
    sandbox.expire_access_tokens()
    sandbox.expire_refresh_tokens()
    with pytest.raises(ReauthorisationRequired) as lost:
        await seller.check()
    assert "IllegalRefreshToken" in str(lost.value)
    assert sandbox.initial_refresh.value not in str(lost.value)
    assert stopped(seller)
    before = len(sandbox.requests)
    for _ in range(3):
        with pytest.raises(ReauthorisationRequired):
            _ = [p async for p in seller.stream_products()]
    assert len(sandbox.requests) == before  # stopped: no more calls
    # The engine that catches the error fires the hook (once); the channel does not too.
    assert recorder.calls == []
    assert (await neighbour.check()).details["seller_id"] == "200999888"
    code = sandbox.authorise()
    await seller.exchange_code(code)
    assert not stopped(seller)
    assert (await seller.check()).name
    await seller.aclose()
    await neighbour.aclose()


def test_token_answers_in_every_shape() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 3, 15, tzinfo=UTC)
    base = {"code": "0", "access_token": "a", "refresh_token": "r", "country": "vn"}
    listed = {**base, "country_user_info": [{"country": "vn", "seller_id": "1"}]}
    refreshed = {**base, "country_user_info_list": [{"country": "vn", "seller_id": "2"}]}
    keyed = {**base, "country_user_info": {"vn": {"seller_id": "3"}, "sg": {"seller_id": "4"}}}
    assert token_from_response(listed, now=now).extra["seller_id"] == "1"
    assert token_from_response(refreshed, now=now).extra["seller_id"] == "2"
    assert token_from_response(keyed, now=now, site="VN").extra["seller_id"] == "3"
    assert [e["country"] for e in country_user_info(keyed)] == ["vn", "sg"]
    token = token_from_response(
        {**base, "expires_in": 864000, "refresh_expires_in": "4320000"}, now=now
    )
    assert token.expires_at is not None and (token.expires_at - now).days == 10
    assert token.refresh_expires_at is not None and (token.refresh_expires_at - now).days == 50
    with pytest.raises(BadRequest):
        token_from_response({"code": "0"}, now=now)
