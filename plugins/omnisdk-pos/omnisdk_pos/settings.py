"""The settings of one POS account (its ``[[channels]]`` entry in omnisdk.toml).

``backend`` names the POS system; KiotViet is the first. A second backend adds its own
value here and its own client/mapping modules beside KiotViet's (see the README).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from omnisdk.channel import ChannelSettings

__all__ = [
    "DEFAULT_MARKETPLACE_CHANNELS",
    "DEFAULT_MARKETPLACE_MARKERS",
    "LIVE_BASE_URL",
    "LIVE_TOKEN_URL",
    "PosSettings",
]

LIVE_BASE_URL = "https://public.kiotapi.com"
"""KiotViet's Public API host."""

LIVE_TOKEN_URL = "https://id.kiotviet.vn/connect/token"  # noqa: S105 (a URL)
"""KiotViet's identity server (client-credentials tokens)."""

DEFAULT_MARKETPLACE_CHANNELS = ("shopee", "lazada", "tiktok", "tiki", "sendo")
"""Sale-channel names (lower-case prefixes) of marketplaces KiotViet syncs itself."""

DEFAULT_MARKETPLACE_MARKERS = ("SPE", "LZD", "LAZ", "TTS", "TIKI", "TKI", "SDO")
"""Code infixes of marketplace-synced documents (``HDSPE_000123``, ``DHLZD_...``)."""


class PosSettings(ChannelSettings):
    """Credentials and options of one POS retailer (each field says what it does).

    Sales KiotViet synced from a marketplace are recognised by ``marketplace_channels`` and
    ``marketplace_markers`` and skipped, because omnisdk reads those marketplaces directly;
    ``skip_marketplace_sales=False`` keeps them (for a marketplace omnisdk does not connect).
    """

    backend: Literal["kiotviet"] = "kiotviet"
    """The POS system (KiotViet is the first)."""
    client_id: str = Field(min_length=1)
    """KiotViet: from "Thiết lập cửa hàng → Thiết lập kết nối API"."""
    client_secret: SecretStr
    """KiotViet: the secret shown beside the client id."""
    retailer: str = Field(min_length=1)
    """The shop's name: the ``xxx`` of ``xxx.kiotviet.vn``."""
    token_url: str = LIVE_TOKEN_URL
    """The identity server that issues client-credentials tokens."""
    webhook_secret: SecretStr | None = None
    """The Base64 ``Secret`` registered with the webhooks (unset: deliveries are
    unsigned and refused)."""
    branch_codes: dict[int, str] = Field(default_factory=dict)
    """KiotViet branch id -> the merchant's location code (default: the branch's
    ``branchCode`` lower-cased)."""
    default_branch: int | None = Field(default=None, gt=0)
    """The branch a stock write without a location goes to (unset: the first branch)."""
    skip_marketplace_sales: bool = True
    """Skip sales KiotViet synced from a marketplace omnisdk reads directly."""
    marketplace_channels: tuple[str, ...] = DEFAULT_MARKETPLACE_CHANNELS
    """Sale-channel names (lower-case prefixes) that mark a marketplace-synced sale."""
    marketplace_markers: tuple[str, ...] = DEFAULT_MARKETPLACE_MARKERS
    """Code infixes that mark a marketplace-synced document (``HDSPE_000123``)."""
    history_days: int = Field(default=30, ge=1, le=3650)
    """How far back a first order read goes."""
    gets_per_hour: int = Field(default=4_900, ge=1, le=5_000)
    """The GET budget the channel keeps under (KiotViet allows 5,000)."""
    promotion_price_book: int | None = Field(default=None, gt=0)
    """The id of the KiotViet price book (bảng giá) promotions are written to. The public
    API cannot create a price book, so the merchant creates one in KiotViet (switched on,
    for every branch, dated to cover the promotions) and names it here; without it the POS
    cannot take part in promotions and the promotion plan says so."""

    @field_validator("retailer")
    @classmethod
    def _retailer(cls, value: str) -> str:
        return value.strip()

    @field_validator("branch_codes")
    @classmethod
    def _codes(cls, value: dict[int, str]) -> dict[int, str]:
        cleaned = {int(k): v.strip() for k, v in value.items()}
        if any(not code for code in cleaned.values()):
            raise ValueError("a branch's location code cannot be empty")
        if len(set(cleaned.values())) != len(cleaned):
            raise ValueError("two branches share a location code")
        return cleaned
