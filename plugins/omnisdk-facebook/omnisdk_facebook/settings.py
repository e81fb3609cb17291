"""The settings of one Meta catalog (its ``[[channels]]`` entry in omnisdk.toml)."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from omnisdk.channel import ChannelSettings
from omnisdk.models import minor_units

__all__ = ["DEFAULT_API_VERSION", "GRAPH_URL", "FacebookSettings"]

GRAPH_URL = "https://graph.facebook.com"
"""Meta's Graph API host; the version goes in the path (``/v26.0/{catalog_id}/products``)."""

DEFAULT_API_VERSION = "v26.0"
"""The Graph version every call names (an unversioned call would get the app's oldest)."""

_VERSION = re.compile(r"^v\d+\.\d+$")


class FacebookSettings(ChannelSettings):
    """Credentials and options of one Meta product catalog (each field says what it does).

    Every call carries ``appsecret_proof``, so a leaked token is useless without the secret.
    """

    app_id: str = Field(min_length=1, pattern=r"^\d+$")
    """The Meta app's id."""
    app_secret: SecretStr
    """The app's secret: every call carries ``appsecret_proof`` (HMAC-SHA256 of the
    token keyed by it)."""
    access_token: SecretStr
    """A system-user token with ``catalog_management`` (long-lived)."""
    catalog_id: str = Field(min_length=1, pattern=r"^\d+$")
    """The catalog the channel lists in."""
    api_version: str = DEFAULT_API_VERSION
    """The Graph version every call names (``v26.0``); upgrade before its end of life."""
    currency: str = "VND"
    """The currency prices are in (VND: whole dong)."""
    link_template: str | None = Field(default=None, pattern=r"^https?://.*\{sku\}")
    """The product page of a new item (``https://shop.vn/p/{sku}``; Meta requires a link)."""
    verify_token: SecretStr | None = None
    """What the webhook subscription handshake must echo (``hub.verify_token``)."""
    batch_timeout: float = Field(default=300.0, gt=0, le=3600)
    """Seconds to wait for Meta to finish one items batch."""
    requests_per_second: float | None = Field(default=None, gt=0)
    """Overrides the default request budget."""

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(f"api_version must look like v26.0, got {value!r}")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        minor_units(code)
        return code
