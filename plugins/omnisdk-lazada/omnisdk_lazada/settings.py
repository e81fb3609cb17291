"""The settings of one Lazada seller account (its ``[[channels]]`` entry in omnisdk.toml)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from omnisdk.channel import ChannelSettings
from omnisdk.models import minor_units

__all__ = ["AUTH_URL", "SITE_CURRENCIES", "SITE_URLS", "LazadaSettings"]

SITE_URLS: dict[str, str] = {
    "VN": "https://api.lazada.vn/rest",
    "SG": "https://api.lazada.sg/rest",
    "MY": "https://api.lazada.com.my/rest",
    "TH": "https://api.lazada.co.th/rest",
    "PH": "https://api.lazada.com.ph/rest",
    "ID": "https://api.lazada.co.id/rest",
}
"""The REST base of each Lazada site (the API path is appended: ``…/rest/orders/get``)."""

AUTH_URL = "https://auth.lazada.com/rest"
"""Where ``/auth/token/create`` and ``/auth/token/refresh`` are served, for every site."""

SITE_CURRENCIES: dict[str, str] = {
    "VN": "VND",
    "SG": "SGD",
    "MY": "MYR",
    "TH": "THB",
    "PH": "PHP",
    "ID": "IDR",
}
"""The currency each site sells in."""


class LazadaSettings(ChannelSettings):
    """Credentials and options of one Lazada seller on one site (each field says what it
    does; ``base_url`` overrides the site's host, e.g. for a sandbox)."""

    app_key: str = Field(min_length=1, pattern=r"^\d+$")
    """The app's key (Lazada Open Platform console)."""
    app_secret: SecretStr
    """The app's secret: signs every call."""
    site: str = "VN"
    """The Lazada site (VN, SG, MY, TH, PH, ID): picks the REST host and the default
    currency."""
    auth_url: str = AUTH_URL
    """The token host (``/auth/token/create`` and ``/auth/token/refresh``)."""
    access_token: SecretStr | None = None
    """Seeds the token store the first time; afterwards the store's pair wins."""
    refresh_token: SecretStr | None = None
    """Seeds the token store with the access token."""
    token_expires_at: datetime | None = None
    """When ``access_token`` dies, with its UTC offset (unset: refreshed at first use
    and its lifetime learnt)."""
    refresh_expires_at: datetime | None = None
    """When ``refresh_token`` dies, with its UTC offset."""
    seller_id: str | None = None
    """The seller (from the token answer): tells this seller's pushes from others'."""
    currency: str | None = None
    """The currency prices are in (unset: the site's)."""
    warehouse_code: str | None = None
    """The warehouse stock writes name, for multi-warehouse sellers (unset: single
    warehouse)."""
    history_days: int = Field(default=90, ge=1, le=3650)
    """How far back a backfill without a start goes."""
    clock_skew_seconds: int = Field(default=300, ge=0, le=3600)
    """How far a listing's end reaches past our clock."""
    requests_per_second: float | None = Field(default=None, gt=0)
    """Overrides the default request budget."""

    @field_validator("site")
    @classmethod
    def _known_site(cls, value: str) -> str:
        site = value.strip().upper()
        if site not in SITE_URLS:
            raise ValueError(f"unknown Lazada site {value!r}: one of {', '.join(SITE_URLS)}")
        return site

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        minor_units(code)
        return code

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

    @property
    def shop_currency(self) -> str:
        """The currency prices are in: ``currency``, else the site's."""
        return self.currency or SITE_CURRENCIES[self.site]
