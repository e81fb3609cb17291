"""Customers: one person, whichever channels they buy on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from omnisdk.models.address import Address
from omnisdk.models.base import CanonicalModel
from omnisdk.models.contact import Email, Phone
from omnisdk.models.refs import ChannelRef

__all__ = ["Customer"]


class Customer(CanonicalModel):
    """A buyer.

    ``phones`` and ``emails`` are normalised contact points; masked ones (marketplaces hide
    buyers' details) are kept for display but never used to match. ``identities`` lists every
    channel account the person is known on; ``channel_ref`` is the one this record came from.
    """

    id: str | None = None
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phones: list[Phone] = Field(default_factory=list)
    emails: list[Email] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    identities: list[ChannelRef] = Field(default_factory=list)
    accepts_marketing: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    channel_ref: ChannelRef | None = None
    raw: dict[str, Any] | None = Field(default=None, repr=False)

    @property
    def display_name(self) -> str:
        """The best name we have for this person."""
        if self.full_name:
            return self.full_name
        joined = " ".join(p for p in (self.last_name, self.first_name) if p)
        return joined or next((str(p) for p in self.phones), "") or "(unknown)"

    def match_keys(self) -> set[str]:
        """Keys that identify this person: ``phone:+84…``, ``email:…``, ``ref:channel:acct:id``.

        Masked or unreadable contact points are left out, so they never merge two people.
        """
        keys = {f"phone:{p.match_key}" for p in self.phones if p.match_key}
        keys |= {f"email:{e.match_key}" for e in self.emails if e.match_key}
        refs = [*self.identities, *([self.channel_ref] if self.channel_ref else [])]
        keys |= {f"ref:{ref}" for ref in refs}
        return keys
