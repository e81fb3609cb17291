"""Stock: what is on hand and reserved per (SKU, location), and requests to change a listing."""

from __future__ import annotations

import enum

from pydantic import Field, computed_field

from omnisdk.models.base import CanonicalModel
from omnisdk.models.money import Money
from omnisdk.models.product import Sku
from omnisdk.models.refs import ChannelRef

__all__ = ["PriceUpdate", "StockLevel", "StockPushMode", "StockUpdate"]


class StockLevel(CanonicalModel):
    """Stock of one SKU at one location.

    ``on_hand`` is what physically sits there, ``reserved`` what orders have claimed but not
    yet shipped. ``available`` is computed, never stored. When a channel reports its listed
    stock, ``on_hand`` is the listed quantity and ``channel_ref`` says which listing.
    """

    sku: Sku
    location: str | None = None
    on_hand: int
    reserved: int = Field(default=0, ge=0)
    channel_ref: ChannelRef | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def available(self) -> int:
        """On hand less reserved, never below zero."""
        return max(self.on_hand - self.reserved, 0)


class StockPushMode(enum.StrEnum):
    """How a channel can be told a new stock figure, strongest first."""

    COMPARE_AND_SWAP = "compare_and_swap"
    """Set the quantity only if the platform still holds the value we expect."""
    DELTA = "delta"
    """Add or subtract a quantity."""
    ABSOLUTE = "absolute"
    """Overwrite the quantity."""


class StockUpdate(CanonicalModel):
    """One stock write for one listing on one channel.

    ``quantity`` is the new listed quantity. ``expected`` is what the platform should hold now
    (used by compare-and-swap channels), ``delta`` the change (used by delta channels).
    ``location`` is the channel's location id when the channel keeps stock per location.
    """

    sku: Sku
    quantity: int = Field(ge=0)
    location: str | None = None
    expected: int | None = None
    delta: int | None = None
    idempotency_key: str | None = None


class PriceUpdate(CanonicalModel):
    """One price write for one variant on one channel."""

    sku: Sku
    price: Money
    compare_at_price: Money | None = None

