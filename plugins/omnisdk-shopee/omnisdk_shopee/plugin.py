"""The omnisdk plugin module of the Shopee channel (entry point ``omnisdk.plugins: shopee``)."""

from __future__ import annotations

from collections.abc import Callable

from omnisdk.channel import Channel
from omnisdk.hookspecs import hookimpl
from omnisdk_shopee.channel import ShopeeChannel

__all__ = ["omnisdk_register_channels"]


@hookimpl
def omnisdk_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Contribute :class:`~omnisdk_shopee.channel.ShopeeChannel`."""
    register(ShopeeChannel)
