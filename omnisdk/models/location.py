"""Locations: the places stock sits in (warehouses, stores, branches)."""

from __future__ import annotations

import enum

from pydantic import Field

from omnisdk.models.address import Address
from omnisdk.models.base import CanonicalModel
from omnisdk.models.refs import ChannelRef

__all__ = ["Location", "LocationKind"]


class LocationKind(enum.StrEnum):
    """What kind of place a location is."""

    WAREHOUSE = "warehouse"
    STORE = "store"
    BRANCH = "branch"
    OTHER = "other"


class Location(CanonicalModel):
    """A place that holds stock. ``code`` is the merchant's own short name for it.

    ``pickup`` says whether buyers can collect orders there (buy online, pick up in store).
    """

    code: str = Field(min_length=1, examples=["hcm-q1"])
    name: str
    kind: LocationKind = LocationKind.WAREHOUSE
    address: Address | None = None
    pickup: bool = False
    active: bool = True
    channel_ref: ChannelRef | None = None
