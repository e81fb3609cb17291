"""Helpers shared by the Lazada plugin's tests: sandboxes on a frozen clock, channels, seeds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from omnisdk_lazada import LazadaChannel
from omnisdk_lazada.sandbox import LazadaSandbox

from omnisdk import Plugins, hookimpl
from omnisdk.auth import TokenStore
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.sandbox import BuyerLine, BuyerOrder, SeedProduct

START = datetime(2025, 3, 15, 2, 0, tzinfo=UTC)
"""Where frozen sandbox clocks start (09:00 in Hồ Chí Minh City)."""

IN_PROCESS = "http://lazada.sandbox.test"

CATALOG = [
    {"sku": "AO-THUN-TRANG-M", "title": "Áo thun cổ tròn trắng", "price": "149000", "stock": 20},
    {"sku": "NON-LA-HUE", "title": "Nón lá Huế", "price": "85000", "stock": 7},
    {
        "sku": "AO-DAI-DO",
        "title": "Áo dài",
        "price": "650000",
        "stock": 5,
        "product": "Áo dài lụa tơ tằm",
        "options": {"Màu": "Đỏ"},
    },
    {
        "sku": "AO-DAI-XANH",
        "title": "Áo dài",
        "price": "690000",
        "stock": 4,
        "product": "Áo dài lụa tơ tằm",
        "options": {"Màu": "Xanh ngọc"},
    },
]
"""A small Vietnamese catalog in VND: two single-SKU items and one item with two colours."""

BUYER = {
    "name": "Phạm Thị Hương",
    "phone": "0912 345 678",
    "payment": "COD",
    "address": {
        "line1": "88 Trần Hưng Đạo",
        "ward": "Phường Hàng Bài",
        "district": "Quận Hoàn Kiếm",
        "province": "Hà Nội",
    },
}


class ReauthRecorder:
    """Records ``omnisdk_channel_needs_reauthorisation`` calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    @hookimpl
    def omnisdk_channel_needs_reauthorisation(
        self, channel: str, account: str, reason: str
    ) -> None:
        """Remember the call."""
        self.calls.append((channel, account, reason))


def frozen_sandbox(**kwargs: Any) -> LazadaSandbox:
    """A sandbox whose clock stands still at :data:`START` until advanced."""
    return LazadaSandbox(clock=SandboxClock(START, frozen=True), **kwargs)


def seed(
    sandbox: LazadaSandbox, products: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Seed ``products`` (default :data:`CATALOG`) into ``sandbox``."""
    with sandbox.lock:
        return sandbox.seed_products([SeedProduct.model_validate(p) for p in products or CATALOG])


def order(
    sandbox: LazadaSandbox,
    lines: dict[str, int],
    *,
    when: datetime | None = None,
    customer: dict[str, Any] | None = None,
    push: bool = True,
) -> str:
    """A buyer's order (back-dated to ``when`` if given); its order id."""
    buyer = BuyerOrder(
        lines=[BuyerLine(sku=s, quantity=q) for s, q in lines.items()], customer=customer
    )
    return sandbox.place_order_at(buyer, when or sandbox.clock.now(), push=push)


def plugins_with(*objects: object) -> Plugins:
    """A plugin registry without entry points, with ``objects`` registered."""
    plugins = Plugins(entry_points=False)
    for index, obj in enumerate(objects):
        plugins.register(obj, name=f"test-{index}")
    return plugins


def channel(
    sandbox: LazadaSandbox,
    *,
    account: str = "hn",
    plugins: Plugins | None = None,
    tokens: TokenStore | None = None,
    shared_clock: bool = True,
    **settings: Any,
) -> LazadaChannel:
    """A LazadaChannel calling ``sandbox`` in-process, on the sandbox's clock by default."""
    merged = {**sandbox.channel_settings(IN_PROCESS), **settings}
    made = LazadaChannel(
        merged,
        account=account,
        plugins=plugins or plugins_with(),
        tokens=tokens,
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now if shared_clock else None,
    )
    made.retry_backoff = 0.001  # type: ignore[misc]
    unthrottled(made)  # the sandbox does not enforce Lazada's rate; waiting only slows tests
    return made


def requests_to(sandbox: LazadaSandbox, path: str) -> list[Any]:
    """The sandbox's logged requests to ``path`` (without ``/rest``)."""
    with sandbox.lock:
        return [r for r in sandbox.requests if r.path == "/rest" + path]
