"""Fault injection behaves as documented, in-process and over a real socket."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.testing import FaultSettings, LoopbackServer, SandboxControl
from omnisdk.testing.faults import FaultKind
from omnisdk.testing.sandbox import SeedProduct


@pytest.fixture
def sandbox() -> Iterator[ExampleSandbox]:
    with ExampleSandbox(seed=1) as sandbox:
        yield sandbox


@pytest.fixture
async def client(sandbox: ExampleSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://sandbox.test",
        headers={"Authorization": f"Bearer {sandbox.api_token}"},
    ) as client:
        yield client


async def statuses(client: httpx.AsyncClient, count: int, path: str = "/shop") -> list[int]:
    return [(await client.get(path)).status_code for _ in range(count)]


async def test_no_faults_by_default(client: httpx.AsyncClient) -> None:
    assert set(await statuses(client, 20)) == {200}


async def test_error_rate_injects_the_configured_statuses_reproducibly(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults = FaultSettings(error_rate=0.5, error_statuses=[429, 502], seed=42)
    first = await statuses(client, 200)
    counts = Counter(first)
    assert set(counts) == {200, 429, 502}
    assert 60 < counts[200] < 140  # about half, from a seeded generator
    sandbox.faults = FaultSettings(error_rate=0.5, error_statuses=[429, 502], seed=42)
    assert await statuses(client, 200) == first  # the same seed, the same faults


async def test_429_carries_retry_after_and_the_platform_error_body(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults = FaultSettings(error_rate=1.0, error_statuses=[429], retry_after=2.5)
    response = await client.get("/shop")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2.5"
    assert response.json()["error"] == "rate_limited"
    sandbox.faults = FaultSettings(error_rate=1.0, error_statuses=[500])
    response = await client.get("/shop")
    assert response.status_code == 500 and "retry-after" not in response.headers


async def test_control_paths_are_never_faulted(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults = FaultSettings(error_rate=1.0, drop_rate=0.0, latency=0.0)
    assert set(await statuses(client, 10, "/_sandbox/state")) == {200}
    assert sandbox.requests == []  # and not logged as platform calls
    sandbox.faults = FaultSettings(drop_rate=1.0)
    assert (await client.get("/_sandbox/state")).status_code == 200


async def test_only_paths_limits_faults_to_those_prefixes(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults = FaultSettings(error_rate=1.0, error_statuses=[503], only_paths=["/stock"])
    assert set(await statuses(client, 5, "/shop")) == {200}
    assert set(await statuses(client, 5, "/stock")) == {503}


async def test_scheduled_faults_come_first_then_the_rates(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults = FaultSettings(drop_first=1, fail_first=2, error_statuses=[502])
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/shop")
    assert await statuses(client, 4) == [502, 502, 200, 200]
    assert [r.fault for r in sandbox.requests] == [
        FaultKind.DROP,
        FaultKind.ERROR,
        FaultKind.ERROR,
        None,
        None,
    ]


async def test_a_dropped_connection_in_process_raises_what_a_socket_would(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults = FaultSettings(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await client.get("/shop")
    [record] = sandbox.requests
    assert (record.fault, record.status) == (FaultKind.DROP, None)


async def test_a_dropped_connection_over_a_socket_really_drops(sandbox: ExampleSandbox) -> None:
    sandbox.faults = FaultSettings(drop_rate=1.0)
    headers = {"Authorization": f"Bearer {sandbox.api_token}"}
    with LoopbackServer(sandbox.app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
            for _ in range(3):  # the server survives every drop
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.get("/shop")
            sandbox.faults = FaultSettings()
            assert (await client.get("/shop")).status_code == 200


async def test_latency_delays_platform_responses(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults = FaultSettings(latency=0.2)
    started = time.monotonic()
    assert (await client.get("/shop")).status_code == 200
    assert time.monotonic() - started >= 0.2
    sandbox.faults = FaultSettings(latency=30)
    async with asyncio.timeout(10):  # the control API is never slowed
        assert (await client.get("/_sandbox/state")).status_code == 200


async def test_concurrent_requests_under_latency_all_answer(sandbox: ExampleSandbox) -> None:
    sandbox.faults = FaultSettings(latency=0.3)
    headers = {"Authorization": f"Bearer {sandbox.api_token}"}
    with LoopbackServer(sandbox.app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
            answers = await asyncio.gather(*(client.get("/shop") for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert len(sandbox.requests) == 5


async def test_the_request_log_records_calls_and_noted_operations(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.seed_products([])
    await client.get("/products", params={"page": 1, "limit": 10})
    answer = await client.post(
        "/stock/batch",
        json={"items": [{"sku": "KHONG", "quantity": 1}, {"sku": "CO", "quantity": 2}]},
    )
    assert answer.status_code == 200
    log = [(r.method, r.path, r.status, r.operation, r.items) for r in sandbox.requests]
    assert log == [
        ("GET", "/products", 200, "products.read", None),
        ("POST", "/stock/batch", 200, "stock.write", 2),
    ]
    assert sandbox.requests[0].query == "page=1&limit=10"
    async with SandboxControl.for_sandbox(sandbox) as control:
        logged = await control.requests(clear=True)
        assert [entry["operation"] for entry in logged] == ["products.read", "stock.write"]
        assert await control.requests() == []


async def test_faults_over_the_control_api_replace_and_validate(sandbox: ExampleSandbox) -> None:
    async with SandboxControl.for_sandbox(sandbox) as control:
        settings = await control.set_faults(error_rate=0.25, latency=0.01)
        assert settings["error_rate"] == 0.25 and settings["drop_rate"] == 0.0
        settings = await control.set_faults(drop_rate=0.1)
        assert settings["error_rate"] == 0.0  # replaced as a whole, not merged
        assert sandbox.faults.drop_rate == 0.1
        from omnisdk.testing import SandboxRefused

        for bad in ({"error_rate": 1.5}, {"error_statuses": [200]}, {"colour": "đỏ"}):
            with pytest.raises(SandboxRefused) as refused:
                await control.set_faults(**bad)
            assert refused.value.status == 422
        await control.reset()
        assert sandbox.faults == FaultSettings()


async def test_a_timeout_after_acting_in_process_acts_then_raises_read_timeout(
    sandbox: ExampleSandbox, client: httpx.AsyncClient
) -> None:
    """The write is carried out, then its answer is lost: the client sees a time-out."""
    with sandbox.lock:
        sandbox.seed_products(
            [SeedProduct(sku="CO", title="Cà phê sữa đá", price=Decimal(45000), stock=1)]
        )
    sandbox.faults = FaultSettings(timeout_after_acting=1, timeout_operations=["stock.write"])
    assert (await client.get("/shop")).status_code == 200  # not a stock write: answered
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/stock/batch", json={"items": [{"sku": "CO", "quantity": 7}]})
    assert sandbox.listing("CO")["stock"] == 7  # the platform acted
    faulted = [r for r in sandbox.requests if r.fault is FaultKind.TIMEOUT_AFTER_ACTING]
    assert [(r.path, r.status, r.operation) for r in faulted] == [
        ("/stock/batch", None, "stock.write")
    ]
    again = await client.post("/stock/batch", json={"items": [{"sku": "CO", "quantity": 7}]})
    assert again.status_code == 200  # counted down: the next one is answered


async def test_a_timeout_after_acting_over_a_socket_times_the_client_out(
    sandbox: ExampleSandbox,
) -> None:
    """Served by uvicorn the answer is held back until the client's timeout fires; the
    server lives on."""
    sandbox.faults = FaultSettings(timeout_after_acting=1, timeout_hold=5)
    headers = {"Authorization": f"Bearer {sandbox.api_token}"}
    with LoopbackServer(sandbox.app) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=headers, timeout=0.3
        ) as client:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/shop")
            assert time.monotonic() - started < 4  # the client's timeout, not the hold
            assert (await client.get("/shop")).status_code == 200
    [first, second] = sandbox.requests
    assert (first.fault, first.status, second.status) == (FaultKind.TIMEOUT_AFTER_ACTING, None, 200)
