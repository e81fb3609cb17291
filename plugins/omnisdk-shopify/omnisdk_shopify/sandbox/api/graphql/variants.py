"""Variant mutations: ``productVariantsBulkUpdate`` (prices, compare-at prices, barcodes).

Every variant must belong to the product; without ``allowPartialUpdates`` one bad entry
refuses the whole call. A change queues ``products/update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnisdk_shopify.sandbox.api.graphql.context import Resolver, context_of, user_error
from omnisdk_shopify.sandbox.api.graphql.queries import find_node
from omnisdk_shopify.sandbox.api.rest_views import product_json
from omnisdk_shopify.sandbox.state.records import Product, Variant, gid_kind
from omnisdk_shopify.sandbox.state.shop import ShopState

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["VARIANT_MUTATION_RESOLVERS"]


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
        variant, problems = _check_entry(state, product, entry, ["variants", str(index)])
        errors += problems
        if variant is not None:
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


def _check_entry(
    state: ShopState, product: Product, entry: dict[str, Any], where: list[str]
) -> tuple[Variant | None, list[dict[str, Any]]]:
    """The variant one ``variants`` entry updates (None if it names none of the product's)
    and the user errors it earns (a negative price is reported, yet updated when partial
    updates are allowed, as Shopify does)."""
    if not entry.get("id"):
        return None, [
            user_error(
                "PRODUCT_VARIANT_ID_MISSING",
                [*where, "id"],
                "Product variant is missing ID attribute",
            )
        ]
    variant = find_node(state, entry["id"]) if gid_kind(entry["id"]) == "ProductVariant" else None
    if variant is None or variant.product_id != product.id:
        return None, [
            user_error(
                "PRODUCT_VARIANT_DOES_NOT_EXIST", [*where, "id"], "Product variant does not exist"
            )
        ]
    errors = [
        user_error(
            "INVALID_INPUT",
            [*where, money_field],
            f"{money_field} must be greater than or equal to 0",
        )
        for money_field in ("price", "compareAtPrice")
        if entry.get(money_field) is not None and entry[money_field] < 0
    ]
    return variant, errors


VARIANT_MUTATION_RESOLVERS: dict[str, Resolver] = {
    "productVariantsBulkUpdate": _variants_bulk_update,
}
