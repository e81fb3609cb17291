"""Fault tolerance: Shopee's error bodies mapped onto the hierarchy, transient failures retried,
single-use credentials never re-sent after a lost answer, rate limits honoured."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from omnisdk_shopee import ShopeeChannel
from omnisdk_shopee.errors import ShopeeAuthError, daily_limit_reset, error_for
from shopee_testkit import START, channel, frozen_sandbox, order, plugins_with, seed

from omnisdk import (
    AuthError,
    BadRequest,
    NotFound,
    PlatformUnavailable,
    RateLimited,
    ReauthorisationRequired,
    StockUpdate,
)
from omnisdk.testing.faults import FaultSettings


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry back-off of milliseconds, so injected failures cost no real time."""
    monkeypatch.setattr(ShopeeChannel, "retry_backoff", 0.01)


def _body(code: str, message: str = "m") -> dict[str, Any]:
    return {"request_id": "9f47220ff5a702e2aeed5da43ebcf529", "error": code, "message": message}


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        ("error_server", PlatformUnavailable, True),
        ("error_system_busy", PlatformUnavailable, True),
        ("error_rate_limit", RateLimited, True),
        ("error_limit", RateLimited, True),
        ("error_sign", ShopeeAuthError, False),
        ("error_auth", ShopeeAuthError, False),
        ("invalid_acceess_token", ShopeeAuthError, False),
        ("shop_access_expired", ReauthorisationRequired, False),
        ("error_item_not_found", NotFound, False),
        ("error_param", BadRequest, False),
        ("order.order_list_invalid_time", BadRequest, False),
        ("logistics.package_already_shipped", BadRequest, False),
    ],
)
def test_error_bodies_map_onto_the_hierarchy(
    code: str, kind: type[Exception], retryable: bool
) -> None:
    error = error_for(_body(code, "Thông báo lỗi"), status=200)
    assert type(error) is kind
    assert error is not None and error.retryable is retryable
    assert error.request_id == "9f47220ff5a702e2aeed5da43ebcf529"
    assert code in str(error) and "Thông báo lỗi" in str(error)


def test_only_a_refused_access_token_asks_for_a_refresh() -> None:
    refused = [
        code
        for code in ("error_auth", "invalid_acceess_token", "error_sign", "error_api_permission")
        if isinstance(e := error_for(_body(code)), ShopeeAuthError) and e.token_refused
    ]
    assert refused == ["error_auth", "invalid_acceess_token"]
    assert error_for({"request_id": "x", "error": "", "message": ""}) is None


def test_a_refused_refresh_means_reauthorisation() -> None:
    for code, message in (
        ("error_shop_refresh_token", "Your refresh token is error"),
        ("error_param", "Invalid refresh_token"),
        ("refresh_token_expired", "Your refresh_token expired."),
        ("shop_access_expired", "Your access to shop has expired."),
        ("common.shop_no_linked", "Partner and shop has no linked."),
    ):
        error = error_for(_body(code, message), refreshing=True)
        assert isinstance(error, ReauthorisationRequired), code
    for partner_problem in ("error_sign", "error_auth"):
        error = error_for(_body(partner_problem, "partner_id is invalid"), refreshing=True)
        assert isinstance(error, AuthError), partner_problem
        assert not isinstance(error, ReauthorisationRequired), partner_problem


def test_the_daily_quota_resets_at_midnight_utc_plus_eight() -> None:
    at = datetime(2025, 3, 15, 15, 30, tzinfo=UTC)  # 23:30 in Singapore
    assert daily_limit_reset(at) == 30 * 60
    error = error_for(_body("error_limit"), now=at)
    assert isinstance(error, RateLimited) and error.retry_after == 1800


def _mock(handler: Any) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def _shopee(status: int, body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


def _settings(**extra: Any) -> dict[str, Any]:
    return {
        "base_url": "http://shopee.mock",
        "partner_id": 2001887,
        "partner_key": "shpk_mock_key_0001",
        "shop_id": 322300222,
        "access_token": "a" * 32,
        "refresh_token": "r" * 32,
        "token_expires_at": (datetime.now(UTC) + timedelta(hours=4)).isoformat(),
        **extra,
    }


async def test_a_200_with_error_server_is_retried_and_then_succeeds() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) < 3:
            return _shopee(200, _body("error_server", "Something wrong. Please try later."))
        return _shopee(200, {**_body(""), "shop_name": "Tiệm Bánh Mì Cô Ba", "region": "VN"})

    shop = ShopeeChannel(_settings(), plugins=plugins_with(), transport=_mock(handler))
    info = await shop.check()
    assert info.name == "Tiệm Bánh Mì Cô Ba" and len(calls) == 3
    await shop.aclose()


async def test_the_daily_quota_is_raised_at_once_not_waited_out() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return _shopee(200, _body("error_limit", "You have reached the daily API call limit"))

    shop = ShopeeChannel(_settings(), plugins=plugins_with(), transport=_mock(handler))
    with pytest.raises(RateLimited) as limited:
        await shop.check()
    assert calls == ["/api/v2/shop/get_shop_info"]
    assert limited.value.retry_after is not None and limited.value.retry_after > 60
    await shop.aclose()


async def test_a_refresh_answered_with_a_transient_error_is_tried_again() -> None:
    refreshes: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/access_token/get"):
            refreshes.append(json.loads(request.content))
            if len(refreshes) == 1:
                return _shopee(500, _body("error_inner", "Something wrong."))
            return _shopee(
                200,
                {
                    **_body(""),
                    "access_token": "b" * 32,
                    "refresh_token": "s" * 32,
                    "expire_in": 14400,
                    "partner_id": 2001887,
                    "shop_id": 322300222,
                },
            )
        return _shopee(200, {**_body(""), "shop_name": "Tiệm", "region": "VN"})

    shop = ShopeeChannel(
        _settings(token_expires_at=None), plugins=plugins_with(), transport=_mock(handler)
    )
    await shop.check()
    assert len(refreshes) == 2 and refreshes[0] == refreshes[1]
    assert refreshes[0]["refresh_token"] == "r" * 32
    await shop.aclose()


async def test_a_refresh_whose_answer_was_lost_is_not_sent_again() -> None:
    refreshes = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal refreshes
        if request.url.path.endswith("/auth/access_token/get"):
            refreshes += 1
            raise httpx.ReadTimeout("the answer never came", request=request)
        return _shopee(200, {**_body(""), "shop_name": "Tiệm", "region": "VN"})

    shop = ShopeeChannel(
        _settings(token_expires_at=None), plugins=plugins_with(), transport=_mock(handler)
    )
    with pytest.raises(PlatformUnavailable):
        await shop.check()
    assert refreshes == 1, "a single-use refresh token is never re-sent after a lost answer"
    assert not shop.needs_reauthorisation
    await shop.aclose()


async def test_a_backfill_survives_429s_and_5xx() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox, [{"sku": "CA-PHE", "title": "Cà phê", "price": "15000", "stock": 500}])
    placed = {
        order(sandbox, {"CA-PHE": 1}, when=START - timedelta(hours=5 * i)) for i in range(150)
    }
    sandbox.faults = FaultSettings(
        error_rate=0.3, error_statuses=[429, 500, 502, 503], retry_after=0, seed=21
    )
    shop = channel(sandbox, max_attempts=12)
    seen = Counter(
        [
            o.channel_ref.external_id
            async for o in shop.stream_orders(updated_since=START - timedelta(days=32))
        ]
    )
    assert set(seen) == placed and max(seen.values()) == 1
    assert sum(1 for r in sandbox.requests if r.fault) >= 2
    await shop.aclose()


async def test_stock_writes_survive_faults_with_every_result_reported() -> None:
    sandbox = frozen_sandbox()
    seed(
        sandbox,
        [
            {
                "sku": f"DEP-{i:02d}",
                "title": "Dép tổ ong",
                "price": "35000",
                "stock": 1,
                "product": "Dép tổ ong",
                "options": {"Cỡ": str(36 + i)},
            }
            for i in range(8)
        ],
    )
    sandbox.faults = FaultSettings(error_rate=0.4, retry_after=0, seed=2)
    shop = channel(sandbox, max_attempts=15)
    results = await shop.write_stock(
        [StockUpdate(sku=f"DEP-{i:02d}", quantity=10 + i) for i in range(8)]
    )
    assert all(r.ok for r in results), results
    assert {row["sku"]: row["stock"] for row in sandbox.listings()} == {
        f"DEP-{i:02d}": 10 + i for i in range(8)
    }
    await shop.aclose()


async def test_shopees_own_rate_limit_is_backed_off_and_survived() -> None:
    sandbox = frozen_sandbox(rate_limit=4)
    seed(
        sandbox,
        [
            {
                "sku": f"KHAN-{i:02d}-{colour}",
                "title": "Khăn",
                "price": "99000",
                "stock": 2,
                "product": f"Khăn rằn Nam Bộ {i}",
                "options": {"Màu": colour},
            }
            for i in range(6)
            for colour in ("Đen", "Đỏ")
        ],
    )
    shop = channel(sandbox, max_attempts=10)

    async def sleep(seconds: float) -> None:
        sandbox.clock.advance(seconds)  # the shop's call limit leaks on the sandbox clock

    shop.http._sleep = sleep
    products = [p async for p in shop.stream_products()]
    assert len(products) == 6
    assert any(r.status == 429 for r in sandbox.requests)
    await shop.aclose()


async def test_a_batch_call_that_fails_fails_only_its_items() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    shop = channel(sandbox, max_attempts=1)
    await shop.refresh_listings()
    with sandbox.lock:
        hat = sandbox.catalog.find("NON-LA-HUE")
        assert hat is not None
        del sandbox.catalog.items[hat[0].item_id]  # the item vanished on Shopee meanwhile
    results = await shop.write_stock(
        [StockUpdate(sku="NON-LA-HUE", quantity=2), StockUpdate(sku="AO-DAI-DO", quantity=2)]
    )
    assert [r.ok for r in results] == [False, True]
    assert results[0].code == "error_item_not_found"
    await shop.aclose()
