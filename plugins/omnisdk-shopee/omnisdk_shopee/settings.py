"""The settings of one Shopee shop account (its ``[[channels]]`` entry in omnisdk.toml)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from omnisdk.channel import ChannelSettings
from omnisdk.models import minor_units

__all__ = ["LIVE_BASE_URL", "TEST_BASE_URL", "ShopeeSettings"]

LIVE_BASE_URL = "https://partner.shopeemobile.com"
"""Shopee's live (global) Open Platform host."""

TEST_BASE_URL = "https://partner.test-stable.shopeemobile.com"
"""Shopee's own test ("test-stable") host."""


class ShopeeSettings(ChannelSettings):
    """Credentials and options of one Shopee shop.

    ``partner_id`` and ``partner_key`` identify the app (from the Shopee Open Platform
    console). ``shop_id`` is the authorised shop; it may be left out until the authorisation
    code is exchanged (:meth:`ShopeeChannel.exchange_code` learns it). ``access_token`` and
    ``refresh_token`` seed the token store the first time (afterwards the store's rotated pair
    wins, since Shopee's refresh tokens are single use); ``token_expires_at`` says when that
    access token dies (unknown: it is refreshed at first use).

    ``currency`` is the shop's currency (prices arrive as bare numbers in it; VND has no
    decimals). ``location_id`` is the warehouse stock writes go to in multi-warehouse shops.
    ``push_callback_url`` is the URL registered for push exactly as registered (it is part of
    the push signature); unset, the receiver's configured callback URL of the account is used
    (``[engine] webhook_public_url``), never the URL a request claims. ``history_days`` is
    how far back an order backfill without a start goes. ``clock_skew_seconds`` extends an
    order listing's end past our clock, so orders stamped by a Shopee clock running ahead of
    ours are not missed (0: end at our clock).
    ``requests_per_second`` overrides the default rate budget. ``item_statuses`` are the item
    statuses a product listing asks for.
    """

    partner_id: int = Field(gt=0)
    partner_key: SecretStr
    shop_id: int | None = Field(default=None, gt=0)
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    token_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    currency: str = "VND"
    region: str = "VN"
    location_id: str | None = None
    push_callback_url: str | None = None
    redirect_url: str | None = None
    history_days: int = Field(default=90, ge=1, le=3650)
    clock_skew_seconds: int = Field(default=300, ge=0, le=3600)
    requests_per_second: float | None = Field(default=None, gt=0)
    item_statuses: tuple[str, ...] = ("NORMAL", "UNLIST")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        minor_units(code)
        return code

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("token_expires_at", "refresh_expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its UTC offset (e.g. 2025-01-01T08:00:00+07:00)")
        return value

    @model_validator(mode="after")
    def _token_pair(self) -> Self:
        if self.refresh_token is not None and self.access_token is None:
            raise ValueError("refresh_token needs the access_token it came with")
        return self
