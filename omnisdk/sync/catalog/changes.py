"""The fields of a listing the master catalog may change, and the writes that carry them.

Pure functions shared by the diff (what would change) and apply (what to send now): a master
variant priced for an account, a listing to create or to update, the content and price fields
that differ, and the price or stock write for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omnisdk.models import (
    Money,
    PriceUpdate,
    Product,
    ProductStatus,
    StockPushMode,
    StockUpdate,
    Variant,
)
from omnisdk.pricing import PricingRule
from omnisdk.sync.catalog.models import FieldChange, FieldValue
from omnisdk.sync.catalog.view import ListedStock

__all__ = [
    "CONTENT_FIELDS",
    "channel_variant",
    "content_changes",
    "content_value",
    "image_urls",
    "new_listing",
    "price_changes",
    "price_update",
    "stock_update",
    "updated_listing",
]

CONTENT_FIELDS = ("title", "description", "images", "status")
"""Product fields a catalog update may send (when the master owns them on the account)."""


def channel_variant(variant: Variant, rule: PricingRule) -> Variant:
    """``variant`` as it should be listed: prices through ``rule``, no channel reference."""
    compare_at = variant.compare_at_price
    return variant.model_copy(
        update={
            "price": rule.apply(variant.price),
            "compare_at_price": rule.apply(compare_at) if compare_at is not None else None,
            "channel_ref": None,
        }
    )


def new_listing(product: Product, variants: Sequence[Variant], rule: PricingRule) -> Product:
    """The listing to create for master ``product`` with ``variants`` (priced by ``rule``)."""
    document = product.model_dump(
        exclude={"variants", "channel_ref", "raw", "created_at", "updated_at"}
    )
    return Product.model_validate(
        {**document, "variants": [channel_variant(v, rule) for v in variants]}
    )


def updated_listing(
    listed: Product,
    fields: Sequence[FieldChange],
    added: Sequence[Variant],
) -> Product:
    """``listed`` (the channel's product, as it is now) with the planned ``fields`` set and
    the ``added`` variants (already channel-priced) appended.

    Everything else stays as the channel has it, so a field the channel owns is sent back
    unchanged, never overwritten.
    """
    overrides: dict[str, Any] = {}
    for change in fields:
        if change.field in ("title", "description"):
            overrides[change.field] = change.after
        elif change.field == "status":
            overrides["status"] = ProductStatus(str(change.after))
        elif change.field == "images":
            urls = change.after if isinstance(change.after, list) else []
            overrides["images"] = [{"url": url, "position": i} for i, url in enumerate(urls)]
    present = set(listed.skus)
    variants = [*listed.variants, *(v for v in added if v.sku not in present)]
    document = listed.model_dump(exclude={"raw", "variants"})
    return Product.model_validate({**document, **overrides, "variants": variants})


def image_urls(product: Product) -> list[str]:
    """The URLs of ``product``'s images, in order."""
    return [image.url for image in product.images]


def content_value(product: Product, name: str) -> FieldValue:
    """The value of content field ``name`` (one of :data:`CONTENT_FIELDS`) on ``product``,
    as a plan shows it."""
    if name == "title":
        return product.title
    if name == "description":
        return product.description
    if name == "images":
        return image_urls(product)
    if name == "status":
        return product.status.value
    raise ValueError(f"{name!r} is not a content field")


def content_changes(master: Product, listed: Product, owns: frozenset[str]) -> list[FieldChange]:
    """Product fields the master owns whose value differs on the channel's ``listed`` product.

    A field the master leaves empty (no description, no images) is not a change: the master
    has no opinion there, and sending "nothing" would erase the channel's text.
    """
    changes = []
    for name in CONTENT_FIELDS:
        wanted = content_value(master, name)
        if name not in owns or wanted is None or wanted == []:
            continue
        now = content_value(listed, name)
        if wanted != now:
            changes.append(FieldChange(field=name, before=now, after=wanted))
    return changes


def price_changes(master: Variant, listed: Variant, rule: PricingRule) -> list[FieldChange] | str:
    """The price fields the master owns that differ on the channel (empty: none).

    Returns a reason (a string) when the prices cannot be compared: different currencies.
    """
    owns = rule.owns
    if "price" not in owns and "compare_at_price" not in owns:
        return []
    target = rule.apply(master.price)
    if target.currency != listed.price.currency:
        return (
            f"the channel lists it in {listed.price.currency} but the master price is in "
            f"{target.currency}: prices are not converted"
        )
    changes = []
    if "price" in owns and target != listed.price:
        changes.append(FieldChange(field="price", before=listed.price, after=target))
    if "compare_at_price" in owns:
        wanted = master.compare_at_price
        target_cap = rule.apply(wanted) if wanted is not None else None
        if target_cap != listed.compare_at_price:
            changes.append(
                FieldChange(
                    field="compare_at_price", before=listed.compare_at_price, after=target_cap
                )
            )
    return changes


def price_update(sku: str, fields: Sequence[FieldChange], listed: Variant) -> PriceUpdate:
    """The price write for ``fields``; a price the plan does not change is the listed one."""
    price = listed.price
    compare_at = listed.compare_at_price
    for change in fields:
        if change.field == "price" and isinstance(change.after, Money):
            price = change.after
        elif change.field == "compare_at_price":
            compare_at = change.after if isinstance(change.after, Money) else None
    return PriceUpdate(sku=sku, price=price, compare_at_price=compare_at)


def stock_update(
    sku: str, target: int, current: ListedStock | None, mode: StockPushMode
) -> StockUpdate:
    """The stock write that takes the listing from ``current`` to ``target`` in ``mode``.

    Compare-and-swap carries the listed figure as ``expected`` (so a sale the core has not
    seen makes the write fail instead of being overwritten); delta carries the difference.
    """
    expected = current.quantity if current is not None else None
    return StockUpdate(
        sku=sku,
        quantity=target,
        location=current.location if current is not None else None,
        expected=expected if mode is StockPushMode.COMPARE_AND_SWAP else None,
        delta=target - (expected or 0) if mode is StockPushMode.DELTA else None,
    )
