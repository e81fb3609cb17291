"""Price rules: how a channel's price is derived from the master catalog's price.

Rules are data in the config (``[channels.pricing]``), so a promotion or a marketplace
mark-up is the same everywhere::

    [channels.pricing]
    multiplier = "1.1"      # marketplace price = base * 1.1
    round_to = 1000         # ... rounded to 1,000 VND
    rounding = "up"
"""

from __future__ import annotations

import enum
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omnisdk.models import Money

__all__ = ["OWNABLE_FIELDS", "PricingRule", "Rounding"]

OWNABLE_FIELDS = frozenset({"price", "compare_at_price", "stock", "title", "description",
                            "images", "status"})
"""Listing fields a sync may own; fields not owned by the master are never overwritten."""


class Rounding(enum.StrEnum):
    """How a derived price is rounded to ``round_to``."""

    UP = "up"
    DOWN = "down"
    HALF_UP = "half_up"


_MODES = {Rounding.UP: ROUND_CEILING, Rounding.DOWN: ROUND_FLOOR,
          Rounding.HALF_UP: ROUND_HALF_UP}


class PricingRule(BaseModel):
    """A channel's price rule and the fields the master catalog owns on it.

    ``price = base * multiplier + add``, then rounded to a multiple of ``round_to`` (in the
    currency's units, e.g. 1000 VND) with ``rounding``. ``owns`` lists the fields a sync may
    write on this channel; the others belong to the channel and are never overwritten.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    multiplier: Decimal = Field(default=Decimal(1), gt=0)
    """The master price is multiplied by this (``"1.1"`` adds 10%; write it as a string)."""
    add: Decimal = Decimal(0)
    """Then this amount, in the currency's units, is added (negative to take off)."""
    round_to: Decimal | None = Field(default=None, gt=0)
    """Then the price is rounded to a multiple of this (``1000`` for VND; unset: no rounding)."""
    rounding: Rounding = Rounding.HALF_UP
    """How ``round_to`` rounds."""
    owns: frozenset[str] = frozenset({"price", "compare_at_price", "stock"})
    """The fields a sync may write on this channel; the others belong to the channel and are
    never overwritten."""

    @field_validator("multiplier", "add", "round_to", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f"write {value!r} as a string (\"{value}\") so it stays exact")
        return value

    @field_validator("owns")
    @classmethod
    def _known_fields(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - OWNABLE_FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; expected some of "
                             f"{sorted(OWNABLE_FIELDS)}")
        return value

    @property
    def is_identity(self) -> bool:
        """True when the rule leaves prices as they are."""
        return self.multiplier == 1 and self.add == 0 and self.round_to is None

    def apply(self, base: Money) -> Money:
        """The channel price for master price ``base``."""
        if self.is_identity:
            return base
        value = base.amount * self.multiplier + self.add
        if self.round_to is not None:
            value = (value / self.round_to).quantize(Decimal(1), rounding=_MODES[self.rounding])
            value *= self.round_to
        return Money.of(value, base.currency, rounding=_MODES[self.rounding])
