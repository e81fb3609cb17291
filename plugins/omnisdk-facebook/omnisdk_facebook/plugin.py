"""The module the ``omnisdk.plugins`` entry point names: it contributes the Facebook channel.

Importing it must stay cheap and must not need the sandbox's dependencies.
"""

from __future__ import annotations

from collections.abc import Callable

from omnisdk import Channel, hookimpl
from omnisdk_facebook.channel import FacebookChannel

__all__ = ["omnisdk_register_channels"]


@hookimpl
def omnisdk_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Contribute :class:`~omnisdk_facebook.channel.FacebookChannel`."""
    register(FacebookChannel)
