"""Where a canonical object came from: a channel account and the platform's own id."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from omnisdk.models.base import CanonicalModel

__all__ = ["ChannelRef"]


class ChannelRef(CanonicalModel):
    """Points at one object on one channel account.

    ``channel`` is the channel type (the plugin's name, e.g. ``"shopify"``), ``account`` the
    account name from the configuration (e.g. ``"hanoi-store"``) and ``external_id`` the id the
    platform gave the object.
    """

    model_config = ConfigDict(frozen=True)

    channel: str = Field(min_length=1, examples=["pos"])
    account: str = Field(min_length=1, examples=["main"])
    external_id: str = Field(min_length=1, examples=["8123456789"])

    def __str__(self) -> str:
        return f"{self.channel}:{self.account}:{self.external_id}"
