"""OAuth install flow (callback HMAC, code exchange) and the client-credentials grant."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta

import httpx
import pytest

from omnisdk.auth import MemoryTokenStore, Token
from omnisdk.errors import BadRequest
from omnisdk.http import HttpClient
from omnisdk.plugins import Plugins
from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk_shopify.auth import (
    CallbackVerificationError,
    callback_hmac,
    exchange_code,
    install_url,
    verify_callback,
)
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox

# The worked example of shopify.md section 1.
EXAMPLE = {
    "code": "0907a61c0c8d55e99db179b68161bc00",
    "host": "ZGVtby1zaG9wLm15c2hvcGlmeS5jb20vYWRtaW4",
    "shop": "demo-shop.myshopify.com",
    "state": "0.6784241404160823",
    "timestamp": "1700000000",
}
EXAMPLE_HMAC = "d4335b9c486d675a4951a8243923899f95de7eea703a7c266a3f3e0aff6913ab"


def test_callback_hmac_matches_the_worked_example() -> None:
    """Sorted ``k=v`` pairs, hex HMAC-SHA256 under the app secret."""
    assert callback_hmac({**EXAMPLE, "hmac": "ignored"}, "hush") == EXAMPLE_HMAC
    verify_callback(
        {**EXAMPLE, "hmac": EXAMPLE_HMAC},
        "hush",
        now=1700000000 + 60,
        state=EXAMPLE["state"],
        shop_domain="demo-shop.myshopify.com",
    )


def test_callback_hmac_agrees_with_shopifyapi() -> None:
    """Escaping rules (``%``, ``=``, ``&``, ``[]`` lists) match ShopifyAPI's own."""
    shopify = pytest.importorskip("shopify")
    tricky = {**EXAMPLE, "a%b=c": "x&y%z", "ids[]": ["1", "2"]}
    shopify.Session.secret = "hush"
    try:
        assert callback_hmac(tricky, "hush") == shopify.Session.calculate_hmac(tricky)
    finally:
        shopify.Session.secret = None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"shop": "evil-shop.myshopify.com"}, "HMAC"),
        ({"hmac": EXAMPLE_HMAC.upper()}, "HMAC"),
        ({"hmac": ""}, "HMAC"),
    ],
)
def test_tampered_callbacks_are_refused(change: dict[str, str], why: str) -> None:
    """Any changed parameter, or a missing HMAC, is refused."""
    with pytest.raises(CallbackVerificationError, match=why):
        verify_callback({**EXAMPLE, "hmac": EXAMPLE_HMAC, **change}, "hush", now=1700000000)


def test_stale_or_foreign_callbacks_are_refused() -> None:
    """Older than a day, another state nonce, another shop: refused."""
    signed = {**EXAMPLE, "hmac": EXAMPLE_HMAC}
    with pytest.raises(CallbackVerificationError, match="older"):
        verify_callback(signed, "hush", now=1700000000 + 86_401)
    with pytest.raises(CallbackVerificationError, match="state"):
        verify_callback(signed, "hush", now=1700000000, state="another-nonce")
    with pytest.raises(CallbackVerificationError, match="shop"):
        verify_callback(signed, "hush", now=1700000000, shop_domain="b.myshopify.com")


async def test_install_flow_against_the_sandbox(sandbox: ShopifySandbox) -> None:
    """Authorize -> signed redirect -> verify -> exchange the code -> the token works once."""
    transport = httpx.ASGITransport(app=sandbox.app)
    url = install_url(
        "demo-shop.myshopify.com",
        sandbox.client_id,
        ["read_products"],
        "https://app.example.vn/auth/callback",
        "nonce-123",
        base_url=IN_PROCESS_URL,
    )
    async with httpx.AsyncClient(transport=transport) as browser:
        redirect = await browser.get(url)
    assert redirect.status_code == 302
    target = urllib.parse.urlsplit(redirect.headers["location"])
    assert target.netloc == "app.example.vn"
    params = dict(urllib.parse.parse_qsl(target.query))
    verify_callback(
        params,
        sandbox.client_secret,
        state="nonce-123",
        shop_domain="demo-shop.myshopify.com",
        now=sandbox.clock.time(),
    )
    async with HttpClient(
        base_url=IN_PROCESS_URL,
        channel="shopify",
        account="install",
        transport=transport,
        max_attempts=1,
    ) as http:
        token = await exchange_code(http, sandbox.client_id, sandbox.client_secret, params["code"])
        assert token.expires_at is None and "read_products" in token.extra["scope"]
        assert sandbox.token_valid(token.access_token.get_secret_value())
        with pytest.raises(BadRequest):
            await exchange_code(http, sandbox.client_id, sandbox.client_secret, params["code"])


def _credentials_channel(
    sandbox: ShopifySandbox, plugins: Plugins, store: MemoryTokenStore
) -> ShopifyChannel:
    settings = {
        "shop": "demo-shop",
        "base_url": IN_PROCESS_URL,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "api_version": "2026-10",
    }
    return ShopifyChannel(
        settings,
        account="hcm",
        plugins=plugins,
        tokens=store,
        transport=httpx.ASGITransport(app=sandbox.app),
    )


async def test_client_credentials_token_is_fetched_and_persisted(
    sandbox: ShopifySandbox, plugins: Plugins
) -> None:
    """No token configured: the channel gets one (~24 h) and saves it in the token store."""
    store = MemoryTokenStore()
    async with _credentials_channel(sandbox, plugins, store) as channel:
        info = await channel.check()
    assert info.currency == "VND"
    saved = await store.load_token("shopify", "hcm")
    assert saved is not None and saved.expires_at is not None
    assert saved.expires_at - saved.issued_at == timedelta(seconds=86399)
    assert sandbox.token_valid(saved.access_token.get_secret_value())


async def test_token_past_half_life_is_refreshed_before_use(
    sandbox: ShopifySandbox, plugins: Plugins
) -> None:
    """A token 13 h into its 24 h is replaced before the call, and the new one is saved."""
    store = MemoryTokenStore()
    from datetime import UTC, datetime

    old = Token.lasting(
        "shpat_issued_yesterday", seconds=86399, now=datetime.now(UTC) - timedelta(hours=13)
    )
    await store.save_token("shopify", "hcm", old)
    async with _credentials_channel(sandbox, plugins, store) as channel:
        await channel.check()
        assert channel.token_keeper.refreshes == 1
    fresh = await store.load_token("shopify", "hcm")
    assert fresh is not None and fresh.access_token != old.access_token


async def test_expired_token_refused_with_401_is_replaced_once(
    sandbox: ShopifySandbox, plugins: Plugins
) -> None:
    """The sandbox's clock passes the token's expiry: 401, one refresh, the call succeeds."""
    store = MemoryTokenStore()
    async with _credentials_channel(sandbox, plugins, store) as channel:
        await channel.check()
        first = await store.load_token("shopify", "hcm")
        sandbox.clock.advance(86_400)
        await channel.check()
        second = await store.load_token("shopify", "hcm")
    assert first is not None and second is not None
    assert first.access_token != second.access_token
    assert not sandbox.token_valid(first.access_token.get_secret_value())


def test_settings_need_some_credentials() -> None:
    """Neither a token nor client credentials: a clear configuration error."""
    from omnisdk.errors import ConfigError

    with pytest.raises(ConfigError, match="access_token"):
        ShopifyChannel({"shop": "demo-shop"}, plugins=Plugins(entry_points=False))
    with pytest.raises(ConfigError, match="shop"):
        ShopifyChannel(
            {"shop": "bad shop!", "access_token": "x"}, plugins=Plugins(entry_points=False)
        )
