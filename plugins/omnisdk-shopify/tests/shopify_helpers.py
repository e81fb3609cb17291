"""Helpers for the Shopify plugin's tests (a uniquely named module: no clash on sys.path)."""

from __future__ import annotations

from typing import Any

import httpx

from omnisdk.plugins import Plugins
from omnisdk.testing.control import IN_PROCESS_URL
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox


def make_channel(sandbox: ShopifySandbox, plugins: Plugins, **settings: Any) -> ShopifyChannel:
    """A channel on ``sandbox`` (in-process) with ``settings`` overriding the sandbox's."""
    merged = {**sandbox.channel_settings(IN_PROCESS_URL), **settings}
    return ShopifyChannel(
        merged, account="hcm", plugins=plugins, transport=httpx.ASGITransport(app=sandbox.app)
    )
