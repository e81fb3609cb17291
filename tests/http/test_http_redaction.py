"""Secrets never reach logs, error messages or reprs."""

from __future__ import annotations

import json
import logging
import pickle

import httpx
import pytest
from _http_testkit import AutoClock, LoopbackServer, Reply, Seen

from omnisdk._redact import RedactingFilter, is_sensitive_name, redact_headers
from omnisdk.errors import ChannelError, PlatformUnavailable
from omnisdk.http import HttpClient, redact

SHOP_TOKEN = "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"
BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.Zm9vYmFy"
ACCESS = "71594a4c7a7a4e5f8e0d6b2a3c4d5e6f"
SIGN = "c9b7aa5e0e3b4e8f9a1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f"
PARTNER_KEY = "partner+key/with=odd&chars"
BODY_SECRET = "client-secret-in-the-body-8f8f8f"
REFRESHED = "refreshed-token-0000-1111-2222"
ALL_SECRETS = (SHOP_TOKEN, BEARER, ACCESS, SIGN, PARTNER_KEY, BODY_SECRET, REFRESHED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://partner.shopeemobile.com/api/v2/product/get_item_list?partner_id=2001887"
            "&timestamp=1700000000&access_token=abcdef123&shop_id=322300222&sign=c9b7aa&offset=0",
            "GET https://partner.shopeemobile.com/api/v2/product/get_item_list?partner_id=2001887"
            "&timestamp=1700000000&access_token=***&shop_id=322300222&sign=***&offset=0",
        ),
        (
            '{"access_token": "71594a4c", "refresh_token":"516c6b57", "expire_in": 14400}',
            '{"access_token": "***", "refresh_token": "***", "expire_in": 14400}',
        ),
        (
            "{'client_secret': 'shh-123', 'title': 'Áo thun cổ tròn'}",
            "{'client_secret': '***', 'title': 'Áo thun cổ tròn'}",
        ),
        (
            "Authorization: Bearer eyJhbGciOi.abc\nX-Shopify-Access-Token: shpat_123456\n"
            "Content-Type: application/json",
            "Authorization: ***\nX-Shopify-Access-Token: ***\nContent-Type: application/json",
        ),
        ("X-Shopify-Hmac-Sha256: 2cb8Sx3l0QfOe3sE6w==", "X-Shopify-Hmac-Sha256: ***"),
        ("sent Bearer abcdefghijkl to the shop", "sent Bearer *** to the shop"),
        (
            "https://api-key:pass-word@shop.myshopify.com/admin",
            "https://api-key:***@shop.myshopify.com/admin",
        ),
        (
            "code=4a5b6c7d&state=nonce-1&grant_type=authorization_code",
            "code=***&state=nonce-1&grant_type=authorization_code",
        ),
        (
            '{"partner_key": "pk", "code": 190, "error": "error_auth", "ok": true}',
            '{"partner_key": "***", "code": 190, "error": "error_auth", "ok": true}',
        ),
        (
            "error_code=E501 sign_method=sha256 idempotency_key=abc-1 app_secret=s3",
            "error_code=E501 sign_method=sha256 idempotency_key=abc-1 app_secret=***",
        ),
        (
            "Đơn hàng 2024-01-01T12:30:00+07:00: Áo thun cổ tròn, 199.000 ₫, +84 912 345 678",
            "Đơn hàng 2024-01-01T12:30:00+07:00: Áo thun cổ tròn, 199.000 ₫, +84 912 345 678",
        ),
    ],
)
def test_redact_masks_values_under_sensitive_names(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_masks_known_values_anywhere_also_url_encoded() -> None:
    text = (
        f"key {PARTNER_KEY} in a sentence; encoded partner%2Bkey%2Fwith%3Dodd%26chars; "
        f"plus-encoded partner%2Bkey%2Fwith%3Dodd%26chars; shop_id=322300222"
    )
    cleaned = redact(text, [PARTNER_KEY, "", "ab"])  # empty and tiny values are ignored
    assert PARTNER_KEY not in cleaned
    assert "partner%2Bkey" not in cleaned
    assert cleaned.count("***") == 3
    assert "shop_id=322300222" in cleaned


@pytest.mark.parametrize(
    "name",
    [
        "access_token",
        "Authorization",
        "X-Shopify-Access-Token",
        "X-Shopify-Hmac-Sha256",
        "sign",
        "signature",
        "key",
        "secret",
        "password",
        "client_secret",
        "code",
        "refresh_token",
        "partner_key",
        "X-Hub-Signature-256",
        "Cookie",
        "api_key",
        "X-API-Key",
        "app_secret",
        "token",
    ],
)
def test_sensitive_names(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "shop_id",
        "partner_id",
        "timestamp",
        "sign_method",
        "error_code",
        "country_code",
        "Idempotency-Key",
        "X-Request-Id",
        "Content-Type",
        "title",
        "item_id_list",
    ],
)
def test_readable_names(name: str) -> None:
    assert not is_sensitive_name(name)


def test_redact_headers() -> None:
    assert redact_headers(
        {"Authorization": "Bearer x", "Accept": "application/json", "X-Note": f"uses {ACCESS}"},
        [ACCESS],
    ) == {"Authorization": "***", "Accept": "application/json", "X-Note": "uses ***"}


def test_redacting_filter_rewrites_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.http.redacting_filter")
    logger.addFilter(RedactingFilter(lambda: [PARTNER_KEY]))
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("calling %s with %s", "https://x/y?sign=abc123", PARTNER_KEY)
    assert caplog.records[-1].getMessage() == "calling https://x/y?sign=*** with ***"


async def test_no_secret_reaches_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    def respond(seen: Seen) -> Reply:
        # A careless platform echoing credentials back in its error message.
        body = {
            "request_id": "e-1",
            "error": "error_server",
            "message": f"bad key {PARTNER_KEY} for sign {SIGN}, token {REFRESHED}",
        }
        return Reply(500, body=json.dumps(body).encode())

    caplog.set_level(logging.DEBUG)
    # An in-process CLI run earlier in this worker may have left httpx at WARNING
    # (omnisdk.cli.logs quietens it): this test needs its INFO request lines.
    caplog.set_level(logging.DEBUG, logger="httpx")
    async with LoopbackServer(respond) as server:
        clock = AutoClock()
        http = HttpClient(
            base_url=server.url,
            channel="shopee",
            account="shop-hcm",
            max_attempts=3,
            headers={"X-Shopify-Access-Token": SHOP_TOKEN},
            secrets=[PARTNER_KEY],
            clock=clock,
            sleep=clock.sleep,
        )
        http.add_secret(REFRESHED)
        async with http:
            with pytest.raises(PlatformUnavailable) as caught:
                await http.post(
                    "/api/v2/product/update_stock",
                    params={
                        "partner_id": 2001887,
                        "access_token": ACCESS,
                        "sign": SIGN,
                        "shop_id": 322300222,
                    },
                    headers={"Authorization": f"Bearer {BEARER}"},
                    json={"client_secret": BODY_SECRET, "item_name": "Áo thun cổ tròn"},
                )
            client_repr = repr(http)

    # The secrets really were sent, so their absence below means something.
    sent = server.requests[0]
    assert sent.headers["x-shopify-access-token"] == SHOP_TOKEN
    assert sent.headers["authorization"] == f"Bearer {BEARER}"
    assert f"access_token={ACCESS}" in sent.target
    assert f"sign={SIGN}" in sent.target
    assert BODY_SECRET.encode() in sent.body
    assert len(server.requests) == 3

    # Our own DEBUG and WARNING lines and httpx's INFO lines were all captured.
    names = {record.name for record in caplog.records}
    assert {"omnisdk.http", "httpx"} <= names
    assert any(record.levelno == logging.WARNING for record in caplog.records)
    assert any(
        record.levelno == logging.DEBUG and record.name == "omnisdk.http"
        for record in caplog.records
    )

    error = caught.value
    everything = "\n".join(
        [
            caplog.text,
            *(record.getMessage() for record in caplog.records),
            *(repr(vars(record)) for record in caplog.records),
            str(error),
            repr(error),
            repr(error.args),
            repr(vars(error)),
            repr(pickle.loads(pickle.dumps(error))),
            client_repr,
        ]
    )
    for secret in ALL_SECRETS:
        assert secret not in everything, secret
    assert "partner%2Bkey" not in everything
    assert "shop_id=322300222" in str(error)  # the rest of the URL is still there to read
    expected_repr = f"HttpClient(base_url='{server.url}', channel='shopee', account='shop-hcm')"
    assert client_repr == expected_repr


async def test_successful_requests_log_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"X-Request-Id": "ok-1"})

    caplog.set_level(logging.DEBUG)
    async with HttpClient(
        base_url="https://shop.myshopify.com",
        channel="shopify",
        account="q1",
        transport=httpx.MockTransport(respond),
        headers={"X-Shopify-Access-Token": SHOP_TOKEN},
    ) as http:
        await http.get(
            "/admin/oauth/access_token",
            params={"code": "4a5b6c7d8e9f", "client_secret": BODY_SECRET},
        )
    assert seen[0].url.params["code"] == "4a5b6c7d8e9f"
    ours = [record for record in caplog.records if record.name == "omnisdk.http"]
    assert len(ours) == 1
    message = ours[0].getMessage()
    assert "request id ok-1" in message
    assert " -> 200 in " in message
    assert "attempt 1 of 5" in message
    assert "4a5b6c7d8e9f" not in caplog.text
    assert BODY_SECRET not in caplog.text
    assert SHOP_TOKEN not in caplog.text
    assert ours[0].__dict__["http_status"] == 200


async def test_a_secret_registered_later_is_masked_in_errors() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "error_param", "message": f"token {REFRESHED} is not for this shop"}
        )

    async with HttpClient(
        base_url="https://x.test",
        channel="shopee",
        account="a",
        transport=httpx.MockTransport(respond),
    ) as http:
        http.add_secret(REFRESHED)
        with pytest.raises(ChannelError) as caught:
            await http.get("/p")
    assert REFRESHED not in str(caught.value)
    assert "is not for this shop" in str(caught.value)
