"""Promotions: one price cut, applied the same on every channel, as data.

A :class:`Promotion` names the SKUs it covers (or a filter on the master catalog), how much
it takes off (a percentage, or a fixed amount of money per unit), when it runs (aware times:
the config reads its times in the shop's time zone) and the channel accounts that opted out.
:meth:`Promotion.price` is the promoted price of one base price, the same function for
every channel, so no two channels can differ by rounding.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from omnisdk.models.base import CanonicalModel
from omnisdk.models.money import Money

__all__ = [
    "Promotion",
    "PromotionItem",
    "PromotionKind",
    "PromotionMechanism",
    "PromotionWrite",
]


class PromotionKind(enum.StrEnum):
    """How a promotion takes its amount off."""

    PERCENTAGE = "percentage"
    """``value`` percent off the base price (rounded half up to the currency)."""
    FIXED = "fixed"
    """``amount`` off each unit (never below zero)."""


class PromotionMechanism(enum.StrEnum):
    """How a channel expresses a time-limited price cut (declared by each channel class)."""

    DATED_SALE_PRICE = "dated_sale_price"
    """A sale price with its own start and end: the platform switches it on and off."""
    DISCOUNT_CAMPAIGN = "discount_campaign"
    """A separate discount object with dates, listing the items and their promoted prices."""
    PRICE_LIST = "price_list"
    """A dated price list (price book) the items are put on."""
    COMPARE_AT = "compare_at"
    """The price is lowered and the base shown as the compare-at price; the platform has no
    dates, so the engine's scheduled job starts and ends it."""

    @property
    def platform_dated(self) -> bool:
        """True when the platform itself switches the promotion on and off at its dates, so
        it can be applied ahead of its start; otherwise the engine writes it when it starts."""
        return self in (PromotionMechanism.DATED_SALE_PRICE, PromotionMechanism.DISCOUNT_CAMPAIGN)

    @property
    def one_at_a_time(self) -> bool:
        """True when an item holds one promoted price at a time (a sale price, a price in a
        book): a promotion is written there only once the one before it has ended. A
        discount campaign is an object of its own, so several can be scheduled ahead."""
        return self is not PromotionMechanism.DISCOUNT_CAMPAIGN


class Promotion(CanonicalModel):
    """One promotion of the master catalog (``[[promotions]]`` in the config).

    ``skus`` lists the SKUs covered; ``tags`` covers every variant of the products carrying
    one of them (at least one of the two is needed). ``value`` is the percentage for
    :attr:`PromotionKind.PERCENTAGE`; ``amount`` the money off per unit for
    :attr:`PromotionKind.FIXED`. ``starts_at`` is included and ``ends_at`` excluded.
    ``opt_out`` names the channel accounts that keep their base price.
    """

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[\w.-]+$",
        description="The promotion's id (letters, digits, `.`, `-`, `_`), e.g. `tet-2027`.",
    )
    name: str = Field(min_length=1, description="A human name, e.g. `Khuyến mãi Tết`.")
    kind: PromotionKind = Field(description="`percentage` (uses `value`) or `fixed` (`amount`).")
    value: Decimal | None = Field(
        default=None, description="The percentage off, above 0 and below 100, e.g. `\"15\"`."
    )
    amount: Money | None = Field(
        default=None,
        description='The money off each unit, e.g. `{amount = "20000", currency = "VND"}`.',
    )
    skus: tuple[str, ...] = Field(default=(), description="The SKUs the promotion covers.")
    tags: tuple[str, ...] = Field(
        default=(), description="Covers every variant of the products carrying one of these tags."
    )
    starts_at: datetime = Field(
        description="When it starts (included); without a zone, in `[engine] timezone`."
    )
    ends_at: datetime = Field(description="When it ends (excluded), after `starts_at`.")
    opt_out: tuple[str, ...] = Field(
        default=(), description="Channel accounts that keep their base price."
    )

    @field_validator("value", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("write the percentage as a string or an integer, e.g. \"15\"")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.skus and not self.tags:
            raise ValueError("a promotion needs skus or tags to say what it covers")
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at must carry a time zone")
        if self.ends_at <= self.starts_at:
            raise ValueError(f"ends_at {self.ends_at} is not after starts_at {self.starts_at}")
        if self.kind is PromotionKind.PERCENTAGE:
            if self.value is None or not Decimal(0) < self.value < Decimal(100):
                raise ValueError("a percentage promotion needs value between 0 and 100 (15 = 15 %)")
            if self.amount is not None:
                raise ValueError("a percentage promotion takes value, not amount")
        else:
            if self.amount is None or self.amount.amount <= 0:
                raise ValueError("a fixed promotion needs a positive amount, e.g. 20000 VND")
            if self.value is not None:
                raise ValueError("a fixed promotion takes amount, not value")
        return self

    def is_running(self, at: datetime) -> bool:
        """True while the promotion runs at ``at``."""
        return self.starts_at <= at < self.ends_at

    def covers(self, sku: str, tags: tuple[str, ...] | list[str] = ()) -> bool:
        """True when the promotion applies to ``sku`` (of a product with ``tags``)."""
        return sku in self.skus or any(tag in self.tags for tag in tags)

    def applies_to(self, account: str) -> bool:
        """False for an account that opted out."""
        return account not in self.opt_out

    def price(self, base: Money) -> Money:
        """The promoted price of ``base``: never below zero, rounded to the currency."""
        if self.kind is PromotionKind.PERCENTAGE:
            assert self.value is not None
            cut = base.amount * self.value / Decimal(100)
            return Money.of(base.amount - cut, base.currency, rounding=ROUND_HALF_UP)
        assert self.amount is not None
        if self.amount.currency != base.currency:
            raise ValueError(
                f"promotion {self.id} takes {self.amount} off but the price is in "
                f"{base.currency}"
            )
        return max(base - self.amount, Money.zero(base.currency))


class PromotionItem(CanonicalModel):
    """One SKU of a promotion as one channel account shows it.

    ``base`` is the account's own price (its pricing rule over the master price), ``promoted``
    the price while the promotion runs. ``external_id`` is what the channel answered when it
    applied the item (a discount id, a price book id...): the engine keeps it and hands it back
    when it ends the item.
    """

    sku: str = Field(min_length=1)
    base: Money
    promoted: Money
    external_id: str | None = None

    @model_validator(mode="after")
    def _same_currency(self) -> Self:
        if self.base.currency != self.promoted.currency:
            raise ValueError(f"{self.sku}: base and promoted price differ in currency")
        return self


class PromotionWrite(CanonicalModel):
    """What a channel is asked to show (or stop showing) for one promotion.

    ``starts_at``/``ends_at`` are aware times (UTC or the shop's zone: a channel converts them
    to its platform's own time format). ``items`` are the SKUs this account lists.
    """

    id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    items: tuple[PromotionItem, ...]
