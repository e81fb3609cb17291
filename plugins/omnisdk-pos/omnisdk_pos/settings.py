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
    """Credentials and options of one POS retailer.

    KiotViet: ``client_id`` and ``client_secret`` from "Thiết lập cửa hàng → Thiết lập kết
    nối API", ``retailer`` the shop's name (the ``xxx`` of ``xxx.kiotviet.vn``).
    ``webhook_secret`` is the Base64 ``Secret`` registered with the webhooks (None: deliveries
    are not signed and are refused; guard such a URL some other way).

    ``branch_codes`` maps KiotViet branch ids to the merchant's location codes (default: the
    branch's ``branchCode`` lower-cased, ``CN01`` -> ``cn01``). ``default_branch`` is the
    branch a stock write without a location goes to (default: the first branch).

    ``marketplace_channels`` and ``marketplace_markers`` recognise sales KiotViet synced from
    a marketplace (by sale-channel name, or by code infix): they are skipped, because omnisdk
    reads those marketplaces directly. ``skip_marketplace_sales=False`` keeps them (for a
    marketplace omnisdk does not connect). ``history_days`` is how far back a first order
    read goes (the engine re-reads a few minutes before its cursor itself). ``gets_per_hour``
    is the GET budget the channel keeps under (KiotViet allows 5,000).
    """

    backend: Literal["kiotviet"] = "kiotviet"
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    retailer: str = Field(min_length=1)
    token_url: str = LIVE_TOKEN_URL
    webhook_secret: SecretStr | None = None
    branch_codes: dict[int, str] = Field(default_factory=dict)
    default_branch: int | None = Field(default=None, gt=0)
    skip_marketplace_sales: bool = True
    marketplace_channels: tuple[str, ...] = DEFAULT_MARKETPLACE_CHANNELS
    marketplace_markers: tuple[str, ...] = DEFAULT_MARKETPLACE_MARKERS
    history_days: int = Field(default=30, ge=1, le=3650)
    gets_per_hour: int = Field(default=4_900, ge=1, le=5_000)
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
