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
    """Credentials and options of one Meta product catalog.

    ``app_id``/``app_secret`` identify the Meta app; every call carries ``appsecret_proof``
    (HMAC-SHA256 of the token keyed by the secret), so a leaked token is useless without the
    secret. ``access_token`` is a system-user token with ``catalog_management`` (long-lived,
    it does not expire on a schedule). ``catalog_id`` is the catalog the channel lists in,
    ``currency`` the currency its prices are in (VND: whole dong). ``api_version`` pins the
    Graph version (upgrade before its end of life). ``link_template`` is the product page of
    a new item (``"https://shop.vn/p/{sku}"``; Meta requires a ``link``). ``verify_token`` is
    what the webhook subscription handshake must echo (``hub.verify_token``).
    ``batch_timeout`` bounds how long the channel waits for Meta to finish one items batch;
    ``requests_per_second`` overrides the default request budget.
    """

    app_id: str = Field(min_length=1, pattern=r"^\d+$")
    app_secret: SecretStr
    access_token: SecretStr
    catalog_id: str = Field(min_length=1, pattern=r"^\d+$")
    api_version: str = DEFAULT_API_VERSION
    currency: str = "VND"
    link_template: str | None = Field(default=None, pattern=r"^https?://.*\{sku\}")
    verify_token: SecretStr | None = None
    batch_timeout: float = Field(default=300.0, gt=0, le=3600)
    requests_per_second: float | None = Field(default=None, gt=0)

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
