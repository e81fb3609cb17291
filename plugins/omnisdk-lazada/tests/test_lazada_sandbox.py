"""The sandbox's gateway as any client meets it: parameters, timestamps, signatures, tokens,
call limits, injected faults in Lazada's shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lazada_testkit import IN_PROCESS, channel, frozen_sandbox, seed
from omnisdk_lazada.client import PARTNER_ID, Signer, sign, timestamp_ms
from omnisdk_lazada.sandbox import LazadaSandbox

from omnisdk.errors import RateLimited


def _signed(
    sandbox: LazadaSandbox, path: str, extra: dict[str, str], **override: Any
) -> dict[str, str]:
    params = Signer(sandbox.app_key, sandbox.app_secret).signed_params(
        path,
        extra,
        timestamp=timestamp_ms(sandbox.clock.now()),
        access_token=sandbox.initial_access.value,
    )
    params.update({k: v for k, v in override.items() if v is not None})
    for name in [k for k, v in override.items() if v is None]:
        params.pop(name, None)
    return params


async def _get(sandbox: LazadaSandbox, path: str, params: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as client:
        answer = await client.get(f"{IN_PROCESS}/rest{path}", params=params)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


async def test_a_signed_get_works_and_the_envelope_is_lazadas() -> None:
    sandbox = frozen_sandbox()
    seed(sandbox)
    body = await _get(sandbox, "/products/get", _signed(sandbox, "/products/get", {"limit": "2"}))
    assert body["code"] == "0" and len(body["data"]["products"]) == 2
    assert body["data"]["total_products"] == 3 and body["request_id"]


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"app_key": None}, "MissingParameter"),
        ({"access_token": None}, "IncompleteSignature"),  # the signature covered it
        ({"app_key": "999999"}, "InvalidAppKey"),
        ({"sign": "00" * 32}, "IncompleteSignature"),
        ({"timestamp": "soon"}, "InvalidParameter"),
    ],
)
async def test_gateway_refusals(override: dict[str, Any], code: str) -> None:
    sandbox = frozen_sandbox()
    body = await _get(sandbox, "/products/get", _signed(sandbox, "/products/get", {}, **override))
    assert body["code"] == code, body
    assert body["type"] == "ISV" and body["message"] and body["request_id"]


async def test_a_missing_access_token_and_an_old_timestamp() -> None:
    sandbox = frozen_sandbox()
    stale = _signed(sandbox, "/products/get", {})
    sandbox.clock.advance(7201)
    assert (await _get(sandbox, "/products/get", stale))["code"] == "InvalidTimestamp"
    params = {
        "app_key": sandbox.app_key,
        "sign_method": "sha256",
        "timestamp": timestamp_ms(sandbox.clock.now()),
        "partner_id": PARTNER_ID,
    }
    params["sign"] = sign(sandbox.app_secret, "/products/get", params)
    body = await _get(sandbox, "/products/get", params)
    assert (body["code"], body["message"]) == (
        "MissingParameter",
        "missing required parameter: access_token",
    )


async def test_the_java_sdks_variant_skipping_empty_values_is_accepted() -> None:
    sandbox = frozen_sandbox()
    params = _signed(sandbox, "/products/get", {})
    params["filter"] = ""
    java = {k: v for k, v in params.items() if k != "sign" and v != ""}
    params["sign"] = sign(sandbox.app_secret, "/products/get", java)
    assert (await _get(sandbox, "/products/get", params))["code"] == "0"
    # ...and an ISO 8601 UTC timestamp, which the docs also allow.
    iso = _signed(sandbox, "/products/get", {})
    iso["timestamp"] = sandbox.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    iso.pop("sign")
    iso["sign"] = sign(sandbox.app_secret, "/products/get", iso)
    assert (await _get(sandbox, "/products/get", iso))["code"] == "0"


async def test_business_parameter_errors() -> None:
    sandbox = frozen_sandbox()
    checks = [
        ("/products/get", {"limit": "51"}, "19"),
        ("/products/get", {"offset": "10001"}, "14"),
        ("/products/get", {"update_after": "hôm qua"}, "17"),
        ("/products/get", {"sku_seller_list": "NON-LA"}, "70"),
        ("/orders/get", {}, "MissingParameter"),
        ("/orders/get", {"created_after": "2025-01-01T00:00:00+07:00", "status": "x"}, "36"),
        ("/orders/get", {"created_after": "2025-01-01T00:00:00+0700", "sort_by": "x"}, "74"),
        ("/orders/items/get", {"order_ids": "1,2"}, "56"),
        ("/order/get", {"order_id": "1"}, "16"),
    ]
    for path, extra, code in checks:
        body = await _get(sandbox, path, _signed(sandbox, path, extra))
        assert body["code"] == code, (path, extra, body)


async def test_the_call_limit_answers_api_call_limit_and_the_channel_waits() -> None:
    sandbox = frozen_sandbox(rate_limit=2)
    seed(sandbox)
    seller = channel(sandbox, max_attempts=2)
    await seller.check()
    await seller.check()
    with pytest.raises(RateLimited) as limited:
        await seller.check()
    assert limited.value.retry_after == 1.0
    assert "ApiCallLimit" in str(limited.value)
    sandbox.clock.advance(1)
    assert (await seller.check()).name
    await seller.aclose()


async def test_injected_faults_speak_lazada() -> None:
    sandbox = frozen_sandbox()
    with sandbox.lock:
        sandbox.faults = sandbox.faults.model_copy(
            update={"fail_first": 2, "error_statuses": [429]}
        )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as client:
        answer = await client.get(f"{IN_PROCESS}/rest/products/get")
        assert answer.status_code == 429 and answer.json()["code"] == "ApiCallLimit"
    with sandbox.lock:
        sandbox.faults = sandbox.faults.model_copy(
            update={"fail_first": 1, "error_statuses": [503]}
        )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as client:
        answer = await client.get(f"{IN_PROCESS}/rest/products/get")
        assert answer.status_code == 503 and answer.json()["type"] == "SYSTEM"


async def test_products_walk_update_windows_over_a_small_ceiling() -> None:
    """The products walk: past the offset ceiling, update-time windows cut in two."""
    sandbox = frozen_sandbox(product_offset_ceiling=40)
    for index in range(130):
        seed(
            sandbox,
            [
                {
                    "sku": f"TRA-{index:03d}",
                    "title": f"Trà Shan tuyết {index}",
                    "price": "90000",
                    "stock": 1,
                }
            ],
        )
        sandbox.clock.advance(37)
    seller = channel(sandbox)
    seller.product_offset_ceiling = 40
    products = [p async for p in seller.stream_products()]
    skus = [sku for p in products for sku in p.skus]
    assert len(skus) == len(set(skus)) == 130
    with sandbox.lock:
        windowed = [r for r in sandbox.requests if "update_after" in r.query]
    assert windowed, "the walk never used update-time windows"
    await seller.aclose()
