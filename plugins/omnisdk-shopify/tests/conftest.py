"""Fixtures shared by the Shopify plugin's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from shopify_helpers import make_channel

from omnisdk.plugins import Plugins
from omnisdk.testing.control import SandboxControl
from omnisdk_shopify import plugin
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    """A fresh sandbox shop."""
    shop = ShopifySandbox()
    yield shop
    shop.close()


@pytest_asyncio.fixture
async def control(sandbox: ShopifySandbox) -> AsyncIterator[SandboxControl]:
    """The sandbox's control API, in-process."""
    async with SandboxControl.for_sandbox(sandbox) as client:
        yield client


@pytest.fixture
def plugins() -> Plugins:
    """A plugin registry holding only this plugin."""
    registry = Plugins(entry_points=False)
    registry.register(plugin, name="shopify")
    return registry


@pytest_asyncio.fixture
async def channel(sandbox: ShopifySandbox, plugins: Plugins) -> AsyncIterator[ShopifyChannel]:
    """A channel wired to the sandbox in-process."""
    async with make_channel(sandbox, plugins) as connected:
        yield connected
