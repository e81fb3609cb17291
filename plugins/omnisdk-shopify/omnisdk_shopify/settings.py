"""Settings of a Shopify account: the ``[[channels]]`` entry of ``type = "shopify"``.

Two ways in:

- a custom app's permanent Admin API access token (``access_token``), or
- a Dev Dashboard app's ``client_id`` and ``client_secret``: the channel asks for a token
  with the client-credentials grant (it lives about 24 h), refreshes it before it expires and
  persists each new one through the token store.

``client_secret`` also verifies webhook signatures (Shopify signs them with the app's
secret). Secrets are :class:`~pydantic.SecretStr` and never appear in logs or reprs.
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from omnisdk.channel import ChannelSettings

__all__ = ["DEFAULT_API_VERSION", "ShopifySettings"]

DEFAULT_API_VERSION = "2026-10"
"""The Admin API version omnisdk-shopify is written against (the stable one of late 2026)."""

_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


class ShopifySettings(ChannelSettings):
    """How to reach one Shopify shop.

    ``shop`` is the shop's handle (``"demo-shop"``) or its ``*.myshopify.com`` domain.
    ``location_id`` is the location stock writes go to when an update names none (default:
    the shop's primary location). ``bulk_threshold`` is how many objects make a full backfill
    run as a bulk operation (JSONL export) instead of paged queries; 0 always uses bulk,
    None never does.
    """

    shop: str = Field(min_length=1, examples=["demo-shop"])
    access_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    api_version: str = DEFAULT_API_VERSION
    location_id: str | None = None
    bulk_threshold: int | None = Field(default=5000, ge=0)
    bulk_poll_interval: float = Field(default=1.0, gt=0)
    bulk_timeout: float = Field(default=3600.0, gt=0)

    @field_validator("shop")
    @classmethod
    def _shop_handle(cls, value: str) -> str:
        handle = value.strip().lower().removeprefix("https://").removeprefix("http://")
        handle = handle.split("/", 1)[0].removesuffix(".myshopify.com")
        if not _SHOP.match(handle):
            raise ValueError(f"{value!r} is not a shop handle or a *.myshopify.com domain")
        return handle

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(f"{value!r} is not an Admin API version (YYYY-01/04/07/10)")
        return value

    @model_validator(mode="after")
    def _some_credentials(self) -> Self:
        if self.access_token is None and not (self.client_id and self.client_secret):
            raise ValueError(
                "give access_token, or client_id and client_secret (client-credentials grant)"
            )
        return self

    @property
    def shop_domain(self) -> str:
        """``demo-shop.myshopify.com``."""
        return f"{self.shop}.myshopify.com"

    @property
    def uses_client_credentials(self) -> bool:
        """True when the channel must obtain its own tokens (no permanent token given)."""
        return self.access_token is None
