"""Allocation: how many units of a SKU each channel account may list.

What a channel may sell is computed, never stored: on hand less reserved less the orders the
channel accepted that the core has not seen yet less the safety buffer, then the account's
rule. The default policy lives here; an app replaces it with the ``omnisdk_allocate_stock``
hook.
"""

from __future__ import annotations

import math
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AllocationRequest", "AllocationRule", "default_allocation"]


class AllocationRule(BaseModel):
    """An account's allocation rule, from its ``[channels.allocation]`` config table.

    ``locations``: codes of the locations that feed this channel (None: all).
    ``safety_buffer``: units always held back. ``percentage``: share of the rest to list
    (100 lists all). ``maximum``: never list more than this. ``zero_below``: list 0 when fewer
    than this many would be listed (so the last units go to the shop floor, not a marketplace).
    ``weight``: in the ``quota`` allocation, this account's share of a SKU's free stock
    relative to the other accounts listing it (times its recent sales velocity); 0 gives it
    units only when no other account wants them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    locations: tuple[str, ...] | None = None
    """Codes of the locations whose stock feeds this channel (unset: all of them)."""
    safety_buffer: int = Field(default=0, ge=0)
    """Units always held back from this channel."""
    percentage: Decimal = Field(default=Decimal(100), ge=0, le=100)
    """Share of the rest to list, 0 to 100 (100 lists all)."""
    maximum: int | None = Field(default=None, ge=0)
    """Never list more than this many units (unset: no cap)."""
    zero_below: int = Field(default=0, ge=0)
    """List 0 when fewer than this many would be listed (the last units go to the shop
    floor, not a marketplace)."""
    weight: Decimal = Field(default=Decimal(1), ge=0)
    """In the ``quota`` allocation, this account's share of a SKU's free stock relative to the
    other accounts listing it (times its recent sales velocity); 0 gives it units only when no
    other account wants them."""


class AllocationRequest(BaseModel):
    """Everything an allocation policy needs to decide one SKU's listed quantity on one account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    channel: str
    account: str
    on_hand: dict[str, int] = Field(description="on hand per location code")
    reserved: dict[str, int] = Field(default_factory=dict,
                                     description="reserved per location code")
    unseen: int = Field(default=0, ge=0,
                        description="units this channel sold that the core has not ingested yet")
    rule: AllocationRule = AllocationRule()
    holdings: dict[str, int | None] = Field(
        default_factory=dict,
        description="quota allocation: what every account listing the SKU holds now (the "
        "units it may still sell plus those it sold unseen; None: unknown); empty when shared",
    )

    def pool(self) -> int:
        """Free units in the locations that feed this channel, before the buffer."""
        codes = self.rule.locations if self.rule.locations is not None else self.on_hand.keys()
        return sum(self.on_hand.get(c, 0) - self.reserved.get(c, 0) for c in codes)


def default_allocation(request: AllocationRequest) -> int:
    """The default policy: pool - unseen - buffer, then percentage, maximum and zero-below."""
    rule = request.rule
    free = request.pool() - request.unseen - rule.safety_buffer
    if free <= 0:
        return 0
    share = math.floor(Decimal(free) * rule.percentage / 100)
    if rule.maximum is not None:
        share = min(share, rule.maximum)
    if share < rule.zero_below:
        return 0
    return int(share)
