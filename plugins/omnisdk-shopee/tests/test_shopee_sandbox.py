"""The sandbox's gateway: real signature and timestamp checks, Shopee's error bodies, batch
limits, parameter forms clients send, rate-limit answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from omnisdk_shopee.client import Signer
from omnisdk_shopee.sandbox import ShopeeSandbox
from shopee_testkit import IN_PROCESS, frozen_sandbox, seed

from omnisdk.testing.faults import FaultSettings
from omnisdk.testing.sandbox import BuyerLine, BuyerOrder

ITEM_LIST = "/api/v2/product/get_item_list"


class Caller:
    """Signs and sends raw calls to a sandbox, as any Shopee client would."""

    def __init__(self, sandbox: ShopeeSandbox, http: httpx.AsyncClient) -> None:
        self.sandbox = sandbox
        self.http = http
        self.signer = Signer(sandbox.partner_id, sandbox.partner_key)
        self.token = sandbox.initial_access.value

    def common(self, path: str, *, offset: int = 0, **override: Any) -> dict[str, Any]:
        stamp = int(self.sandbox.clock.time()) + offset
        if path.startswith(("/api/v2/auth/", "/api/v2/push/")):
            params: dict[str, Any] = self.signer.common_params(path, stamp)
        else:
            params = self.signer.common_params(
                path, stamp, access_token=self.token, shop_id=self.sandbox.shop_id
            )
        params.update(override)
        return {k: v for k, v in params.items() if v is not None}

    async def get(
        self, path: str, query: dict[str, Any] | list[tuple[str, Any]] | str, **override: Any
    ) -> httpx.Response:
        common = self.common(path, **override)
        if isinstance(query, str):
            url = f"{path}?{httpx.QueryParams(common)}&{query}"
            return await self.http.get(url)
        pairs = list(query.items()) if isinstance(query, dict) else query
        return await self.http.get(path, params=[*common.items(), *pairs])

    async def post(self, path: str, body: dict[str, Any], **override: Any) -> httpx.Response:
        return await self.http.post(path, params=self.common(path, **override), json=body)


@pytest_asyncio.fixture
async def caller() -> AsyncIterator[Caller]:
    sandbox = frozen_sandbox()
    seed(sandbox)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=IN_PROCESS
    ) as http:
        yield Caller(sandbox, http)
    sandbox.close()


LIST: dict[str, Any] = {"offset": 0, "page_size": 10, "item_status": "NORMAL"}


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) >= {"request_id", "error", "message"} and len(body["request_id"]) == 32
    return response.status_code, body["error"], body["message"]


async def test_a_correctly_signed_call_succeeds(caller: Caller) -> None:
    answer = await caller.get(ITEM_LIST, LIST)
    assert answer.status_code == 200
    body = answer.json()
    assert body["error"] == "" and body["response"]["total_count"] == 3


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"sign": "0" * 64}, (403, "error_sign", "Wrong sign.")),
        ({"access_token": "a" * 32}, (403, "error_sign", "Wrong sign.")),
        ({"partner_id": None}, (400, "error_param", "There is no partner_id in query.")),
        ({"timestamp": None}, (400, "error_param", "There is no timestamp in query.")),
        ({"sign": None}, (400, "error_param", "There is no sign in query.")),
        ({"access_token": None}, (400, "error_param", "There is no access_token in query.")),
        ({"shop_id": None}, (400, "error_param", "There is no shop_id in query.")),
        ({"partner_id": "1"}, (403, "invalid_partner_id", "Invalid partner_id.")),
        ({"offset": -301}, (403, "error_param", "Timestamp is expired.")),
        ({"offset": 301}, (403, "error_param", "Timestamp is expired.")),
    ],
)
async def test_gateway_errors_answer_in_shopees_shape(
    caller: Caller, override: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    assert _error(await caller.get(ITEM_LIST, LIST, **override)) == expected


async def test_the_timestamp_window_is_inclusive_at_five_minutes(caller: Caller) -> None:
    for offset in (-300, 300):
        assert (await caller.get(ITEM_LIST, LIST, offset=offset)).status_code == 200


async def test_a_token_signed_correctly_but_expired_is_refused_with_the_typo(
    caller: Caller,
) -> None:
    caller.sandbox.clock.advance(4 * 3600 + 1)
    assert _error(await caller.get(ITEM_LIST, LIST)) == (
        403,
        "invalid_acceess_token",
        "Invalid access_token, please have a check.",
    )


async def test_a_token_for_another_shop_is_refused(caller: Caller) -> None:
    other = caller.sandbox.shop_id + 1
    stamp = int(caller.sandbox.clock.time())
    params = caller.signer.common_params(ITEM_LIST, stamp, access_token=caller.token, shop_id=other)
    answer = await caller.http.get(ITEM_LIST, params={**params, **LIST})
    assert _error(answer) == (403, "error_auth", "Invalid partner_id or shopid.")


@pytest.mark.parametrize(
    "query",
    [
        "offset=0&page_size=10&item_status=NORMAL&item_status=UNLIST",
        "offset=0&page_size=10&item_status=NORMAL,UNLIST",
        "offset=0&page_size=10&item_status=%5B%27NORMAL%27%2C%20%27UNLIST%27%5D",
    ],
)
async def test_list_parameters_in_every_form_clients_send(caller: Caller, query: str) -> None:
    with caller.sandbox.lock:
        next(iter(caller.sandbox.catalog.items.values())).status = "UNLIST"
    answer = await caller.get(ITEM_LIST, query)
    assert answer.json()["response"]["total_count"] == 3


async def test_batch_limits_are_enforced(caller: Caller) -> None:
    ids = ",".join(str(800_000_000 + i) for i in range(51))
    status, code, message = _error(
        await caller.get("/api/v2/product/get_item_base_info", {"item_id_list": ids})
    )
    assert (status, code) == (200, "error_param") and "[1, 50]" in message
    orders = ",".join(f"250315AAAA{i:04d}" for i in range(51))
    _, code, message = _error(
        await caller.get("/api/v2/order/get_order_detail", {"order_sn_list": orders})
    )
    assert code == "error_param" and "[1, 50]" in message
    _, code, _ = _error(await caller.get(ITEM_LIST, {**LIST, "page_size": 101}))
    assert code == "error_param"
    item = next(i for i in caller.sandbox.catalog.items.values() if i.models)
    too_many = [{"model_id": item.models[0].model_id, "seller_stock": [{"stock": 1}]}] * 51
    _, code, message = _error(
        await caller.post(
            "/api/v2/product/update_stock", {"item_id": item.item_id, "stock_list": too_many}
        )
    )
    assert code == "error_param" and "[1, 50]" in message


async def test_stock_writes_report_per_model_and_refuse_normal_stock(caller: Caller) -> None:
    item = next(i for i in caller.sandbox.catalog.items.values() if i.models)
    red, teal = item.models
    answer = (
        await caller.post(
            "/api/v2/product/update_stock",
            {
                "item_id": item.item_id,
                "stock_list": [
                    {"model_id": red.model_id, "seller_stock": [{"stock": 11}]},
                    {"model_id": 42, "seller_stock": [{"stock": 1}]},
                    {
                        "model_id": teal.model_id,
                        "seller_stock": [{"location_id": "VNZ", "stock": 1}],
                    },
                    {"model_id": teal.model_id, "seller_stock": [{"stock": -1}]},
                ],
            },
        )
    ).json()
    assert answer["response"]["success_list"] == [
        {"model_id": red.model_id, "location_id": "", "stock": 11}
    ]
    reasons = [(f["model_id"], f["failed_reason"]) for f in answer["response"]["failure_list"]]
    assert [model for model, _ in reasons] == [42, teal.model_id, teal.model_id]
    assert "VNZ" in reasons[1][1] and ">= 0" in reasons[2][1]
    old = await caller.post(
        "/api/v2/product/update_stock",
        {"item_id": item.item_id, "stock_list": [{"model_id": red.model_id, "normal_stock": 3}]},
    )
    assert "normal_stock is offline" in old.json()["message"]


async def test_vnd_prices_must_be_whole_dong(caller: Caller) -> None:
    item = next(i for i in caller.sandbox.catalog.items.values() if not i.models)
    answer = await caller.http.post(
        "/api/v2/product/update_price",
        params=caller.common("/api/v2/product/update_price"),
        content=json.dumps(
            {"item_id": item.item_id, "price_list": [{"model_id": 0, "original_price": 149000.5}]}
        ),
    )
    [failure] = answer.json()["response"]["failure_list"]
    assert "error_invalid_price" in failure["failed_reason"]


async def test_the_order_window_and_the_masked_detail(caller: Caller) -> None:
    with caller.sandbox.lock:
        number = caller.sandbox.place_order(
            BuyerOrder(
                lines=[BuyerLine(sku="NON-LA-HUE", quantity=1)],
                customer={"name": "Phạm Minh Châu", "phone": "+84 912 000 111"},
            )
        )
    now = int(caller.sandbox.clock.time())
    listed = (
        await caller.get(
            "/api/v2/order/get_order_list",
            {
                "time_range_field": "create_time",
                "time_from": now - 15 * 86400,
                "time_to": now,
                "page_size": 20,
            },
        )
    ).json()
    assert listed["response"]["order_list"] == [{"order_sn": number}]
    _, code, _ = _error(
        await caller.get(
            "/api/v2/order/get_order_list",
            {
                "time_range_field": "create_time",
                "time_from": now - 15 * 86400 - 1,
                "time_to": now,
                "page_size": 20,
            },
        )
    )
    assert code == "order.order_list_invalid_time"
    plain = (await caller.get("/api/v2/order/get_order_detail", {"order_sn_list": number})).json()[
        "response"
    ]["order_list"][0]
    assert "recipient_address" not in plain and "item_list" not in plain
    full = (
        await caller.get(
            "/api/v2/order/get_order_detail",
            {"order_sn_list": number, "response_optional_fields": "recipient_address,item_list"},
        )
    ).json()["response"]["order_list"][0]
    assert full["recipient_address"]["name"] == "P************u"
    assert full["recipient_address"]["phone"] == "******11"
    assert full["item_list"][0]["model_original_price"] == 85000


async def test_the_token_endpoints_are_flat_and_single_use(caller: Caller) -> None:
    refresh = caller.sandbox.initial_refresh.value
    body = {
        "refresh_token": refresh,
        "partner_id": caller.sandbox.partner_id,
        "shop_id": caller.sandbox.shop_id,
    }
    first = (await caller.post("/api/v2/auth/access_token/get", body)).json()
    assert first["error"] == "" and "response" not in first
    assert first["expire_in"] == 14400 and first["refresh_token"] != refresh
    again = await caller.post("/api/v2/auth/access_token/get", body)
    assert _error(again)[:2] == (200, "error_shop_refresh_token")


async def test_the_rate_limit_answers_429_error_rate_limit() -> None:
    sandbox = frozen_sandbox(rate_limit=3)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=IN_PROCESS
    ) as http:
        caller = Caller(sandbox, http)
        answers = [await caller.get(ITEM_LIST, LIST) for _ in range(5)]
        sandbox.clock.advance(1.0)  # the limit runs on the sandbox clock: 3 calls again
        later = [(await caller.get(ITEM_LIST, LIST)).status_code for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert _error(answers[-1])[1] == "error_rate_limit"
    assert later == [200, 200, 200, 429]


async def test_injected_faults_use_shopees_error_shape(caller: Caller) -> None:
    caller.sandbox.faults = FaultSettings(error_rate=1.0, error_statuses=[429, 503])
    seen = {
        (a.status_code, a.json()["error"])
        for a in [await caller.get(ITEM_LIST, LIST) for _ in range(8)]
    }
    assert seen == {(429, "error_rate_limit"), (503, "error_server")}
