"""Shop authorisation: link, code exchange, refresh at half-life under the lock, refused tokens
(one refresh, one retry) and lost authorisation (needs re-authorisation, reported once)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from omnisdk_shopee import ShopeeChannel
from omnisdk_shopee.sandbox.state.grants import Grant
from shopee_testkit import (
    IN_PROCESS,
    ReauthRecorder,
    channel,
    frozen_sandbox,
    plugins_with,
    requests_to,
    seed,
)

from omnisdk import AuthError, BadRequest, MemoryTokenStore, ReauthorisationRequired, Token

SHOP_INFO = "/api/v2/shop/get_shop_info"
REFRESH = "/api/v2/auth/access_token/get"


def stopped(shop: ShopeeChannel) -> bool:
    """Whether ``shop`` stopped for lack of authorisation (a call, so mypy does not narrow)."""
    return shop.needs_reauthorisation


class RecordingStore(MemoryTokenStore):
    """A token store that notes, at each save, how many API calls the sandbox had seen."""

    def __init__(self, calls: Callable[[], int]) -> None:
        super().__init__()
        self.calls = calls
        self.saved: list[tuple[str, int]] = []

    async def save_token(self, channel: str, account: str, token: Token) -> None:
        self.saved.append((token.access_token.get_secret_value(), self.calls()))
        await super().save_token(channel, account, token)


async def test_the_authorisation_flow_from_link_to_working_calls() -> None:
    sandbox = frozen_sandbox()
    settings = {
        k: v
        for k, v in sandbox.channel_settings(IN_PROCESS).items()
        if k not in ("access_token", "refresh_token", "token_expires_at", "shop_id")
    }
    store = MemoryTokenStore()
    shop = ShopeeChannel(
        {**settings, "redirect_url": "https://cua-hang.example.vn/cb"},
        account="moi",
        plugins=plugins_with(),
        tokens=store,
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now,
    )
    link = shop.authorisation_url()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as browser:
        approved = await browser.get(link)
    assert approved.status_code == 302
    redirect = urlsplit(approved.headers["location"])
    assert redirect.netloc == "cua-hang.example.vn"
    query = parse_qs(redirect.query)
    code, shop_id = query["code"][0], int(query["shop_id"][0])

    token = await shop.exchange_code(code, shop_id=shop_id)
    saved = await store.load_token("shopee", "moi")
    assert saved == token and token.extra["shop_id"] == str(shop_id)
    assert token.expires_at is not None
    assert (token.expires_at - token.issued_at).total_seconds() == 4 * 3600
    assert shop.shop_id == shop_id
    info = await shop.check()
    assert info.name == "Cửa hàng Sandbox Sài Gòn"
    assert code not in repr(token) and token.access_token.get_secret_value() not in repr(token)

    with pytest.raises(BadRequest) as reused:
        await shop.exchange_code(code, shop_id=shop_id)
    assert reused.value.code == "invalid_code"
    await shop.aclose()


async def test_a_stale_authorisation_link_is_refused() -> None:
    sandbox = frozen_sandbox()
    shop = channel(sandbox, redirect_url="https://cua-hang.example.vn/cb")
    link = shop.authorisation_url()
    sandbox.clock.advance(301)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as browser:
        stale = await browser.get(link)
    assert stale.status_code == 403
    assert stale.json()["error"] == "error_param"
    assert stale.json()["message"] == "Timestamp is expired."
    await shop.aclose()


async def test_refresh_happens_once_at_half_life_and_is_saved_before_use() -> None:
    sandbox = frozen_sandbox()
    store = RecordingStore(lambda: len(requests_to(sandbox, SHOP_INFO)))
    shop = channel(sandbox, tokens=store)
    first = await shop.current_access_token()
    await shop.check()
    sandbox.clock.advance(2 * 3600 - 60)  # not yet half-life
    await shop.check()
    assert sandbox.grants.refreshes == 0
    sandbox.clock.advance(120)  # past half-life: refresh before the next call
    await asyncio.gather(*(shop.check() for _ in range(5)))
    assert sandbox.grants.refreshes == 1, "concurrent callers must share one refresh"
    assert shop.token_keeper.refreshes == 1
    fresh, calls_before_save = store.saved[-1]
    assert fresh != first
    used_with_fresh = [
        r for r in requests_to(sandbox, SHOP_INFO) if f"access_token={fresh}" in r.query
    ]
    assert len(used_with_fresh) == 5
    assert calls_before_save == 2, "the new pair was saved before any call used it"
    old_refresh = sandbox.initial_refresh
    assert old_refresh.used, "Shopee's refresh token is single use"
    loaded = await store.load_token("shopee", "hcm")
    assert loaded is not None and loaded.refresh_token is not None
    assert loaded.refresh_token.get_secret_value() != old_refresh.value
    await shop.aclose()


async def test_a_refused_access_token_is_refreshed_once_and_the_call_retried() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox)
    await shop.check()
    sandbox.expire_access_tokens()  # Shopee now answers invalid_acceess_token (sic)
    products = [p async for p in shop.stream_products()]
    assert len(products) == 3
    assert sandbox.grants.refreshes == 1
    refused = [r for r in sandbox.requests if r.status == 403]
    assert len(refused) == 1
    await shop.aclose()


async def test_a_token_refused_twice_is_an_auth_error_not_a_loop() -> None:
    sandbox = frozen_sandbox()
    shop = channel(sandbox)
    await shop.check()
    real_rotate = sandbox.grants.rotate

    def rotate_then_expire(refresh_token: str, shop_id: int, now: float) -> tuple[Grant, Grant]:
        pair = real_rotate(refresh_token, shop_id, now)
        pair[0].expires = 0  # the new access token is already dead
        return pair

    sandbox.grants.rotate = rotate_then_expire  # type: ignore[method-assign]
    sandbox.expire_access_tokens()
    with pytest.raises(AuthError) as failed:
        await shop.check()
    assert "invalid_acceess_token" in str(failed.value)
    assert sandbox.grants.refreshes == 1
    await shop.aclose()


async def test_a_revoked_refresh_token_needs_reauthorisation_once_and_stops_cleanly() -> None:
    sandbox = frozen_sandbox()
    other = frozen_sandbox(shop_id=411122233, seed=9)
    seed(sandbox)
    seed(other)
    recorder = ReauthRecorder()
    plugins = plugins_with(recorder)
    hanoi = channel(sandbox, account="hanoi", plugins=plugins)
    saigon = channel(other, account="saigon", plugins=plugins)
    await hanoi.check()
    sandbox.revoke_authorisation()  # the seller withdrew the app: tokens die

    with pytest.raises(ReauthorisationRequired) as lost:
        await hanoi.check()
    assert "shop_no_linked" in str(lost.value)
    assert stopped(hanoi)
    calls = len(sandbox.requests)
    for _ in range(3):
        with pytest.raises(ReauthorisationRequired):
            [p async for p in hanoi.stream_products()]
    assert len(sandbox.requests) == calls, "a stopped account makes no more calls"
    # The engine that catches the error fires the hook (once); the channel does not too.
    assert recorder.calls == []
    secret = sandbox.initial_refresh.value
    assert secret not in str(lost.value)

    assert len([p async for p in saigon.stream_products()]) == 3  # other accounts go on

    code = sandbox.authorise()  # the seller authorises again
    sandbox.grants.revoked_shops.clear()
    await hanoi.exchange_code(code, shop_id=sandbox.shop_id)
    assert not stopped(hanoi)
    assert len([p async for p in hanoi.stream_products()]) == 3
    await hanoi.aclose()
    await saigon.aclose()


async def test_a_refresh_token_past_thirty_days_needs_reauthorisation() -> None:
    sandbox = frozen_sandbox()
    recorder = ReauthRecorder()
    shop = channel(
        sandbox,
        plugins=plugins_with(recorder),
        refresh_expires_at=sandbox.clock.now().replace(microsecond=0).isoformat(),
    )
    sandbox.clock.advance(31 * 86400)
    with pytest.raises(ReauthorisationRequired, match="expired"):
        await shop.check()
    assert recorder.calls == [], "the engine that catches the error fires the hook"
    assert requests_to(sandbox, REFRESH) == [], "an expired refresh token is not even tried"
    await shop.aclose()


async def test_settings_without_an_expiry_refresh_at_first_use() -> None:
    sandbox = frozen_sandbox()
    shop = channel(sandbox, token_expires_at=None)
    await shop.check()
    assert sandbox.grants.refreshes == 1
    token = await shop.token_keeper.current()
    assert token.expires_at is not None
    assert (token.expires_at - sandbox.clock.now()).total_seconds() > 3 * 3600
    await shop.aclose()
