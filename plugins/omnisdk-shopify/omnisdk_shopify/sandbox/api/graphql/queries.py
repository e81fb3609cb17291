"""Root resolvers: the ``QueryRoot`` lists and lookups, and the ``Mutation`` fields.

Mutations follow Shopify's rules: business failures come back as ``userErrors`` (and change
nothing), ``inventorySetQuantities`` compares before it sets and honours ``@idempotent``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from graphql.execution.values import get_directive_values

from omnisdk_shopify.sandbox.api.graphql.context import GraphQLContext
from omnisdk_shopify.sandbox.api.graphql.paging import SortKey, connection
from omnisdk_shopify.sandbox.api.graphql.search import Accessor, parse_search
from omnisdk_shopify.sandbox.api.graphql.types import REST_TOPICS, topic_enum
from omnisdk_shopify.sandbox.api.rest_views import inventory_level_json, product_json
from omnisdk_shopify.sandbox.state.records import (
    QUANTITY_NAMES,
    InventoryLevel,
    ShopStateError,
    WebhookSubscription,
    gid,
    gid_kind,
    parse_gid,
)
from omnisdk_shopify.sandbox.state.shop import ShopState

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["MAX_QUANTITIES_PER_CALL", "MUTATION_RESOLVERS", "QUERY_RESOLVERS", "find_node"]

MAX_QUANTITIES_PER_CALL = 250
"""Most quantities one ``inventorySetQuantities`` call accepts."""

Resolver = Callable[..., Any]


def _ctx(info: Info) -> GraphQLContext:
    context: GraphQLContext = info.context
    return context


def find_node(state: ShopState, node_id: str, bulk: Any = None) -> Any:
    """The state object a global id names, or None."""
    kind = gid_kind(node_id)
    if kind is None:
        raise GraphQLError(f"Invalid global id '{node_id}'")
    number = parse_gid(node_id)
    if kind == "InventoryLevel":
        item_id = node_id.partition("inventory_item_id=")[2]
        item = state.inventory_items.get(int(item_id)) if item_id.isdigit() else None
        return item.levels.get(number) if item else None
    if kind == "BulkOperation":
        return bulk.get(number) if bulk is not None else None
    if kind == "Shop":
        return state.shop if number == state.shop.id else None
    if kind == "FulfillmentOrder":
        return state.fulfillment_order(number)
    if kind == "Fulfillment":
        return state.fulfillment(number)
    tables: dict[str, dict[int, Any]] = {
        "Product": state.products,
        "ProductVariant": state.variants,
        "InventoryItem": state.inventory_items,
        "Location": state.locations,
        "Order": state.orders,
        "Customer": state.customers,
        "WebhookSubscription": state.webhook_subscriptions,
    }
    table = tables.get(kind)
    return table.get(number) if table is not None else None


# -- lists ---------------------------------------------------------------------------------

_TIME_SORTS = {
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "PROCESSED_AT": "processed_at",
    "PUBLISHED_AT": "published_at",
}


def _sorter(
    sort_key: str | None, extra: dict[str, Callable[[Any], Any]]
) -> Callable[[Any], SortKey]:
    if sort_key in extra:
        read = extra[sort_key]
        return lambda obj: (read(obj), obj.id)
    if sort_key in _TIME_SORTS:
        attribute = _TIME_SORTS[sort_key]
        return lambda obj: (getattr(obj, attribute, None) or obj.created_at, obj.id)
    return lambda obj: (obj.id,)


def _list(
    info: Info,
    items: list[Any],
    fields: dict[str, Accessor],
    default_field: str,
    args: dict[str, Any],
    sorts: dict[str, Callable[[Any], Any]] | None = None,
) -> dict[str, Any]:
    context = _ctx(info)
    search = parse_search(args.get("query"))
    for unknown in search.unknown_fields(fields):
        context.search_warnings.append(
            {
                "field": unknown,
                "message": "Invalid search field for this query.",
                "path": [info.field_name],
            }
        )
    matched = [item for item in items if search.matches(item, fields, default_field)]
    sort_key = _sorter(args.get("sortKey"), sorts or {})
    matched.sort(key=lambda obj: [v if v is not None else "" for v in sort_key(obj)])
    if args.get("reverse"):
        matched.reverse()
    return connection(matched, sort_key=sort_key, args=args, unbounded=context.unbounded)


def _common() -> dict[str, Accessor]:
    return {
        "id": lambda o: o.id,
        "created_at": lambda o: o.created_at,
        "updated_at": lambda o: o.updated_at,
    }


def _product_fields(state: ShopState) -> dict[str, Accessor]:
    return {
        **_common(),
        "title": lambda p: p.title,
        "handle": lambda p: p.handle,
        "status": lambda p: p.status,
        "vendor": lambda p: p.vendor,
        "product_type": lambda p: p.product_type,
        "tag": lambda p: p.tags,
        "sku": lambda p: [state.variants[v].sku for v in p.variant_ids],
        "published_at": lambda p: p.published_at,
    }


def _products(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = _ctx(info).state
    _ctx(info).notes.append(("products.read", None))
    return _list(
        info,
        list(state.products.values()),
        _product_fields(state),
        "title",
        args,
        {
            "TITLE": lambda p: p.title,
            "VENDOR": lambda p: p.vendor,
            "PRODUCT_TYPE": lambda p: p.product_type,
        },
    )


def _count(
    items: list[Any],
    fields: dict[str, Accessor],
    default_field: str,
    query: str | None,
    limit: int | None,
) -> dict[str, Any]:
    search = parse_search(query)
    count = sum(1 for item in items if search.matches(item, fields, default_field))
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def _product_variants(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = _ctx(info).state
    fields: dict[str, Accessor] = {
        **_common(),
        "sku": lambda v: v.sku,
        "barcode": lambda v: v.barcode,
        "title": lambda v: v.title,
        "product_id": lambda v: v.product_id,
        "inventory_item_id": lambda v: v.inventory_item_id,
    }
    return _list(
        info,
        list(state.variants.values()),
        fields,
        "title",
        args,
        {"SKU": lambda v: v.sku, "TITLE": lambda v: v.title, "POSITION": lambda v: v.position},
    )


def _inventory_items(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = _ctx(info).state
    fields: dict[str, Accessor] = {**_common(), "sku": lambda i: i.sku}
    return _list(info, list(state.inventory_items.values()), fields, "sku", args)


def _locations(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = _ctx(info).state
    items = [loc for loc in state.locations.values() if loc.active or args.get("includeInactive")]
    fields: dict[str, Accessor] = {
        **_common(),
        "name": lambda loc: loc.name,
        "active": lambda loc: loc.active,
    }
    return _list(info, items, fields, "name", args, {"NAME": lambda loc: loc.name})


def _order_fields() -> dict[str, Accessor]:
    return {
        **_common(),
        "processed_at": lambda o: o.processed_at,
        "name": lambda o: o.name,
        "financial_status": lambda o: o.financial_status,
        "fulfillment_status": lambda o: o.fulfillment_status or "unfulfilled",
        "status": lambda o: "cancelled" if o.cancelled_at else "closed" if o.closed_at else "open",
        "email": lambda o: o.email,
        "sku": lambda o: [li.sku for li in o.line_items],
        "customer_id": lambda o: o.customer_id,
    }


def _orders(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = _ctx(info).state
    _ctx(info).notes.append(("orders.read", None))
    return _list(
        info,
        list(state.orders.values()),
        _order_fields(),
        "name",
        args,
        {"ORDER_NUMBER": lambda o: o.number, "TOTAL_PRICE": lambda o: o.total},
    )


def _customers(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = _ctx(info).state
    fields: dict[str, Accessor] = {
        **_common(),
        "email": lambda c: c.email,
        "phone": lambda c: c.phone,
        "first_name": lambda c: c.first_name,
        "last_name": lambda c: c.last_name,
        "state": lambda c: c.state,
    }
    return _list(
        info,
        list(state.customers.values()),
        fields,
        "email",
        args,
        {"NAME": lambda c: f"{c.last_name or ''} {c.first_name or ''}"},
    )


def _webhook_subscriptions(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = _ctx(info).state
    items = list(state.webhook_subscriptions.values())
    if args.get("topics"):
        items = [w for w in items if topic_enum(w.topic) in args["topics"]]
    if args.get("callbackUrl"):
        items = [w for w in items if w.address == args["callbackUrl"]]
    return connection(items, sort_key=lambda w: (w.id,), args=args, unbounded=_ctx(info).unbounded)


def _lookup(kind: str) -> Resolver:
    def resolve(_: Any, info: Info, id: str) -> Any:
        if gid_kind(id) != kind:
            raise GraphQLError(f"Invalid global id '{id}'")
        return find_node(_ctx(info).state, id)

    return resolve


QUERY_RESOLVERS: dict[str, Resolver] = {
    "shop": lambda _, info: _ctx(info).state.shop,
    "currentAppInstallation": lambda _, info: {
        "id": gid("AppInstallation", 1),
        "accessScopes": [{"handle": s, "description": s} for s in _ctx(info).scopes],
    },
    "node": lambda _, info, id: find_node(_ctx(info).state, id, _ctx(info).bulk),
    "nodes": lambda _, info, ids: [find_node(_ctx(info).state, i, _ctx(info).bulk) for i in ids],
    "product": _lookup("Product"),
    "productVariant": _lookup("ProductVariant"),
    "inventoryItem": _lookup("InventoryItem"),
    "order": _lookup("Order"),
    "customer": _lookup("Customer"),
    "location": lambda _, info, id=None: (
        find_node(_ctx(info).state, id) if id else _ctx(info).state.primary_location
    ),
    "products": _products,
    "productVariants": _product_variants,
    "inventoryItems": _inventory_items,
    "locations": _locations,
    "orders": _orders,
    "customers": _customers,
    "webhookSubscriptions": _webhook_subscriptions,
    "currentBulkOperation": lambda _, info, type="QUERY": _ctx(info).bulk.current(),
    "productsCount": lambda _, info, query=None, limit=None: _count(
        list(_ctx(info).state.products.values()),
        _product_fields(_ctx(info).state),
        "title",
        query,
        limit,
    ),
    "ordersCount": lambda _, info, query=None, limit=None: _count(
        list(_ctx(info).state.orders.values()), _order_fields(), "name", query, limit
    ),
}


# -- inventory mutations -------------------------------------------------------------------


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
    context = _ctx(info)
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
        where = ["input", "quantities", str(index)]
        try:
            item_id = parse_gid(entry["inventoryItemId"], "InventoryItem")
            location_id = parse_gid(entry["locationId"], "Location")
        except ValueError as exc:
            errors.append(_error("INVALID_INVENTORY_ITEM", [*where, "inventoryItemId"], str(exc)))
            continue
        if item_id not in state.inventory_items:
            errors.append(
                _error(
                    "INVALID_INVENTORY_ITEM",
                    [*where, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                )
            )
            continue
        if location_id not in state.locations:
            errors.append(
                _error(
                    "INVALID_LOCATION",
                    [*where, "locationId"],
                    "The specified location could not be found.",
                )
            )
            continue
        if (item_id, location_id) in seen:
            errors.append(
                _error(
                    "INVALID_QUANTITY_DUPLICATE_INVENTORY_ITEM",
                    where,
                    "The inventory item and location pair appears twice.",
                )
            )
            continue
        seen.add((item_id, location_id))
        item = state.inventory_items[item_id]
        if not item.tracked:
            errors.append(
                _error(
                    "NON_MUTABLE_INVENTORY_ITEM",
                    [*where, "inventoryItemId"],
                    "Inventory item does not have inventory tracking enabled.",
                )
            )
            continue
        level = item.levels.get(location_id)
        if level is None:
            errors.append(
                _error(
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                    [*where, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                )
            )
            continue
        quantity = entry["quantity"]
        if quantity < 0 and name == "on_hand":
            errors.append(
                _error(
                    "INVALID_QUANTITY_NEGATIVE",
                    [*where, "quantity"],
                    "The quantity can't be negative.",
                )
            )
            continue
        stale = _stale(entry, data, level.quantities[name], where)
        if stale is not None:
            errors.append(stale)
            continue
        targets.append((level, quantity))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = []
    for level, quantity in targets:
        delta = state.set_quantity(level, name, quantity)
        changes.append(
            {
                "name": name,
                "delta": delta,
                "quantityAfterChange": quantity,
                "item": state.inventory_items[level.inventory_item_id],
                "location": state.locations[level.location_id],
            }
        )
        if name != "on_hand":
            changes.append(
                {
                    "name": "on_hand",
                    "delta": delta,
                    "quantityAfterChange": level.quantities["on_hand"],
                    "item": state.inventory_items[level.inventory_item_id],
                    "location": state.locations[level.location_id],
                }
            )
        if delta:
            context.events.append(("inventory_levels/update", inventory_level_json(state, level)))
    return {"inventoryAdjustmentGroup": _group(state, data, changes), "userErrors": []}


def _stale(
    entry: dict[str, Any], data: dict[str, Any], actual: int, where: list[str]
) -> dict[str, Any] | None:
    """The compare-and-swap check: ``changeFromQuantity`` (explicit null skips it), else
    the older ``compareQuantity`` unless ``ignoreCompareQuantity``."""
    if "changeFromQuantity" in entry:
        expected = entry["changeFromQuantity"]
        if expected is not None and expected != actual:
            return _error(
                "CHANGE_FROM_QUANTITY_STALE",
                [*where, "changeFromQuantity"],
                f"The changeFromQuantity ({expected}) is stale: the current quantity is {actual}.",
            )
        return None
    if data.get("ignoreCompareQuantity"):
        return None
    if entry.get("compareQuantity") is None:
        return _error(
            "COMPARE_QUANTITY_REQUIRED",
            [*where, "compareQuantity"],
            "The compareQuantity argument must be given to each quantity or "
            "ignored using ignoreCompareQuantity.",
        )
    if entry["compareQuantity"] != actual:
        return _error(
            "COMPARE_QUANTITY_STALE",
            [*where, "compareQuantity"],
            "The compareQuantity value does not match the current quantity.",
        )
    return None


def _adjust_quantities(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    context = _ctx(info)
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
                _error(
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
            errors.append(_error("ITEM_NOT_STOCKED_AT_LOCATION", where, str(exc)))
            continue
        expected = change.get("changeFromQuantity")
        if expected is not None and expected != level.quantities[name]:
            errors.append(
                _error(
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
        changes.append(
            {
                "name": name,
                "delta": delta,
                "quantityAfterChange": level.quantities[name],
                "item": state.inventory_items[level.inventory_item_id],
                "location": state.locations[level.location_id],
            }
        )
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


def _error(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def _user_errors(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {"inventoryAdjustmentGroup": None, "userErrors": [_error(code, field, message)]}


# -- catalogue mutations -------------------------------------------------------------------


def _variants_bulk_update(
    _: Any,
    info: Info,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool = False,
) -> dict[str, Any]:
    context = _ctx(info)
    context.notes.append(("price.write", len(variants)))
    state = context.state
    product = find_node(state, productId) if gid_kind(productId) == "Product" else None
    if product is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [
                _error("PRODUCT_DOES_NOT_EXIST", ["productId"], "Product does not exist")
            ],
        }
    errors: list[dict[str, Any]] = []
    updates = []
    for index, entry in enumerate(variants):
        where = ["variants", str(index)]
        if not entry.get("id"):
            errors.append(
                _error(
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
                _error(
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
                    _error(
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


# -- bulk operations and webhooks ----------------------------------------------------------


def _bulk_run(_: Any, info: Info, query: str, groupObjects: bool | None = None) -> dict[str, Any]:
    context = _ctx(info)
    running = context.bulk.current()
    if running is not None and running.status in ("CREATED", "RUNNING"):
        message = (
            f"A bulk query operation for this app and shop is already in progress: "
            f"{gid('BulkOperation', running.id)}."
        )
        return {
            "bulkOperation": None,
            "userErrors": [_error("OPERATION_IN_PROGRESS", ["query"], message)],
        }
    if groupObjects is None:  # the default flipped to false in 2026-01
        groupObjects = context.api_version < "2026-01"
    try:
        operation = context.bulk.start(query, group_objects=groupObjects)
    except ValueError as exc:
        return {"bulkOperation": None, "userErrors": [_error("INVALID", ["query"], str(exc))]}
    return {"bulkOperation": operation, "userErrors": []}


def _bulk_cancel(_: Any, info: Info, id: str) -> dict[str, Any]:
    operation = _ctx(info).bulk.get(parse_gid(id, "BulkOperation"))
    if operation is None:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
        }
    _ctx(info).bulk.cancel(operation)
    return {"bulkOperation": operation, "userErrors": []}


def _webhook_create(
    _: Any, info: Info, topic: str, webhookSubscription: dict[str, Any]
) -> dict[str, Any]:
    context = _ctx(info)
    address = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not address:
        return {
            "webhookSubscription": None,
            "userErrors": [
                {
                    "field": ["webhookSubscription", "callbackUrl"],
                    "message": "Address can't be blank",
                }
            ],
        }
    rest_topic = REST_TOPICS[topic]
    for existing in context.state.webhook_subscriptions.values():
        if existing.topic == rest_topic and existing.address == address:
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
    now = context.state.now()
    subscription = WebhookSubscription(
        id=context.state.next_id(),
        topic=rest_topic,
        address=str(address),
        format=webhookSubscription.get("format", "JSON").lower(),
        created_at=now,
        updated_at=now,
        api_version=context.api_version,
    )
    context.state.webhook_subscriptions[subscription.id] = subscription
    return {"webhookSubscription": subscription, "userErrors": []}


def _webhook_delete(_: Any, info: Info, id: str) -> dict[str, Any]:
    state = _ctx(info).state
    number = parse_gid(id, "WebhookSubscription") if gid_kind(id) else -1
    if state.webhook_subscriptions.pop(number, None) is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


MUTATION_RESOLVERS: dict[str, Resolver] = {
    "inventorySetQuantities": _set_quantities,
    "inventoryAdjustQuantities": _adjust_quantities,
    "productVariantsBulkUpdate": _variants_bulk_update,
    "bulkOperationRunQuery": _bulk_run,
    "bulkOperationCancel": _bulk_cancel,
    "webhookSubscriptionCreate": _webhook_create,
    "webhookSubscriptionDelete": _webhook_delete,
}
