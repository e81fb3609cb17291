"""The plugin module omnisdk loads (entry point ``shopify`` in group ``omnisdk.plugins``)."""

from __future__ import annotations

from collections.abc import Callable

from omnisdk.channel import Channel
from omnisdk.hookspecs import hookimpl
from omnisdk_shopify.channel import ShopifyChannel

__all__ = ["omnisdk_register_channels"]


@hookimpl
def omnisdk_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Contribute :class:`~omnisdk_shopify.channel.ShopifyChannel`."""
    register(ShopifyChannel)
