"""The omnisdk plugin module of the POS channel (entry point ``omnisdk.plugins: pos``)."""

from __future__ import annotations

from collections.abc import Callable

from omnisdk.channel import Channel
from omnisdk.hookspecs import hookimpl
from omnisdk_pos.channel import PosChannel

__all__ = ["omnisdk_register_channels"]


@hookimpl
def omnisdk_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Contribute :class:`~omnisdk_pos.channel.PosChannel`."""
    register(PosChannel)
