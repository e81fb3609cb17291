"""Helpers shared by the Shopee plugin's tests: sandboxes on a frozen clock, channels, seeds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from omnisdk_shopee import ShopeeChannel
from omnisdk_shopee.sandbox import ShopeeSandbox

from omnisdk import Plugins, hookimpl
from omnisdk.auth import TokenStore
from omnisdk.testing.clock import SandboxClock
from omnisdk.testing.sandbox import BuyerLine, BuyerOrder, SeedProduct

START = datetime(2025, 3, 15, 2, 0, tzinfo=UTC)
"""Where frozen sandbox clocks start (09:00 in Hồ Chí Minh City)."""

IN_PROCESS = "http://shopee.sandbox.test"

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
"""A small Vietnamese catalog in VND: two plain items and one item with two colours."""


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


def frozen_sandbox(**kwargs: Any) -> ShopeeSandbox:
    """A sandbox whose clock stands still at :data:`START` until advanced."""
    return ShopeeSandbox(clock=SandboxClock(START, frozen=True), **kwargs)


def seed(
    sandbox: ShopeeSandbox, products: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Seed ``products`` (default :data:`CATALOG`) into ``sandbox``."""
    with sandbox.lock:
        return sandbox.seed_products([SeedProduct.model_validate(p) for p in products or CATALOG])


def order(
    sandbox: ShopeeSandbox,
    lines: dict[str, int],
    *,
    when: datetime | None = None,
    customer: dict[str, Any] | None = None,
) -> str:
    """A buyer's order (back-dated to ``when`` if given); its order_sn."""
    buyer = BuyerOrder(
        lines=[BuyerLine(sku=s, quantity=q) for s, q in lines.items()], customer=customer
    )
    if when is None:
        with sandbox.lock:
            return sandbox.place_order(buyer)
    return sandbox.place_order_at(buyer, when)


def plugins_with(*objects: object) -> Plugins:
    """A plugin registry without entry points, with ``objects`` registered."""
    plugins = Plugins(entry_points=False)
    for index, obj in enumerate(objects):
        plugins.register(obj, name=f"test-{index}")
    return plugins


def channel(
    sandbox: ShopeeSandbox,
    *,
    account: str = "hcm",
    plugins: Plugins | None = None,
    tokens: TokenStore | None = None,
    shared_clock: bool = True,
    **settings: Any,
) -> ShopeeChannel:
    """A ShopeeChannel calling ``sandbox`` in-process, on the sandbox's clock by default."""
    merged = {**sandbox.channel_settings(IN_PROCESS), **settings}
    return ShopeeChannel(
        merged,
        account=account,
        plugins=plugins or plugins_with(),
        tokens=tokens,
        transport=httpx.ASGITransport(app=sandbox.app),
        clock=sandbox.clock.now if shared_clock else None,
    )


def requests_to(sandbox: ShopeeSandbox, path: str) -> list[Any]:
    """The sandbox's logged requests to ``path``."""
    with sandbox.lock:
        return [r for r in sandbox.requests if r.path == path]
