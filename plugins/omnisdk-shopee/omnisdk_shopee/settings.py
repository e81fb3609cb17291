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
    """Credentials and options of one Shopee shop (each field says what it does)."""

    partner_id: int = Field(gt=0)
    """The app's partner id (Shopee Open Platform console)."""
    partner_key: SecretStr
    """The app's partner key: signs every call."""
    shop_id: int | None = Field(default=None, gt=0)
    """The authorised shop (may be left out until the authorisation code is exchanged)."""
    access_token: SecretStr | None = None
    """Seeds the token store the first time; afterwards the store's rotated pair wins."""
    refresh_token: SecretStr | None = None
    """Seeds the token store with the access token (Shopee's refresh tokens are single use)."""
    token_expires_at: datetime | None = None
    """When ``access_token`` dies, with its UTC offset (unset: refreshed at first use)."""
    refresh_expires_at: datetime | None = None
    """When ``refresh_token`` dies, with its UTC offset."""
    currency: str = "VND"
    """The shop's currency: prices arrive as bare numbers in it (VND has no decimals)."""
    region: str = "VN"
    """The shop's region code (``VN``, ``SG``...)."""
    location_id: str | None = None
    """The warehouse stock writes go to in multi-warehouse shops."""
    push_callback_url: str | None = None
    """The push URL exactly as registered (part of the push signature); unset: the
    account's URL under ``[engine] webhook_public_url``, never the URL a request claims."""
    redirect_url: str | None = None
    """Where Shopee sends the seller back with the authorisation code."""
    history_days: int = Field(default=90, ge=1, le=3650)
    """How far back an order backfill without a start goes."""
    clock_skew_seconds: int = Field(default=300, ge=0, le=3600)
    """How far an order listing's end reaches past our clock, so orders stamped by a
    Shopee clock running ahead are not missed."""
    requests_per_second: float | None = Field(default=None, gt=0)
    """Overrides the default request budget."""
    item_statuses: tuple[str, ...] = ("NORMAL", "UNLIST")
    """The item statuses a product listing asks for."""

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
