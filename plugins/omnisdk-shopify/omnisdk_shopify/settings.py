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
    """How to reach one Shopify shop: its handle and either a permanent token or a
    Dev Dashboard app's client credentials (each field says what it does)."""

    shop: str = Field(min_length=1, examples=["demo-shop"])
    """The shop's handle (``demo-shop``) or its ``*.myshopify.com`` domain."""
    access_token: SecretStr | None = None
    """A custom app's permanent Admin API access token (or give ``client_id`` and
    ``client_secret``)."""
    client_id: str | None = None
    """A Dev Dashboard app's client id: the channel obtains ~24 h tokens with the
    client-credentials grant and refreshes them."""
    client_secret: SecretStr | None = None
    """The app's secret: for the client-credentials grant and to verify webhook signatures."""
    api_version: str = DEFAULT_API_VERSION
    """The Admin API version every call names (``YYYY-01/04/07/10``)."""
    location_id: str | None = None
    """The location stock writes go to when an update names none (unset: the shop's
    primary location)."""
    bulk_threshold: int | None = Field(default=5000, ge=0)
    """How many objects make a full backfill run as a bulk operation (JSONL export)
    instead of paged queries; 0: always bulk, unset: never."""
    bulk_poll_interval: float = Field(default=1.0, gt=0)
    """Seconds between polls of a running bulk operation."""
    bulk_timeout: float = Field(default=3600.0, gt=0)
    """Seconds a bulk operation may run before the read gives up."""
    location_codes: dict[str, str] = Field(
        default_factory=dict, examples=[{"655441491": "hcm-kho", "Cửa hàng Hà Nội": "hn-01"}]
    )
    """Shopify location (numeric id, global id or name) -> the merchant's location code;
    a location not here is known by its numeric id."""
    restock_on_cancel: bool = True
    """Cancelling an order restocks its units."""
    refund_on_cancel: bool = True
    """Cancelling a paid order refunds it to its original payment methods."""
    notify_customer: bool = False
    """Shopify emails the buyer about a shipment or cancellation."""
    job_poll_interval: float = Field(default=0.5, gt=0)
    """Seconds between polls of Shopify's background cancel job."""
    job_timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for a background cancel job."""

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

    @field_validator("location_codes")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned = {key.strip(): code.strip() for key, code in value.items()}
        blank = [key for key, code in cleaned.items() if not key or not code]
        if blank:
            raise ValueError(f"location_codes has an empty key or code: {blank!r}")
        seen: dict[str, str] = {}
        for key, code in cleaned.items():
            if code in seen:
                raise ValueError(
                    f"location_codes gives {code!r} to both {seen[code]!r} and {key!r}: "
                    "a code must name one location"
                )
            seen[code] = key
        return cleaned

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
