"""The Graph client against the sandbox: proof on every call, Meta's error bodies on the
exception hierarchy, the usage headers slowing the account down, throttles as RateLimited."""

from __future__ import annotations

import json

import httpx
import pytest
from facebook_testkit import channel_on, seeded
from omnisdk_facebook import appsecret_proof
from omnisdk_facebook.errors import (
    FacebookAuthError,
    FacebookBadRequest,
    FacebookNotFound,
    FacebookRateLimited,
    FacebookUnavailable,
    error_for,
)
from omnisdk_facebook.usage import read_usage

from omnisdk import StockUpdate
from omnisdk.errors import AuthError, RateLimited


def _body(code: int, subcode: int | None = None, **extra: object) -> dict[str, object]:
    error: dict[str, object] = {"message": f"(#{code}) ...", "type": "OAuthException",
                                "code": code, "fbtrace_id": "AbCdEf123", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (_body(190, 463), FacebookAuthError),
        (_body(104), FacebookAuthError),
        (_body(200), FacebookAuthError),
        (_body(4), FacebookRateLimited),
        (_body(80014, 2446079, is_transient=True), FacebookRateLimited),
        (_body(2, is_transient=True), FacebookUnavailable),
        (_body(100, 33), FacebookNotFound),
        (_body(100), FacebookBadRequest),
        ({"success": False}, FacebookBadRequest),
    ],
)
def test_error_bodies_land_on_the_hierarchy(body: dict[str, object], kind: type) -> None:
    error = error_for(body, status=400)
    assert isinstance(error, kind)
    if "error" in body:
        assert error.fbtrace_id == "AbCdEf123"  # type: ignore[union-attr]
        assert error.graph_code == body["error"]["code"]  # type: ignore[index,union-attr]
    assert error_for({"data": []}, status=200) is None


def test_usage_headers_are_read_and_nonsense_is_ignored() -> None:
    headers = {
        "X-App-Usage": json.dumps({"call_count": 28, "total_time": 25, "total_cputime": 25}),
        "X-Business-Use-Case-Usage": json.dumps({"111": [
            {"type": "catalog_batch", "call_count": 96, "total_cputime": 10, "total_time": 12,
             "estimated_time_to_regain_access": 3}]}),
    }
    usage = read_usage(headers)
    assert usage is not None
    assert (usage.highest, usage.regain_seconds, usage.use_case) == (96, 180, "catalog_batch")
    assert usage.pause() == 180
    assert read_usage({"X-App-Usage": "{not json"}) is None
    assert read_usage({"X-App-Usage": json.dumps({"call_count": "NaN"})}).pause() == 0  # type: ignore[union-attr]
    assert read_usage({}) is None


async def test_every_call_carries_the_token_and_its_proof() -> None:
    sandbox = seeded()
    async with channel_on(sandbox) as channel:
        info = await channel.check()
    assert info.details["product_count"] == "4" and info.currency == "VND"
    [call] = sandbox.requests
    query = httpx.QueryParams(call.query)
    assert call.path == f"/v26.0/{sandbox.catalog.id}"
    assert query["appsecret_proof"] == appsecret_proof(sandbox.app_secret, sandbox.access_token)
    assert query["access_token"] == sandbox.access_token


async def test_a_wrong_secret_is_refused_with_the_graph_error() -> None:
    sandbox = seeded()
    async with channel_on(sandbox, app_secret="wrong-secret", max_attempts=1) as channel:
        with pytest.raises(AuthError) as refused:
            await channel.check()
    assert isinstance(refused.value, FacebookAuthError)
    assert refused.value.graph_code == 100 and refused.value.fbtrace_id
    assert "appsecret_proof" in str(refused.value)
    assert sandbox.app_secret not in str(refused.value)


async def test_high_usage_pauses_the_account() -> None:
    sandbox = seeded()
    sandbox.report_usage("catalog_management", 95)
    async with channel_on(sandbox) as channel:
        await channel.check()
        assert channel.last_usage is not None and channel.last_usage.highest == 95
        assert channel.http.limiter.paused_for() > 0.5


async def test_a_throttled_batch_is_rate_limited_with_the_regain_time() -> None:
    sandbox = seeded()
    sandbox.throttle("catalog_batch", regain_minutes=3)
    async with channel_on(sandbox) as channel:
        with pytest.raises(RateLimited) as throttled:
            await channel.write_stock_batch([StockUpdate(sku="NON-LA-HUE", quantity=3)])
        assert isinstance(throttled.value, FacebookRateLimited)
        assert throttled.value.graph_code == 80014
        assert throttled.value.retry_after == 180
        assert channel.http.limiter.paused_for() > 100
    assert sandbox.listing("NON-LA-HUE")["stock"] == 7
