"""Products and their variants: the master catalog's unit is the variant, keyed by SKU."""

from __future__ import annotations

import enum
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from omnisdk.models.base import CanonicalModel
from omnisdk.models.money import Money
from omnisdk.models.refs import ChannelRef

__all__ = [
    "MAX_SKU_LENGTH",
    "Image",
    "Product",
    "ProductStatus",
    "Sku",
    "Variant",
    "canonical_sku",
    "validate_sku",
]


MAX_SKU_LENGTH = 255
"""The longest SKU, in characters (the store's SKU columns)."""

# Characters a SKU may not hold, by Unicode category: they are either invisible without being
# formatting (controls, line/paragraph separators) or not characters at all.
_REFUSED = {
    "Cc": "a control character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}


def validate_sku(value: str) -> str:
    """Return ``value`` as a canonical SKU, or raise ``ValueError`` saying what is wrong.

    The rule (see docs/concepts.md, "SKUs"): format characters, which are invisible (zero-width
    space, zero-width (non-)joiner, word joiner, byte-order mark, soft hyphen, bidi marks), are
    removed; every other kind of space (no-break, ideographic, ...) becomes an ASCII space; the
    text is put in NFC and stripped. Control characters, line and paragraph separators,
    surrogates, private-use and unassigned code points are refused, as is a SKU that ends up
    empty or longer than :data:`MAX_SKU_LENGTH`. So ``"ÁO\u200b-01"`` typed in a platform's
    admin is the same SKU as ``"ÁO-01"``, never a second one that looks identical.
    """
    if value.isascii() and value.isprintable():
        # Printable ASCII has no format, refused or special-space characters and is NFC.
        return _checked_sku(value.strip(), value)
    kept: list[str] = []
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        if category in _REFUSED:
            raise ValueError(
                f"SKU {value!r} contains {_REFUSED[category]} (U+{ord(char):04X}) at position "
                f"{index}; SKUs must be visible text"
            )
        kept.append(" " if category == "Zs" else char)
    return _checked_sku(unicodedata.normalize("NFC", "".join(kept)).strip(), value)


def _checked_sku(sku: str, value: str) -> str:
    """``sku`` (``value`` cleaned) unless it is empty or too long."""
    if not sku:
        if value.strip():
            raise ValueError(f"SKU {value!r} is made only of invisible characters")
        raise ValueError("SKU is empty: every variant needs a SKU, it joins channels together")
    if len(sku) > MAX_SKU_LENGTH:
        raise ValueError(
            f"SKU {sku[:40]!r}... is {len(sku)} characters long; at most "
            f"{MAX_SKU_LENGTH} are allowed"
        )
    return sku


def canonical_sku(value: object) -> str | None:
    """``value`` as the canonical SKU the engine knows it by (:func:`validate_sku`), or None
    when it is no text or cannot be a SKU.

    For plugins that index a platform's listings by SKU: key the index by this, so the SKU
    the engine asks for (always canonical) finds a listing whose SKU the merchant typed with
    a zero-width space or decomposed accents. Keep the platform's own spelling where a call
    must name the SKU as the platform stores it.
    """
    if not isinstance(value, str):
        return None
    try:
        return validate_sku(value)
    except ValueError:
        return None


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
