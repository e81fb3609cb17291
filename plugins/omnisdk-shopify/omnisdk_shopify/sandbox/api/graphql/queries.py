"""The ``QueryRoot`` resolvers: lookups by global id, and the searchable, sortable lists.

Mutations live with their area: ``inventory``, ``variants``, ``orders``, ``webhooks`` and
:mod:`omnisdk_shopify.sandbox.api.bulk`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from omnisdk_shopify.sandbox.api.graphql.context import BulkWindow, Resolver, context_of
from omnisdk_shopify.sandbox.api.graphql.paging import SortKey, connection
from omnisdk_shopify.sandbox.api.graphql.search import Accessor, parse_search
from omnisdk_shopify.sandbox.api.graphql.types import topic_enum
from omnisdk_shopify.sandbox.state.records import gid, gid_kind, parse_gid
from omnisdk_shopify.sandbox.state.shop import ShopState

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["QUERY_RESOLVERS", "find_node"]


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
    context = context_of(info)
    window = context.bulk_window if info.path.prev is None else None
    sort_key = _sorter(args.get("sortKey"), sorts or {})
    if window is not None and window.items is not None:
        return _window(window, sort_key, args)
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
    matched.sort(key=lambda obj: [v if v is not None else "" for v in sort_key(obj)])
    if args.get("reverse"):
        matched.reverse()
    if window is not None:
        window.items = matched
        return _window(window, sort_key, args)
    return connection(matched, sort_key=sort_key, args=args, unbounded=context.unbounded)


def _window(
    window: BulkWindow, sort_key: Callable[[Any], SortKey], args: dict[str, Any]
) -> dict[str, Any]:
    items = window.items or []
    end = window.start + window.size
    window.done = end >= len(items)
    return connection(items[window.start : end], sort_key=sort_key, args=args, unbounded=True)


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
    state = context_of(info).state
    context_of(info).notes.append(("products.read", None))
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
    state = context_of(info).state
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
    state = context_of(info).state
    fields: dict[str, Accessor] = {**_common(), "sku": lambda i: i.sku}
    return _list(info, list(state.inventory_items.values()), fields, "sku", args)


def _locations(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = context_of(info).state
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
    state = context_of(info).state
    context_of(info).notes.append(("orders.read", None))
    return _list(
        info,
        list(state.orders.values()),
        _order_fields(),
        "name",
        args,
        {"ORDER_NUMBER": lambda o: o.number, "TOTAL_PRICE": lambda o: o.total},
    )


def _customers(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    state = context_of(info).state
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
    state = context_of(info).state
    items = list(state.webhook_subscriptions.values())
    if args.get("topics"):
        items = [w for w in items if topic_enum(w.topic) in args["topics"]]
    if args.get("callbackUrl"):
        items = [w for w in items if w.address == args["callbackUrl"]]
    return connection(
        items, sort_key=lambda w: (w.id,), args=args, unbounded=context_of(info).unbounded
    )


def _lookup(kind: str) -> Resolver:
    def resolve(_: Any, info: Info, id: str) -> Any:
        if gid_kind(id) != kind:
            raise GraphQLError(f"Invalid global id '{id}'")
        return find_node(context_of(info).state, id)

    return resolve


QUERY_RESOLVERS: dict[str, Resolver] = {
    "shop": lambda _, info: context_of(info).state.shop,
    "currentAppInstallation": lambda _, info: {
        "id": gid("AppInstallation", 1),
        "accessScopes": [{"handle": s, "description": s} for s in context_of(info).scopes],
    },
    "node": lambda _, info, id: find_node(context_of(info).state, id, context_of(info).bulk),
    "nodes": lambda _, info, ids: [
        find_node(context_of(info).state, i, context_of(info).bulk) for i in ids
    ],
    "product": _lookup("Product"),
    "productVariant": _lookup("ProductVariant"),
    "inventoryItem": _lookup("InventoryItem"),
    "order": _lookup("Order"),
    "customer": _lookup("Customer"),
    "location": lambda _, info, id=None: (
        find_node(context_of(info).state, id) if id else context_of(info).state.primary_location
    ),
    "products": _products,
    "productVariants": _product_variants,
    "inventoryItems": _inventory_items,
    "locations": _locations,
    "orders": _orders,
    "customers": _customers,
    "webhookSubscriptions": _webhook_subscriptions,
    "currentBulkOperation": lambda _, info, type="QUERY": context_of(info).bulk.current(),
    "productsCount": lambda _, info, query=None, limit=None: _count(
        list(context_of(info).state.products.values()),
        _product_fields(context_of(info).state),
        "title",
        query,
        limit,
    ),
    "ordersCount": lambda _, info, query=None, limit=None: _count(
        list(context_of(info).state.orders.values()), _order_fields(), "name", query, limit
    ),
}
