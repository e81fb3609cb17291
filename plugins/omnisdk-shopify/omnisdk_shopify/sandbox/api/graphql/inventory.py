"""Inventory mutations: ``inventorySetQuantities`` and ``inventoryAdjustQuantities``.

As on Shopify, business failures come back as ``userErrors`` and change nothing;
``inventorySetQuantities`` compares before it sets (``changeFromQuantity`` or the older
``compareQuantity``) and honours ``@idempotent`` (required from 2026-04).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql.execution.values import get_directive_values

from omnisdk_shopify.sandbox.api.graphql.context import (
    GraphQLContext,
    Resolver,
    context_of,
    user_error,
)
from omnisdk_shopify.sandbox.api.rest_views import inventory_level_json
from omnisdk_shopify.sandbox.state.records import (
    QUANTITY_NAMES,
    InventoryLevel,
    ShopStateError,
    gid,
    parse_gid,
)
from omnisdk_shopify.sandbox.state.shop import ShopState

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["INVENTORY_MUTATION_RESOLVERS", "MAX_QUANTITIES_PER_CALL"]


MAX_QUANTITIES_PER_CALL = 250
"""Most quantities one ``inventorySetQuantities`` call accepts."""


def _idempotency_key(info: Info) -> str | None:
    directive = info.schema.get_directive("idempotent")
    if directive is None:
        return None
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    key = (values or {}).get("key")
    return str(key) if key else None


def _requires_idempotency(version: str) -> bool:
    return version >= "2026-04" and version != "unstable"


def _set_quantities(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    context = context_of(info)
    context.notes.append(("stock.write", len(input["quantities"])))
    key = _idempotency_key(info)
    if key is None and _requires_idempotency(context.api_version):
        return _user_errors(
            "IDEMPOTENCY_KEY_REQUIRED",
            ["input"],
            "The @idempotent directive with a key is required.",
        )
    if key is not None and ("set", key) in context.idempotency:
        cached: dict[str, Any] = context.idempotency[("set", key)]
        return cached
    result = _apply_set(context, input)
    if key is not None:
        context.idempotency[("set", key)] = result
    return result


def _apply_set(context: GraphQLContext, data: dict[str, Any]) -> dict[str, Any]:
    state = context.state
    name = data["name"]
    if name not in ("available", "on_hand"):
        return _user_errors(
            "INVALID_NAME",
            ["input", "name"],
            f"The quantity name must be 'available' or 'on_hand', not {name!r}.",
        )
    quantities = data["quantities"]
    if len(quantities) > MAX_QUANTITIES_PER_CALL:
        return _user_errors(
            "TOO_MANY_QUANTITIES",
            ["input", "quantities"],
            f"The number of quantities can't exceed {MAX_QUANTITIES_PER_CALL}.",
        )
    errors: list[dict[str, Any]] = []
    targets: list[tuple[InventoryLevel, int]] = []
    seen: set[tuple[int, int]] = set()
    for index, entry in enumerate(quantities):
        found = _set_target(state, data, entry, ["input", "quantities", str(index)], seen)
        if isinstance(found, dict):
            errors.append(found)
        else:
            targets.append(found)
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = []
    for level, quantity in targets:
        delta = state.set_quantity(level, name, quantity)
        changes.append(_change(state, level, name, delta, quantity))
        if name != "on_hand":
            changes.append(_change(state, level, "on_hand", delta, level.quantities["on_hand"]))
        if delta:
            context.events.append(("inventory_levels/update", inventory_level_json(state, level)))
    return {"inventoryAdjustmentGroup": _group(state, data, changes), "userErrors": []}


def _set_target(
    state: ShopState,
    data: dict[str, Any],
    entry: dict[str, Any],
    where: list[str],
    seen: set[tuple[int, int]],
) -> tuple[InventoryLevel, int] | dict[str, Any]:
    """The level one ``quantities`` entry sets and to what, or the user error refusing it."""
    try:
        item_id = parse_gid(entry["inventoryItemId"], "InventoryItem")
        location_id = parse_gid(entry["locationId"], "Location")
    except ValueError as exc:
        return user_error("INVALID_INVENTORY_ITEM", [*where, "inventoryItemId"], str(exc))
    if item_id not in state.inventory_items:
        return user_error(
            "INVALID_INVENTORY_ITEM",
            [*where, "inventoryItemId"],
            "The specified inventory item could not be found.",
        )
    if location_id not in state.locations:
        return user_error(
            "INVALID_LOCATION",
            [*where, "locationId"],
            "The specified location could not be found.",
        )
    if (item_id, location_id) in seen:
        return user_error(
            "INVALID_QUANTITY_DUPLICATE_INVENTORY_ITEM",
            where,
            "The inventory item and location pair appears twice.",
        )
    seen.add((item_id, location_id))
    item = state.inventory_items[item_id]
    if not item.tracked:
        return user_error(
            "NON_MUTABLE_INVENTORY_ITEM",
            [*where, "inventoryItemId"],
            "Inventory item does not have inventory tracking enabled.",
        )
    level = item.levels.get(location_id)
    if level is None:
        return user_error(
            "ITEM_NOT_STOCKED_AT_LOCATION",
            [*where, "locationId"],
            "The specified inventory item is not stocked at the location.",
        )
    name, quantity = data["name"], entry["quantity"]
    if quantity < 0 and name == "on_hand":
        return user_error(
            "INVALID_QUANTITY_NEGATIVE", [*where, "quantity"], "The quantity can't be negative."
        )
    stale = _stale(entry, data, level.quantities[name], where)
    return stale if stale is not None else (level, quantity)


def _change(
    state: ShopState, level: InventoryLevel, name: str, delta: int, after: int
) -> dict[str, Any]:
    """One ``InventoryChange`` of an adjustment group."""
    return {
        "name": name,
        "delta": delta,
        "quantityAfterChange": after,
        "item": state.inventory_items[level.inventory_item_id],
        "location": state.locations[level.location_id],
    }


def _stale(
    entry: dict[str, Any], data: dict[str, Any], actual: int, where: list[str]
) -> dict[str, Any] | None:
    """The compare-and-swap check: ``changeFromQuantity`` (explicit null skips it), else
    the older ``compareQuantity`` unless ``ignoreCompareQuantity``."""
    if "changeFromQuantity" in entry:
        expected = entry["changeFromQuantity"]
        if expected is not None and expected != actual:
            return user_error(
                "CHANGE_FROM_QUANTITY_STALE",
                [*where, "changeFromQuantity"],
                f"The changeFromQuantity ({expected}) is stale: the current quantity is {actual}.",
            )
        return None
    if data.get("ignoreCompareQuantity"):
        return None
    if entry.get("compareQuantity") is None:
        return user_error(
            "COMPARE_QUANTITY_REQUIRED",
            [*where, "compareQuantity"],
            "The compareQuantity argument must be given to each quantity or "
            "ignored using ignoreCompareQuantity.",
        )
    if entry["compareQuantity"] != actual:
        return user_error(
            "COMPARE_QUANTITY_STALE",
            [*where, "compareQuantity"],
            "The compareQuantity value does not match the current quantity.",
        )
    return None


def _adjust_quantities(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    context = context_of(info)
    context.notes.append(("stock.write", len(input["changes"])))
    state = context.state
    name = input["name"]
    if name not in QUANTITY_NAMES:
        return _user_errors(
            "INVALID_QUANTITY_NAME", ["input", "name"], f"{name!r} is not a valid quantity name."
        )
    errors: list[dict[str, Any]] = []
    targets: list[tuple[InventoryLevel, int]] = []
    for index, change in enumerate(input["changes"]):
        where = ["input", "changes", str(index)]
        if name != "available" and not change.get("ledgerDocumentUri"):
            errors.append(
                user_error(
                    "LEDGER_DOCUMENT_URI_REQUIRED",
                    [*where, "ledgerDocumentUri"],
                    "A ledger document URI is required for this quantity name.",
                )
            )
            continue
        try:
            level = state.level(
                parse_gid(change["inventoryItemId"], "InventoryItem"),
                parse_gid(change["locationId"], "Location"),
            )
        except (ValueError, ShopStateError) as exc:
            errors.append(user_error("ITEM_NOT_STOCKED_AT_LOCATION", where, str(exc)))
            continue
        expected = change.get("changeFromQuantity")
        if expected is not None and expected != level.quantities[name]:
            errors.append(
                user_error(
                    "CHANGE_FROM_QUANTITY_STALE",
                    [*where, "changeFromQuantity"],
                    f"The changeFromQuantity ({expected}) is stale: the current "
                    f"quantity is {level.quantities[name]}.",
                )
            )
            continue
        targets.append((level, change["delta"]))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = []
    for level, delta in targets:
        state.change_quantity(level, name, delta)
        changes.append(_change(state, level, name, delta, level.quantities[name]))
        context.events.append(("inventory_levels/update", inventory_level_json(state, level)))
    return {"inventoryAdjustmentGroup": _group(state, input, changes), "userErrors": []}


def _group(state: ShopState, data: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": gid("InventoryAdjustmentGroup", state.next_id()),
        "createdAt": state.now(),
        "reason": data["reason"],
        "referenceDocumentUri": data.get("referenceDocumentUri"),
        "changes": changes,
    }


def _user_errors(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {"inventoryAdjustmentGroup": None, "userErrors": [user_error(code, field, message)]}


INVENTORY_MUTATION_RESOLVERS: dict[str, Resolver] = {
    "inventorySetQuantities": _set_quantities,
    "inventoryAdjustQuantities": _adjust_quantities,
}
