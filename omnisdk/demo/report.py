"""What the demo reports: plain data (frozen pydantic models), rendered by the CLI.

:class:`DemoSnapshot` is the demo at one moment (the live view), :class:`DemoSummary` its
outcome: what ``omnisdk demo --json`` prints and what decides its exit status.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChannelSummary", "DemoSnapshot", "DemoSummary", "SkuSnapshot", "SkuSummary"]

_FROZEN = ConfigDict(frozen=True)


class SkuSnapshot(BaseModel):
    """One SKU at one moment: the pool, and what each channel lists."""

    model_config = _FROZEN

    sku: str
    title: str
    start: int
    sold: int
    on_hand: int
    reserved: int
    listed: dict[str, int]


class DemoSnapshot(BaseModel):
    """The demo at one moment, for the live display."""

    model_config = _FROZEN

    elapsed: float
    phase: str
    skus: list[SkuSnapshot]
    accepted: dict[str, int]
    refused: dict[str, int]
    in_book: dict[str, int]


class ChannelSummary(BaseModel):
    """One channel's outcome: orders it took and refused, and whether the book has them all.

    ``units_match`` is True when the book's units by SKU for this account equal what the
    buyers bought there.
    """

    model_config = _FROZEN

    account: str
    channel_type: str
    orders: int
    refused: int
    errors: int
    orders_in_book: int
    units_match: bool
    listed_matches_sellable: bool
    mismatches: dict[str, str] = Field(default_factory=dict)


class SkuSummary(BaseModel):
    """One SKU's outcome: units sold everywhere against the stock it started with."""

    model_config = _FROZEN

    sku: str
    title: str
    start: int
    sold: int
    oversold: int
    on_hand: int
    reserved: int
    listed: dict[str, int]
    sellable: dict[str, int]


class DemoSummary(BaseModel):
    """What ``omnisdk demo --json`` prints, and what decides its exit status (:attr:`ok`)."""

    model_config = _FROZEN

    ok: bool
    duration: float
    buyers: int
    safety_buffer: int
    channels: list[ChannelSummary]
    skus: list[SkuSummary]
    orders: int
    refused: int
    oversold_units: int
    orders_in_one_book: bool
    listed_converged: bool
    ledger_consistent: bool
    drift_repaired: list[str] = Field(default_factory=list)
    """Listings the final reconciliation set right: ``account/SKU: listed -> expected``."""
    oversells_in_book: int = 0
    """SKUs whose orders hold more than is on hand, as the reconciliation reports them."""
    problems: list[str]
    config: str | None = None
    """The kept ``omnisdk.toml`` (``keep_dir``); None when the demo ran in a temporary dir."""
