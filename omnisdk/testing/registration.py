"""Registering channel classes in a test without packaging a plugin."""

from __future__ import annotations

import math
from collections.abc import Callable

from omnisdk.channel import Channel, ChannelLimits
from omnisdk.hookspecs import hookimpl
from omnisdk.http import RateBudget

__all__ = ["ContributeChannels", "unthrottled"]


class ContributeChannels:
    """A plugin object that contributes the given channel classes, as a plugin module would.

    ``plugins.register(ContributeChannels(ExampleChannel), name="example")``.
    """

    def __init__(self, *channel_classes: type[Channel]) -> None:
        self.channel_classes = channel_classes

    @hookimpl
    def omnisdk_register_channels(self, register: Callable[[type[Channel]], None]) -> None:
        """Register every channel class given."""
        for channel_class in self.channel_classes:
            register(channel_class)


def unthrottled(channel: Channel) -> Channel:
    """Lift ``channel``'s declared rate limit, for this object only; returns it.

    Sandboxes do not enforce platform rate limits, and honouring them would only slow tests
    down. Call before the channel's first request (its HTTP client reads the limit once).
    """
    limits: ChannelLimits = type(channel).limits.model_copy(
        update={"rate": RateBudget(requests_per_second=math.inf, burst=1)}
    )
    channel.limits = limits  # type: ignore[misc]  # an instance value shadows the ClassVar
    return channel
