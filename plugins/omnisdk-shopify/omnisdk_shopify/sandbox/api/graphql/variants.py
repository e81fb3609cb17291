"""Variant mutations: ``productVariantsBulkUpdate`` (prices, compare-at prices, barcodes).

Every variant must belong to the product; without ``allowPartialUpdates`` one bad entry
refuses the whole call. A change queues ``products/update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omnisdk_shopify.sandbox.api.graphql.context import context_of, user_error
from omnisdk_shopify.sandbox.api.graphql.queries import find_node
from omnisdk_shopify.sandbox.api.rest_views import product_json
from omnisdk_shopify.sandbox.state.records import (
    gid_kind,
)

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["VARIANT_MUTATION_RESOLVERS"]

Resolver = Callable[..., Any]


def _variants_bulk_update(
    _: Any,
    info: Info,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool = False,
) -> dict[str, Any]:
    context = context_of(info)
    context.notes.append(("price.write", len(variants)))
    state = context.state
    product = find_node(state, productId) if gid_kind(productId) == "Product" else None
    if product is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [
                user_error("PRODUCT_DOES_NOT_EXIST", ["productId"], "Product does not exist")
            ],
        }
    errors: list[dict[str, Any]] = []
    updates = []
    for index, entry in enumerate(variants):
        where = ["variants", str(index)]
        if not entry.get("id"):
            errors.append(
                user_error(
                    "PRODUCT_VARIANT_ID_MISSING",
                    [*where, "id"],
                    "Product variant is missing ID attribute",
                )
            )
            continue
        variant = (
            find_node(state, entry["id"]) if gid_kind(entry["id"]) == "ProductVariant" else None
        )
        if variant is None or variant.product_id != product.id:
            errors.append(
                user_error(
                    "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    [*where, "id"],
                    "Product variant does not exist",
                )
            )
            continue
        for money_field in ("price", "compareAtPrice"):
            value = entry.get(money_field)
            if value is not None and value < 0:
                errors.append(
                    user_error(
                        "INVALID_INPUT",
                        [*where, money_field],
                        f"{money_field} must be greater than or equal to 0",
                    )
                )
        updates.append((variant, entry))
    if errors and not allowPartialUpdates:
        return {"product": None, "productVariants": None, "userErrors": errors}
    changed = []
    for variant, entry in updates:
        state.update_variant(
            variant,
            price=entry.get("price"),
            compare_at_price=entry.get("compareAtPrice"),
            clear_compare_at="compareAtPrice" in entry and entry["compareAtPrice"] is None,
            barcode=entry.get("barcode"),
        )
        changed.append(variant)
    if changed:
        context.events.append(("products/update", product_json(state, product)))
    return {"product": product, "productVariants": changed, "userErrors": errors}


VARIANT_MUTATION_RESOLVERS: dict[str, Resolver] = {
    "productVariantsBulkUpdate": _variants_bulk_update,
}
