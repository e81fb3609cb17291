"""Retries, back-off, Retry-After, and the typed errors HttpClient raises."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from _http_testkit import AutoClock, LoopbackServer, ManualClock, Reply, Seen, settle

from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    NotFound,
    PlatformUnavailable,
    RateLimited,
)
from omnisdk.http import (
    DEFAULT_REQUEST_ID_FIELDS,
    DEFAULT_REQUEST_ID_HEADERS,
    HttpClient,
    Lane,
    RateBudget,
    RateLimiter,
    in_single_attempt,
    parse_retry_after,
    single_attempt,
)

Responder = Callable[[httpx.Request], httpx.Response]


def scripted(*steps: httpx.Response | Exception) -> tuple[Responder, list[httpx.Request]]:
    """A MockTransport handler answering with ``steps`` in turn (the last one repeats)."""
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = steps[min(len(seen), len(steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step

    return respond, seen


def client_for(
    responder: Responder, clock: AutoClock | ManualClock | None = None, **options: Any
) -> HttpClient:
    clock = clock or AutoClock()
    return HttpClient(
        base_url="https://partner.shopeemobile.com",
        channel="shopee",
        account="shop-hcm",
        transport=httpx.MockTransport(responder),
        clock=clock,
        sleep=clock.sleep,
        **options,
    )


def shopee(
    error: str = "", message: str = "", request_id: str = "r-1", status: int = 200, **headers: str
) -> httpx.Response:
    return httpx.Response(
        status,
        json={"request_id": request_id, "error": error, "message": message, "response": {}},
        headers=headers,
    )


def shopee_errors(response: httpx.Response) -> ChannelError | None:
    """A Shopee-like error mapper: errors come in the body, often with HTTP 200."""
    body = response.json()
    error = body.get("error")
    if not error:
        return None
    message = body.get("message") or error
    if error in {"error_server", "error_inner", "error_system_busy", "error_network"}:
        return PlatformUnavailable(message)
    if error == "error_rate_limit":
        return RateLimited(message)
    if error in {"error_auth", "error_sign"}:
        return AuthError(message)
    if error.endswith("_not_found"):
        return NotFound(message, code=error)
    return BadRequest(message, code=error)


async def test_a_500_is_retried_until_it_succeeds() -> None:
    clock = AutoClock()
    responder, seen = scripted(
        httpx.Response(500), httpx.Response(502), httpx.Response(200, json={"ok": True})
    )
    async with client_for(responder, clock) as http:
        response = await http.get("/api/v2/shop/get_shop_info")
    assert response.json() == {"ok": True}
    assert len(seen) == 3
    assert len(clock.sleeps) == 2
    # Exponential back-off with full jitter: attempt n waits at most 0.5 * 2**(n-1) seconds.
    assert 0 <= clock.sleeps[0] <= 0.5
    assert 0 <= clock.sleeps[1] <= 1.0


async def test_every_attempt_spends_from_the_limiter_in_the_request_lane() -> None:
    spent: list[tuple[Lane, float]] = []

    class SpyLimiter(RateLimiter):
        async def acquire(self, lane: Lane = Lane.DEFAULT, cost: float = 1.0) -> None:
            spent.append((lane, cost))
            await super().acquire(lane, cost)

    clock = AutoClock()
    limiter = SpyLimiter(RateBudget(requests_per_second=1, burst=1), clock=clock, sleep=clock.sleep)
    responder, seen = scripted(httpx.Response(503), httpx.Response(503), httpx.Response(200))
    async with client_for(responder, clock, limiter=limiter, backoff=0.0) as http:
        await http.post(
            "/api/v2/product/update_stock", lane=Lane.STOCK, cost=1.0, json={"item_id": 1}
        )
    assert spent == [(Lane.STOCK, 1.0)] * 3
    assert len(seen) == 3
    # No back-off (backoff=0), so the two seconds are the bucket refilling between attempts.
    assert clock.elapsed == pytest.approx(2.0)
    assert http.limiter is limiter


async def test_429_retry_after_is_honoured_and_pauses_the_whole_account() -> None:
    clock = ManualClock()
    arrivals: list[tuple[str, float]] = []
    calls = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        arrivals.append((request.url.path, clock.now - 1000.0))
        if calls == 1:
            return httpx.Response(
                429,
                headers={"Retry-After": "7"},
                json={"errors": "Exceeded 2 calls per second for api client."},
            )
        return httpx.Response(200, json={"ok": True})

    async with client_for(
        respond, clock, rate=RateBudget(requests_per_second=100, burst=10)
    ) as http:
        first = asyncio.create_task(http.get("/admin/api/2025-07/orders.json", lane=Lane.ORDERS))
        await settle()
        assert arrivals == [("/admin/api/2025-07/orders.json", 0.0)]
        assert http.limiter.paused_for() == pytest.approx(7.0)
        # Another caller on the same account must not go while the platform said wait.
        second = asyncio.create_task(http.get("/admin/api/2025-07/products.json"))
        await clock.advance(6.9)
        assert len(arrivals) == 1
        await clock.advance(0.1)
        assert sorted(arrivals[1:]) == [
            ("/admin/api/2025-07/orders.json", 7.0),
            ("/admin/api/2025-07/products.json", 7.0),
        ]
        assert (await first).status_code == 200
        assert (await second).status_code == 200


async def test_429_with_an_http_date_retry_after() -> None:
    clock = AutoClock()
    later = datetime.now(UTC).timestamp() + 30
    date = httpx.Headers({"Retry-After": _http_date(later)})
    responder, seen = scripted(httpx.Response(429, headers=date), httpx.Response(200))
    async with client_for(responder, clock) as http:
        await http.get("/orders")
    assert len(seen) == 2
    assert 25 <= clock.sleeps[0] <= 30


def _http_date(timestamp: float) -> str:
    from email.utils import formatdate

    return formatdate(timestamp, usegmt=True)


def test_retry_after_parsing() -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after(" 120 ") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-5") == 0.0
    for unreadable in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(unreadable) is None


async def test_a_retry_after_longer_than_max_retry_wait_is_raised_at_once() -> None:
    clock = AutoClock()
    responder, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    async with client_for(responder, clock, max_retry_wait=60.0) as http:
        with pytest.raises(RateLimited) as caught:
            await http.get("/orders")
    assert len(seen) == 1
    assert caught.value.retry_after == 3600.0
    assert caught.value.status == 429
    assert clock.sleeps == []
    assert http.limiter.paused_for() == pytest.approx(60.0)  # others wait at most that long


async def test_429_without_retry_after_gives_up_as_rate_limited() -> None:
    responder, seen = scripted(httpx.Response(429))
    async with client_for(responder, max_attempts=3) as http:
        with pytest.raises(RateLimited) as caught:
            await http.get("/orders")
    assert len(seen) == 3
    assert caught.value.retry_after is None
    assert "attempt 3 of 3" in str(caught.value)


async def test_gives_up_after_max_attempts_with_status_and_request_id() -> None:
    async with LoopbackServer(
        lambda seen: Reply(
            503,
            body=b'{"errors": "Service Unavailable"}',
            headers={"Content-Type": "application/json", "X-Request-Id": "req-42"},
        )
    ) as server:
        clock = AutoClock()
        async with HttpClient(
            base_url=server.url,
            channel="shopify",
            account="cua-hang-q1",
            max_attempts=4,
            clock=clock,
            sleep=clock.sleep,
        ) as http:
            with pytest.raises(PlatformUnavailable) as caught:
                await http.get("/admin/api/2025-07/shop.json")
    error = caught.value
    assert len(server.requests) == 4
    assert (error.status, error.request_id) == (503, "req-42")
    assert (error.channel, error.account) == ("shopify", "cua-hang-q1")
    assert error.retryable
    message = str(error)
    assert message.startswith("shopify/cua-hang-q1: Service Unavailable (GET http://127.0.0.1:")
    assert "/admin/api/2025-07/shop.json -> HTTP 503, request id req-42, attempt 4 of 4" in message
    assert len(clock.sleeps) == 3


async def test_a_connection_dropped_mid_response_is_retried() -> None:
    body = json.dumps({"products": [{"title": "Áo thun cổ tròn", "price": "199000"}]}).encode()

    def respond(seen: Seen) -> Reply:
        # The first answer promises the whole body, sends 10 bytes and hangs up.
        return Reply(200, body=body, drop_after=10 if len(server.requests) == 1 else None)

    async with LoopbackServer(respond) as server:
        clock = AutoClock()
        async with HttpClient(
            base_url=server.url, channel="shopify", account="q1", clock=clock, sleep=clock.sleep
        ) as http:
            response = await http.get("/admin/api/2025-07/products.json")
    assert response.json()["products"][0]["title"] == "Áo thun cổ tròn"
    assert len(server.requests) == 2
    assert server.connections == 2  # the broken connection was not reused


async def test_a_dropped_connection_is_not_retried_for_an_unsafe_post() -> None:
    async with LoopbackServer(
        lambda seen: Reply(200, body=b'{"ok": true}' * 10, drop_after=5)
    ) as server:
        clock = AutoClock()
        async with HttpClient(
            base_url=server.url, channel="pos", account="store-1", clock=clock, sleep=clock.sleep
        ) as http:
            with pytest.raises(PlatformUnavailable, match="connection dropped") as caught:
                await http.post("/sales", json={"total": "199000"}, retry=False)
    assert len(server.requests) == 1  # the server may have acted on it: never sent twice
    assert caught.value.status is None


async def test_unsafe_post_is_retried_when_it_surely_never_arrived() -> None:
    responder, seen = scripted(
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.Response(429),
        httpx.Response(201, json={"id": 7}),
    )
    async with client_for(responder) as http:
        response = await http.post("/sales", json={"total": "199000"}, retry=False)
    assert response.status_code == 201
    assert len(seen) == 3


async def test_unsafe_post_is_not_retried_after_a_500() -> None:
    responder, seen = scripted(httpx.Response(500))
    async with client_for(responder) as http:
        with pytest.raises(PlatformUnavailable):
            await http.post("/sales", json={"total": "199000"}, retry=False)
    assert len(seen) == 1


async def test_post_is_retried_by_default() -> None:
    responder, seen = scripted(httpx.ReadTimeout("timed out"), httpx.Response(200))
    async with client_for(responder) as http:
        await http.post("/graphql.json", json={"query": "{ shop { name } }"})
    assert len(seen) == 2


async def test_max_attempts_one_turns_retrying_off_for_a_request() -> None:
    responder, seen = scripted(httpx.Response(503), httpx.Response(200))
    async with client_for(responder) as http:
        with pytest.raises(PlatformUnavailable, match="attempt 1 of 1"):
            await http.get("/orders", max_attempts=1)
        assert (await http.get("/orders")).status_code == 200
    assert len(seen) == 2


async def test_single_attempt_tries_every_request_of_the_block_once() -> None:
    # A 429 and a dropped connection, each retried outside the block, are raised at once in
    # it, still retryable: the caller (the stock pusher) retries with a fresh figure.
    responder, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.RemoteProtocolError("Server disconnected"),
        httpx.Response(200),
    )
    async with client_for(responder) as http:
        with single_attempt():
            assert in_single_attempt()
            with pytest.raises(RateLimited, match="attempt 1 of 1") as limited:
                await http.post("/api/v2/product/update_stock", json={"stock": 3}, max_attempts=9)
            assert limited.value.retryable
            with pytest.raises(PlatformUnavailable, match="attempt 1 of 1") as dropped:
                await http.put("/stock", json={"stock": 3})
            assert dropped.value.retryable
        assert not in_single_attempt()
        assert len(seen) == 2
        assert (await http.post("/api/v2/product/update_stock", json={"stock": 3})).is_success
    assert len(seen) == 3


async def test_single_attempt_holds_in_tasks_started_inside_the_block() -> None:
    responder, seen = scripted(httpx.Response(503), httpx.Response(200))
    async with client_for(responder) as http:
        with single_attempt():
            task = asyncio.create_task(http.get("/orders"))
        with pytest.raises(PlatformUnavailable):
            await task
    assert len(seen) == 1


async def test_connection_refused_on_loopback_becomes_platform_unavailable() -> None:
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = AutoClock()
    async with HttpClient(
        base_url=f"http://127.0.0.1:{port}",
        channel="lazada",
        account="vn-1",
        max_attempts=3,
        clock=clock,
        sleep=clock.sleep,
    ) as http:
        with pytest.raises(PlatformUnavailable, match="could not connect") as caught:
            await http.get("/orders/get")
    assert caught.value.status is None
    assert "attempt 3 of 3" in str(caught.value)


async def test_a_4xx_is_not_retried_and_carries_the_platform_code() -> None:
    responder, seen = scripted(
        shopee(
            "error_param",
            "Wrong parameters, detail: tên sản phẩm 'Áo thun cổ tròn' quá dài.",
            request_id="b7f2",
            status=400,
        )
    )
    async with client_for(responder) as http:
        with pytest.raises(BadRequest) as caught:
            await http.post("/api/v2/product/add_item", json={"item_name": "Áo thun cổ tròn"})
    error = caught.value
    assert len(seen) == 1
    assert type(error) is BadRequest
    assert (error.code, error.status, error.request_id) == ("error_param", 400, "b7f2")
    assert "tên sản phẩm 'Áo thun cổ tròn' quá dài" in str(error)
    assert str(error).startswith("shopee/shop-hcm: error_param: Wrong parameters")


@pytest.mark.parametrize(
    ("response", "kind", "code", "request_id", "says"),
    [
        (
            httpx.Response(
                401,
                json={"errors": "[API] Invalid API key or access token"},
                headers={"X-Shopify-Request-Id": "shp-1"},
            ),
            AuthError,
            None,
            "shp-1",
            "Invalid API key",
        ),
        (
            httpx.Response(
                403, json={"request_id": "s-9", "error": "error_sign", "message": "Wrong sign."}
            ),
            AuthError,
            None,
            "s-9",
            "error_sign: Wrong sign.",
        ),
        (httpx.Response(404, json={"errors": "Not Found"}), NotFound, None, None, "Not Found"),
        (
            httpx.Response(422, json={"errors": {"title": ["can't be blank"]}}),
            BadRequest,
            None,
            None,
            "title can't be blank",
        ),
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "message": "(#100) Invalid parameter",
                        "type": "OAuthException",
                        "code": 100,
                        "fbtrace_id": "AbCdEf123",
                    }
                },
            ),
            BadRequest,
            "100",
            "AbCdEf123",
            "(#100) Invalid parameter",
        ),
        (
            httpx.Response(
                400,
                json={
                    "code": "IllegalAccessToken",
                    "type": "ISV",
                    "message": "The specified access token is invalid",
                    "request_id": "0ba2887315178178017221014",
                },
            ),
            BadRequest,
            "IllegalAccessToken",
            "0ba2887315178178017221014",
            "access token is",
        ),
        (
            httpx.Response(409, text="stock changed meanwhile"),
            BadRequest,
            None,
            None,
            "stock changed meanwhile",
        ),
        (httpx.Response(418, html="<html>teapot</html>"), BadRequest, None, None, "I'm a teapot"),
    ],
)
async def test_statuses_map_to_typed_errors(
    response: httpx.Response,
    kind: type[ChannelError],
    code: str | None,
    request_id: str | None,
    says: str,
) -> None:
    responder, seen = scripted(response)
    # Where the platforms of these bodies put their request ids, declared as a plugin does.
    platform_ids: dict[str, Any] = {
        "request_id_headers": ("x-shopify-request-id", *DEFAULT_REQUEST_ID_HEADERS),
        "request_id_fields": (*DEFAULT_REQUEST_ID_FIELDS, "fbtrace_id"),
    }
    async with client_for(responder, **platform_ids) as http:
        with pytest.raises(ChannelError) as caught:
            await http.get("/thing")
    assert type(caught.value) is kind
    assert len(seen) == 1
    assert getattr(caught.value, "code", None) == code
    assert caught.value.request_id == request_id
    assert caught.value.status == response.status_code
    assert says in str(caught.value)


async def test_error_mapper_turns_a_200_error_body_into_a_retried_failure() -> None:
    responder, seen = scripted(
        shopee("error_server", "Something wrong. Please try later.", request_id="r-1"),
        shopee("error_system_busy", "Hệ thống đang bận", request_id="r-2"),
        shopee(request_id="r-3"),
    )
    async with client_for(responder, error_mapper=shopee_errors) as http:
        response = await http.get("/api/v2/order/get_order_list", lane=Lane.ORDERS)
    assert response.json()["request_id"] == "r-3"
    assert len(seen) == 3


async def test_error_mapper_errors_are_completed_with_context() -> None:
    responder, seen = scripted(
        shopee("error_item_not_found", "Không tìm thấy sản phẩm", request_id="r-9")
    )
    async with client_for(responder, error_mapper=shopee_errors) as http:
        with pytest.raises(NotFound) as caught:
            await http.get("/api/v2/product/get_item_base_info", params={"item_id_list": "42"})
    error = caught.value
    assert len(seen) == 1
    assert (error.channel, error.account, error.status, error.request_id) == (
        "shopee",
        "shop-hcm",
        200,
        "r-9",
    )
    assert error.code == "error_item_not_found"
    assert str(error).startswith("shopee/shop-hcm: error_item_not_found: Không tìm thấy sản phẩm")
    assert "get_item_base_info?item_id_list=42 -> HTTP 200, request id r-9" in str(error)


async def test_error_mapper_rate_limit_uses_the_retry_after_header() -> None:
    clock = AutoClock()
    responder, seen = scripted(
        shopee("error_rate_limit", "Too many requests.", status=429, **{"Retry-After": "3"}),
        shopee(),
    )
    async with client_for(responder, clock, error_mapper=shopee_errors) as http:
        await http.post("/api/v2/product/update_stock", lane=Lane.STOCK, retry=False)
    assert len(seen) == 2  # a rate-limit refusal is safe to repeat even for an unsafe POST
    assert clock.sleeps == [3.0]


async def test_an_error_mapper_may_raise_instead_of_returning() -> None:
    def raising(response: httpx.Response) -> ChannelError | None:
        if response.json().get("error"):
            raise AuthError("Invalid access_token.")
        return None

    responder, _ = scripted(shopee("error_auth", "Invalid access_token.", request_id="r-5"))
    async with client_for(responder, error_mapper=raising) as http:
        with pytest.raises(AuthError) as caught:
            await http.get("/api/v2/shop/get_shop_info")
    assert caught.value.request_id == "r-5"
    assert caught.value.channel == "shopee"


async def test_an_auth_flow_signs_every_attempt_afresh() -> None:
    class TimestampSigner(httpx.Auth):
        def __init__(self) -> None:
            self.stamps: Iterator[int] = iter(range(1_700_000_000, 1_800_000_000))

        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
            stamp = next(self.stamps)
            request.url = request.url.copy_merge_params({"timestamp": stamp, "sign": f"s{stamp}"})
            yield request

    responder, seen = scripted(httpx.Response(500), httpx.Response(200))
    async with client_for(responder, auth=TimestampSigner()) as http:
        await http.get("/api/v2/shop/get_shop_info", params={"partner_id": 2001887})
    stamps = [request.url.params["timestamp"] for request in seen]
    assert stamps == ["1700000000", "1700000001"]
    assert all(request.url.params["partner_id"] == "2001887" for request in seen)


async def test_a_local_protocol_error_is_not_retried() -> None:
    responder, seen = scripted(httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))
    async with client_for(responder) as http:
        with pytest.raises(ChannelError) as caught:
            await http.get("/x")
    assert type(caught.value) is ChannelError
    assert not caught.value.retryable
    assert len(seen) == 1


async def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        HttpClient(
            base_url="https://x",
            channel="c",
            account="a",
            rate=RateBudget(requests_per_second=1),
            limiter=RateLimiter(RateBudget(requests_per_second=1)),
        )
    with pytest.raises(ValueError, match="max_attempts"):
        HttpClient(base_url="https://x", channel="c", account="a", max_attempts=0)
    responder, _ = scripted(httpx.Response(200))
    async with client_for(responder) as http:
        with pytest.raises(ValueError, match="cost"):
            await http.get("/x", cost=0)


async def test_a_proxy_error_page_the_mapper_cannot_read_is_judged_by_status() -> None:
    responder, seen = scripted(
        httpx.Response(502, html="<html><body>502 Bad Gateway</body></html>"),
        shopee(request_id="r-ok"),
    )
    async with client_for(responder, error_mapper=shopee_errors) as http:
        response = await http.get("/api/v2/shop/get_shop_info")
    assert response.json()["request_id"] == "r-ok"
    assert len(seen) == 2


async def test_request_ids_are_read_only_where_the_client_was_told_to_look() -> None:
    """The core knows the generic request id headers and fields; a platform's own must be
    declared (``Channel.request_id_headers`` / ``request_id_fields``)."""
    answer = httpx.Response(
        400,
        json={"error": {"message": "bad", "fbtrace_id": "fb-1"}},
        headers={"X-Shopify-Request-Id": "shp-2"},
    )
    responder, _seen = scripted(answer)
    async with client_for(responder) as http:
        with pytest.raises(BadRequest) as generic:
            await http.get("/thing")
    assert generic.value.request_id is None
    async with client_for(responder, request_id_fields=("fbtrace_id",)) as http:
        with pytest.raises(BadRequest) as from_body:
            await http.get("/thing")
    assert from_body.value.request_id == "fb-1"
    async with client_for(responder, request_id_headers=("x-shopify-request-id",)) as http:
        with pytest.raises(BadRequest) as from_header:
            await http.get("/thing")
    assert from_header.value.request_id == "shp-2"
