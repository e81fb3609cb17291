"""The core's own hook implementations: the defaults every plugin can wrap or replace.

Registered last (``trylast``) in every plugin manager, so any plugin's implementation of the
same first-result hook is asked first, and wrappers see the default's result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnisdk.allocation import AllocationRequest, default_allocation
from omnisdk.hookspecs import hookimpl

if TYPE_CHECKING:
    from omnisdk.channel import Channel
    from omnisdk.models import Customer, Order, Product


@hookimpl(trylast=True)
def omnisdk_map_product(channel: Channel, raw: dict[str, Any]) -> Product:
    """Default product mapping: the channel's own ``parse_product``."""
    return channel.parse_product(raw)


@hookimpl(trylast=True)
def omnisdk_map_order(channel: Channel, raw: dict[str, Any]) -> Order:
    """Default order mapping: the channel's own ``parse_order``."""
    return channel.parse_order(raw)


@hookimpl(trylast=True)
def omnisdk_map_customer(channel: Channel, raw: dict[str, Any]) -> Customer:
    """Default customer mapping: the channel's own ``parse_customer``."""
    return channel.parse_customer(raw)


@hookimpl(trylast=True)
def omnisdk_allocate_stock(request: AllocationRequest) -> int:
    """Default allocation policy: :func:`omnisdk.allocation.default_allocation`."""
    return default_allocation(request)
