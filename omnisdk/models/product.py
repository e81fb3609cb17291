"""Products and their variants: the master catalog's unit is the variant, keyed by SKU."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from omnisdk.models.base import CanonicalModel
from omnisdk.models.money import Money
from omnisdk.models.refs import ChannelRef

__all__ = ["Image", "Product", "ProductStatus", "Sku", "Variant", "validate_sku"]


def validate_sku(value: str) -> str:
    """Check a SKU: non-empty, no surrounding spaces, no control characters."""
    if not value:
        raise ValueError("SKU is empty: every variant needs a SKU, it joins channels together")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"SKU {value!r} contains control characters")
    return value


Sku = Annotated[str, AfterValidator(validate_sku)]
"""A stock keeping unit: the key that joins one variant across every channel."""


class ProductStatus(enum.StrEnum):
    """Whether a product or variant is for sale."""

    ACTIVE = "active"
    DRAFT = "draft"
    ARCHIVED = "archived"


class Image(CanonicalModel):
    """A product or variant picture."""

    url: str
    alt: str | None = None
    position: int | None = None


class Variant(CanonicalModel):
    """One sellable thing: a size/colour of a product, identified across channels by ``sku``.

    ``options`` maps option names to values (``{"Màu": "Đỏ", "Size": "M"}``). ``weight_grams``
    is an exact Decimal. ``channel_ref`` points at the variant on the channel it came from.
    """

    sku: Sku
    title: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    price: Money
    compare_at_price: Money | None = None
    barcode: str | None = None
    weight_grams: Decimal | None = Field(default=None, ge=0)
    images: list[Image] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    status: ProductStatus = ProductStatus.ACTIVE
    channel_ref: ChannelRef | None = None

    @field_validator("weight_grams", mode="before")
    @classmethod
    def _no_float_weight(cls, value: Any) -> Any:
        if isinstance(value, float):
            return Decimal(str(value))
        return value

    @model_validator(mode="after")
    def _compare_at_same_currency(self) -> Self:
        if self.compare_at_price and self.compare_at_price.currency != self.price.currency:
            raise ValueError(
                f"compare_at_price is in {self.compare_at_price.currency} but price is in "
                f"{self.price.currency}"
            )
        return self


class Product(CanonicalModel):
    """A product as a merchant thinks of it: a title and one or more variants.

    ``raw`` keeps the platform's payload exactly as it arrived (never shown in repr).
    """

    title: str = Field(min_length=1)
    description: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    tags: list[str] = Field(default_factory=list)
    status: ProductStatus = ProductStatus.ACTIVE
    option_names: list[str] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    variants: list[Variant] = Field(min_length=1)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    channel_ref: ChannelRef | None = None
    raw: dict[str, Any] | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _unique_skus(self) -> Self:
        seen: set[str] = set()
        for index, variant in enumerate(self.variants):
            if variant.sku in seen:
                raise ValueError(f"variants[{index}]: SKU {variant.sku!r} appears twice")
            seen.add(variant.sku)
        return self

    @property
    def skus(self) -> list[str]:
        """The SKUs of every variant, in order."""
        return [variant.sku for variant in self.variants]

    def variant(self, sku: str) -> Variant:
        """The variant with ``sku``; ``KeyError`` if there is none."""
        for variant in self.variants:
            if variant.sku == sku:
                return variant
        raise KeyError(sku)
