"""The control API every sandbox shares, driven through SandboxControl (as tools do)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from omnisdk_example.sandbox import ExampleSandbox

from omnisdk.testing import SandboxClock, SandboxControl, SandboxRefused

AO_DAI = {
    "sku": "AO-DAI-DO",
    "title": "Áo dài lụa",
    "price": "1250000",
    "currency": "VND",
    "stock": 3,
}


@pytest.fixture
def sandbox() -> Iterator[ExampleSandbox]:
    start = datetime(2025, 1, 28, 1, 0, tzinfo=UTC)  # Tết, 08:00 in Hà Nội
    with ExampleSandbox(clock=SandboxClock(start, frozen=True)) as sandbox:
        yield sandbox


@pytest.fixture
async def control(sandbox: ExampleSandbox) -> AsyncIterator[SandboxControl]:
    async with SandboxControl.for_sandbox(sandbox) as control:
        yield control


async def test_seed_then_state_shows_the_listings(control: SandboxControl) -> None:
    created = await control.seed([AO_DAI])
    assert created[0]["sku"] == "AO-DAI-DO" and created[0]["product_id"].startswith("prd_")
    state = await control.state()
    assert state["listings"] == [
        {"sku": "AO-DAI-DO", "stock": 3, "price": "1250000", "currency": "VND"}
    ]
    assert state["orders"] == [] and state["webhooks"] == []


@pytest.mark.parametrize(
    "bad",
    [
        {**AO_DAI, "price": 1250000.0},  # floats are refused for money
        {**AO_DAI, "stock": -1},
        {key: value for key, value in AO_DAI.items() if key != "sku"},
    ],
)
async def test_seed_refuses_bad_products(control: SandboxControl, bad: dict[str, object]) -> None:
    with pytest.raises(SandboxRefused) as refused:
        await control.seed([bad])
    assert refused.value.status == 422 and refused.value.body["error"] == "invalid"


async def test_buyer_orders_take_stock_and_are_refused_beyond_it(control: SandboxControl) -> None:
    await control.seed([AO_DAI])
    order_id = await control.place_order(
        [("AO-DAI-DO", 2)], customer={"name": "Trần Văn Bình", "phone": "+84 912 345 678"}
    )
    assert (await control.listed_stock())["AO-DAI-DO"] == 1
    with pytest.raises(SandboxRefused) as refused:
        await control.place_order([("AO-DAI-DO", 2)])
    assert refused.value.status == 409
    assert refused.value.body == {
        "error": "out_of_stock",
        "sku": "AO-DAI-DO",
        "available": 1,
        "requested": 2,
        "message": "only 1 of 'AO-DAI-DO' listed, 2 asked for",
    }
    with pytest.raises(SandboxRefused) as unknown:
        await control.place_order([("KHONG-CO", 1)])
    assert unknown.value.status == 404
    [order] = (await control.state())["orders"]
    assert order["id"] == order_id and order["customer"]["name"] == "Trần Văn Bình"


async def test_cancel_releases_stock_and_advance_walks_the_flow(control: SandboxControl) -> None:
    await control.seed([AO_DAI])
    cancelled = await control.place_order([("AO-DAI-DO", 2)])
    await control.cancel_order(cancelled)
    assert (await control.listed_stock())["AO-DAI-DO"] == 3
    kept = await control.place_order([("AO-DAI-DO", 1)])
    assert [await control.advance_order(kept) for _ in range(5)] == [
        "paid",
        "packed",
        "shipped",
        "delivered",
        "completed",
    ]
    with pytest.raises(SandboxRefused) as done:
        await control.advance_order(kept)
    assert done.value.status == 400
    with pytest.raises(SandboxRefused) as shipped:
        await control.cancel_order(kept)
    assert shipped.value.status == 400
    with pytest.raises(SandboxRefused) as missing:
        await control.cancel_order("ord_99999")
    assert missing.value.status == 404


async def test_the_clock_moves_only_forward(
    control: SandboxControl, sandbox: ExampleSandbox
) -> None:
    before = datetime.fromisoformat(await control.now())
    after = datetime.fromisoformat(await control.advance_clock(3600))
    assert after - before >= timedelta(hours=1)
    assert after - before < timedelta(hours=1, seconds=1)  # frozen: only the advance counts
    with pytest.raises(SandboxRefused):
        await control.advance_clock(-5)
    await control.seed([AO_DAI])
    order_id = await control.place_order([("AO-DAI-DO", 1)])
    assert sandbox.orders[order_id]["created_at"] > after.isoformat()


def test_sandbox_clock_readings_strictly_increase() -> None:
    clock = SandboxClock(datetime(2025, 1, 1, tzinfo=UTC), frozen=True)
    readings = [clock.now() for _ in range(100)]
    assert readings == sorted(set(readings))
    with pytest.raises(ValueError, match="timezone-aware"):
        SandboxClock(datetime(2025, 1, 1))
    live = SandboxClock()
    assert abs(live.time() - datetime.now(UTC).timestamp()) < 60


async def test_reset_empties_everything(control: SandboxControl, sandbox: ExampleSandbox) -> None:
    await control.seed([AO_DAI])
    await control.place_order([("AO-DAI-DO", 1)])
    await control.set_faults(error_rate=0.5)
    await control.set_webhook_url("http://127.0.0.1:9/hooks")
    await control.reset()
    state = await control.state()
    assert state == {"listings": [], "orders": [], "webhooks": []}
    assert sandbox.faults.error_rate == 0 and sandbox.webhook_url is None


async def test_credentials_name_what_a_channel_needs(
    control: SandboxControl, sandbox: ExampleSandbox
) -> None:
    answer = await control.credentials()
    assert answer["channel_type"] == "example"
    assert answer["channel_settings"]["base_url"] == "http://sandbox.test"
    assert answer["channel_settings"]["api_token"] == sandbox.api_token
    assert set(sandbox.secret_values()) == {sandbox.api_token, sandbox.webhook_secret}


async def test_the_same_seed_gives_the_same_secrets_and_ids() -> None:
    with (
        ExampleSandbox(seed=5) as first,
        ExampleSandbox(seed=5) as second,
        ExampleSandbox(seed=6) as other,
    ):
        assert first.api_token == second.api_token != other.api_token
        assert first.next_delivery_id() == second.next_delivery_id()


async def test_order_ids_with_slashes_route_to_cancel_and_advance() -> None:
    """Platform ids like Shopify's ``gid://shopify/Order/5`` must reach the control routes."""
    from omnisdk_example.sandbox import ExampleSandbox

    from omnisdk.testing import SandboxControl

    sandbox = ExampleSandbox()
    seen: list[str] = []
    original = sandbox.cancel_order

    def cancel(order_id: str) -> None:
        seen.append(order_id)
        original(order_id)

    sandbox.cancel_order = cancel  # type: ignore[method-assign]
    async with SandboxControl.for_sandbox(sandbox) as control:
        await control.seed(
            [{"sku": "NÓN-LÁ", "title": "Nón lá", "price": "50000", "currency": "VND", "stock": 3}]
        )
        order_id = await control.place_order([("NÓN-LÁ", 1)])
        with pytest.raises(Exception):  # noqa: B017 - the id is unknown; routing is what matters
            await control.cancel_order(f"gid://example/Order/{order_id}")
        assert seen == [f"gid://example/Order/{order_id}"]


async def test_bulk_order_seed_validates_and_is_refused_where_not_implemented(
    control: SandboxControl,
) -> None:
    """``POST /_sandbox/seed/orders`` checks its body (aware timestamps, in order, at least
    one line); a sandbox without a bulk seed answers 501, not a half-made history."""
    line = {"sku": "AO-DAI-DO", "quantity": 1}
    for bad in (
        {"lines": []},
        {"lines": [line], "created_at": "2025-01-28T08:00:00"},  # no UTC offset
        {
            "lines": [line],
            "created_at": "2025-01-28T08:00:00+07:00",
            "updated_at": "2025-01-28T07:00:00+07:00",
        },
    ):
        with pytest.raises(SandboxRefused) as refused:
            await control.seed_orders([bad])
        assert refused.value.status == 422
    with pytest.raises(SandboxRefused) as unsupported:
        await control.seed_orders(
            [{"lines": [line], "created_at": datetime(2025, 1, 28, tzinfo=UTC)}]
        )
    assert unsupported.value.status == 501 and "no bulk order seed" in str(unsupported.value.body)


async def test_revoking_access_is_501_where_the_sandbox_cannot_emulate_it(
    control: SandboxControl,
) -> None:
    with pytest.raises(SandboxRefused) as refused:
        await control.revoke_access()
    assert refused.value.status == 501 and refused.value.body["error"] == "not_supported"
