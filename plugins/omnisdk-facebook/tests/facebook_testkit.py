"""Helpers shared by the Facebook plugin's tests: a seeded sandbox and a channel on it."""

from __future__ import annotations

from typing import Any

import httpx
from omnisdk_facebook import FacebookChannel
from omnisdk_facebook.sandbox import FacebookSandbox

from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk.testing.registration import unthrottled
from omnisdk.testing.sandbox import SeedProduct

CATALOG = [
    {"sku": "AO-THUN-TRANG-M", "title": "Áo thun cổ tròn trắng", "price": "149000", "stock": 20},
    {"sku": "NON-LA-HUE", "title": "Nón lá Huế", "price": "85000", "stock": 7},
    {"sku": "AO-DAI-DO", "title": "Áo dài đỏ", "price": "650000", "stock": 5,
     "product": "Áo dài lụa tơ tằm", "options": {"Màu": "Đỏ"}},
    {"sku": "AO-DAI-XANH", "title": "Áo dài xanh", "price": "690000", "stock": 4,
     "product": "Áo dài lụa tơ tằm", "options": {"Màu": "Xanh ngọc"}},
]
"""A small Vietnamese catalog in VND: two single items and one product in two colours."""


def seeded(seed: int = 1, **options: Any) -> FacebookSandbox:
    """A sandbox holding :data:`CATALOG`."""
    sandbox = FacebookSandbox(seed=seed, **options)
    with sandbox.lock:
        sandbox.seed_products([SeedProduct.model_validate(entry) for entry in CATALOG])
    return sandbox


def channel_on(sandbox: FacebookSandbox, **settings: Any) -> FacebookChannel:
    """An unthrottled channel calling ``sandbox`` in-process."""
    channel = FacebookChannel(
        {**sandbox.channel_settings(IN_PROCESS_URL), **settings}, account="fb-page",
        transport=httpx.ASGITransport(app=sandbox.app),
    )
    return unthrottled(channel)  # type: ignore[return-value]
