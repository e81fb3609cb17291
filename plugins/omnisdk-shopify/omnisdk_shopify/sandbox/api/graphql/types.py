"""Field resolvers of the GraphQL object types: how each Admin type reads the shop state.

Fields not listed here use the schema's default resolver (``camelCase`` field -> ``snake_case``
attribute or dict key, with typed defaults for what the state does not model). Every resolver
takes ``(obj, info, **arguments)`` like graphql-core's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from omnisdk_shopify.sandbox.api.graphql.context import Resolver, context_of
from omnisdk_shopify.sandbox.api.graphql.paging import connection
from omnisdk_shopify.sandbox.api.graphql.search import parse_search
from omnisdk_shopify.sandbox.api.rest_views import shipping_lines_json
from omnisdk_shopify.sandbox.state.records import (
    QUANTITY_NAMES,
    Customer,
    Fulfillment,
    FulfillmentOrder,
    InventoryItem,
    InventoryLevel,
    LineItem,
    Location,
    Order,
    Product,
    Variant,
    WebhookSubscription,
    gid,
    parse_gid,
)
from omnisdk_shopify.sandbox.state.shop import ShopState

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = [
    "FIELD_RESOLVERS",
    "REST_TOPICS",
    "WEBHOOK_TOPICS",
    "level_gid",
    "mailing_address",
    "topic_enum",
]


def _state(info: Info) -> ShopState:
    return context_of(info).state


def level_gid(level: InventoryLevel) -> str:
    """Shopify's id of an inventory level: the location's, qualified by the item."""
    return f"{gid('InventoryLevel', level.location_id)}?inventory_item_id={level.inventory_item_id}"


def topic_enum(topic: str) -> str:
    """``orders/create`` -> ``ORDERS_CREATE``."""
    return topic.replace("/", "_").upper()


WEBHOOK_TOPICS = (
    "app/uninstalled",
    "bulk_operations/finish",
    "customers/create",
    "customers/delete",
    "customers/update",
    "fulfillments/create",
    "fulfillments/update",
    "inventory_items/create",
    "inventory_items/delete",
    "inventory_items/update",
    "inventory_levels/connect",
    "inventory_levels/disconnect",
    "inventory_levels/update",
    "orders/cancelled",
    "orders/create",
    "orders/delete",
    "orders/fulfilled",
    "orders/paid",
    "orders/partially_fulfilled",
    "orders/updated",
    "products/create",
    "products/delete",
    "products/update",
)
"""REST spellings of the ``WebhookSubscriptionTopic`` values the schema declares."""

REST_TOPICS = {topic_enum(topic): topic for topic in WEBHOOK_TOPICS}
"""``ORDERS_CREATE`` -> ``orders/create``."""


def mailing_address(address: dict[str, Any] | None, owner_id: int) -> dict[str, Any] | None:
    """A REST-style address dict as a GraphQL ``MailingAddress``."""
    if not address:
        return None
    first, last = address.get("first_name"), address.get("last_name")
    name = address.get("name") or " ".join(p for p in (first, last) if p) or None
    country_code = address.get("country_code") or "VN"
    return {
        "id": f"{gid('MailingAddress', owner_id)}?model_name=CustomerAddress",
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "company": address.get("company"),
        "country": address.get("country") or ("Vietnam" if country_code == "VN" else None),
        "countryCodeV2": country_code,
        "firstName": first,
        "lastName": last,
        "name": name,
        "phone": address.get("phone"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "zip": address.get("zip"),
        "formattedArea": ", ".join(p for p in (address.get("city"), address.get("province")) if p)
        or None,
        "coordinatesValidated": False,
    }


def _page(
    info: Info, items: list[Any], sort_key: Callable[[Any], Any], args: dict[str, Any]
) -> dict[str, Any]:
    if args.get("reverse"):
        items = list(reversed(items))
    return connection(items, sort_key=sort_key, args=args, unbounded=context_of(info).unbounded)


# -- catalog -----------------------------------------------------------------------------


def _product_variants(product: Product, info: Info, **args: Any) -> dict[str, Any]:
    variants = _state(info).product_variants(product)
    return _page(info, variants, lambda v: (v.position, v.id), args)


def _product_options(product: Product, info: Info, **_: Any) -> list[dict[str, Any]]:
    variants = _state(info).product_variants(product)
    options = []
    for index, name in enumerate(product.option_names):
        values: list[str] = []
        for variant in variants:
            value = variant.options[index] if index < len(variant.options) else None
            if value is not None and value not in values:
                values.append(value)
        options.append(
            {
                "id": gid("ProductOption", product.id * 10 + index + 1),
                "name": name,
                "position": index + 1,
                "values": values,
            }
        )
    return options


def _price_range(product: Product, info: Info) -> dict[str, Any]:
    prices = [v.price for v in _state(info).product_variants(product)] or [Decimal(0)]
    return {
        "minVariantPrice": context_of(info).money(min(prices)),
        "maxVariantPrice": context_of(info).money(max(prices)),
    }


def _compare_at_range(product: Product, info: Info) -> dict[str, Any] | None:
    prices = [
        v.compare_at_price
        for v in _state(info).product_variants(product)
        if v.compare_at_price is not None
    ]
    if not prices:
        return None
    return {
        "minVariantCompareAtPrice": context_of(info).money(min(prices)),
        "maxVariantCompareAtPrice": context_of(info).money(max(prices)),
    }


def _total_inventory(product: Product, info: Info) -> int:
    state = _state(info)
    return sum(state.variant_available(v) for v in state.product_variants(product))


_PRODUCT: dict[str, Resolver] = {
    "id": lambda p, info: gid("Product", p.id),
    "legacyResourceId": lambda p, info: p.id,
    "status": lambda p, info: p.status.upper(),
    "description": lambda p, info, truncateAt=None: _plain_text(p.body_html, truncateAt),
    "descriptionHtml": lambda p, info: p.body_html,
    "hasOnlyDefaultVariant": lambda p, info: (
        p.option_names == ["Title"] and len(p.variant_ids) == 1
    ),
    "hasOutOfStockVariants": lambda p, info: any(
        _state(info).variant_available(v) <= 0 for v in _state(info).product_variants(p)
    ),
    "totalInventory": _total_inventory,
    "tracksInventory": lambda p, info: True,
    "options": _product_options,
    "priceRangeV2": _price_range,
    "compareAtPriceRange": _compare_at_range,
    "variants": _product_variants,
    "variantsCount": lambda p, info: {"count": len(p.variant_ids), "precision": "EXACT"},
    "media": lambda p, info, **args: _page(info, [], lambda m: (0,), args),
}


def _plain_text(body_html: str, limit: int | None) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", body_html))
    text = " ".join(text.split())
    return text[:limit] if limit else text


def _variant_available(variant: Variant, info: Info) -> int:
    return _state(info).variant_available(variant)


_VARIANT: dict[str, Resolver] = {
    "id": lambda v, info: gid("ProductVariant", v.id),
    "legacyResourceId": lambda v, info: v.id,
    "displayName": lambda v, info: f"{_state(info).products[v.product_id].title} - {v.title}",
    "availableForSale": lambda v, info: (
        v.inventory_policy == "continue" or _variant_available(v, info) > 0
    ),
    "inventoryPolicy": lambda v, info: v.inventory_policy.upper(),
    "inventoryQuantity": _variant_available,
    "sellableOnlineQuantity": _variant_available,
    "selectedOptions": lambda v, info: [
        {"name": name, "value": value}
        for name, value in zip(
            _state(info).products[v.product_id].option_names, v.options, strict=False
        )
    ],
    "product": lambda v, info: _state(info).products[v.product_id],
    "inventoryItem": lambda v, info: _state(info).inventory_items[v.inventory_item_id],
}


# -- inventory -----------------------------------------------------------------------------


def _item_levels(item: InventoryItem, info: Info, **args: Any) -> dict[str, Any]:
    levels = _filter_levels(list(item.levels.values()), args.get("query"), info)
    return _page(info, levels, lambda lv: (lv.location_id,), args)


def _filter_levels(
    levels: list[InventoryLevel], query: str | None, info: Info
) -> list[InventoryLevel]:
    search = parse_search(query)
    fields = {
        "updated_at": lambda lv: lv.updated_at,
        "created_at": lambda lv: lv.created_at,
        "inventory_item_id": lambda lv: lv.inventory_item_id,
        "location_id": lambda lv: lv.location_id,
    }
    return [lv for lv in levels if search.matches(lv, fields, "inventory_item_id")]


def _item_level(item: InventoryItem, info: Info, locationId: str) -> InventoryLevel | None:
    return item.levels.get(_number(locationId, "Location"))


def _number(value: str, kind: str) -> int:
    try:
        return parse_gid(value, kind)
    except ValueError as exc:
        raise GraphQLError(f"Invalid global id '{value}'") from exc


_INVENTORY_ITEM: dict[str, Resolver] = {
    "id": lambda i, info: gid("InventoryItem", i.id),
    "legacyResourceId": lambda i, info: i.id,
    "requiresShipping": lambda i, info: True,
    "unitCost": lambda i, info: context_of(info).money(i.cost) if i.cost is not None else None,
    "measurement": lambda i, info: {
        "id": gid("InventoryItemMeasurement", i.id),
        "weight": {"unit": "GRAMS", "value": 0.0},
    },
    "variant": lambda i, info: _state(info).variant_of_item(i.id),
    "countryHarmonizedSystemCodes": lambda i, info, **args: _page(info, [], lambda c: (0,), args),
    "inventoryLevel": _item_level,
    "inventoryLevels": _item_levels,
}


def _quantities(level: InventoryLevel, info: Info, names: list[str]) -> list[dict[str, Any]]:
    unknown = [name for name in names if name not in QUANTITY_NAMES]
    if unknown:
        raise GraphQLError(
            f"Invalid quantity names: {', '.join(unknown)}. "
            f"Valid names are: {', '.join(QUANTITY_NAMES)}."
        )
    return [
        {
            "id": f"gid://shopify/InventoryQuantity/{level.location_id}"
            f"?inventory_item_id={level.inventory_item_id}&name={name}",
            "name": name,
            "quantity": level.quantities[name],
            "updatedAt": level.updated_at,
        }
        for name in names
    ]


_INVENTORY_LEVEL: dict[str, Resolver] = {
    "id": lambda lv, info: level_gid(lv),
    "canDeactivate": lambda lv, info: True,
    "item": lambda lv, info: _state(info).inventory_items[lv.inventory_item_id],
    "location": lambda lv, info: _state(info).locations[lv.location_id],
    "quantities": _quantities,
}


def _location_levels(location: Location, info: Info, **args: Any) -> dict[str, Any]:
    levels = [
        item.levels[location.id]
        for item in _state(info).inventory_items.values()
        if location.id in item.levels
    ]
    levels = _filter_levels(levels, args.get("query"), info)
    return _page(info, levels, lambda lv: (lv.inventory_item_id,), args)


def _location_level(location: Location, info: Info, inventoryItemId: str) -> InventoryLevel | None:
    item = _state(info).inventory_items.get(_number(inventoryItemId, "InventoryItem"))
    return item.levels.get(location.id) if item else None


def _location_address(location: Location, info: Info) -> dict[str, Any]:
    country = "Vietnam" if location.country_code == "VN" else location.country_code
    return {
        "address1": location.address1,
        "city": location.city,
        "province": location.province,
        "country": country,
        "countryCode": location.country_code,
        "formatted": [p for p in (location.address1, location.city, country) if p],
    }


_LOCATION: dict[str, Resolver] = {
    "id": lambda loc, info: gid("Location", loc.id),
    "legacyResourceId": lambda loc, info: loc.id,
    "isActive": lambda loc, info: loc.active,
    "deactivatable": lambda loc, info: loc.active,
    "activatable": lambda loc, info: not loc.active,
    "fulfillsOnlineOrders": lambda loc, info: True,
    "shipsInventory": lambda loc, info: True,
    "hasActiveInventory": lambda loc, info: any(
        loc.id in item.levels for item in _state(info).inventory_items.values()
    ),
    "hasUnfulfilledOrders": lambda loc, info: any(
        line.location_id == loc.id and line.fulfilled_quantity < line.quantity
        for order in _state(info).orders.values()
        if order.cancelled_at is None
        for line in order.line_items
    ),
    "address": _location_address,
    "inventoryLevel": _location_level,
    "inventoryLevels": _location_levels,
}


# -- customers -----------------------------------------------------------------------------


def _customer_orders(customer: Customer, info: Info) -> list[Order]:
    return [o for o in _state(info).orders.values() if o.customer_id == customer.id]


def _amount_spent(customer: Customer, info: Info) -> dict[str, Any]:
    paid = sum(
        (
            o.total
            for o in _customer_orders(customer, info)
            if o.financial_status in ("paid", "partially_refunded")
        ),
        Decimal(0),
    )
    return context_of(info).money(paid)


_CUSTOMER: dict[str, Resolver] = {
    "id": lambda c, info: gid("Customer", c.id),
    "legacyResourceId": lambda c, info: c.id,
    "displayName": lambda c, info: (
        " ".join(p for p in (c.first_name, c.last_name) if p) or c.email or c.phone or ""
    ),
    "state": lambda c, info: c.state.upper(),
    "verifiedEmail": lambda c, info: bool(c.email),
    "validEmailAddress": lambda c, info: bool(c.email),
    "locale": lambda c, info: "vi",
    "lifetimeDuration": lambda c, info: "less than a month",
    "productSubscriberStatus": lambda c, info: "NEVER_SUBSCRIBED",
    "numberOfOrders": lambda c, info: len(_customer_orders(c, info)),
    "amountSpent": _amount_spent,
    "defaultAddress": lambda c, info: mailing_address(
        c.addresses[0] if c.addresses else None, c.id
    ),
    "addresses": lambda c, info, first=None: [
        mailing_address(a, c.id * 100 + i) for i, a in enumerate(c.addresses[:first])
    ],
    "emailMarketingConsent": lambda c, info: (
        {"marketingState": "NOT_SUBSCRIBED", "marketingOptInLevel": None} if c.email else None
    ),
    "lastOrder": lambda c, info: max(_customer_orders(c, info), key=lambda o: o.id, default=None),
}


# -- orders --------------------------------------------------------------------------------

_FULFILMENT_DISPLAY = {
    None: "UNFULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "fulfilled": "FULFILLED",
    "restocked": "RESTOCKED",
}


def _received(order: Order) -> Decimal:
    paid = order.financial_status in ("paid", "partially_refunded", "refunded", "partially_paid")
    return order.total if paid else Decimal(0)


def _refunded(order: Order) -> Decimal:
    if order.refunds:
        return sum((refund.amount for refund in order.refunds), Decimal(0))
    return order.total if order.financial_status == "refunded" else Decimal(0)


def _refunded_shipping(order: Order) -> Decimal:
    if order.refunds:
        return sum((refund.shipping for refund in order.refunds), Decimal(0))
    return order.shipping_price if order.financial_status == "refunded" else Decimal(0)


def _current_total(order: Order) -> Decimal:
    return Decimal(0) if order.cancelled_at is not None else order.total


def _fulfillments(order: Order, info: Info, first: int | None = None) -> list[Fulfillment]:
    return order.fulfillments[:first]


def _fulfillment_orders(order: Order, info: Info, **args: Any) -> dict[str, Any]:
    search = parse_search(args.get("query"))
    fields = {
        "id": lambda fo: fo.id,
        "status": lambda fo: fo.status.lower(),
        "assigned_location_id": lambda fo: fo.location_id,
        "updated_at": lambda fo: fo.updated_at,
        "created_at": lambda fo: fo.created_at,
    }
    found = [fo for fo in order.fulfillment_orders if search.matches(fo, fields, "id")]
    return _page(info, found, lambda fo: (fo.id,), args)


def _shipping_line(order: Order, info: Info) -> dict[str, Any] | None:
    lines = shipping_lines_json(_state(info), order)
    if not lines:
        return None
    line = lines[0]
    price = context_of(info).bag(Decimal(line["price"]))
    return {
        "id": gid("ShippingLine", line["id"]),
        "title": line["title"],
        "code": line["code"],
        "source": line["source"],
        "carrierIdentifier": line["carrier_identifier"],
        "deliveryCategory": line["delivery_category"],
        "custom": False,
        "isRemoved": False,
        "originalPriceSet": price,
        "discountedPriceSet": price,
        "currentDiscountedPriceSet": price,
    }


_ORDER: dict[str, Resolver] = {
    "id": lambda o, info: gid("Order", o.id),
    "legacyResourceId": lambda o, info: o.id,
    "name": lambda o, info: o.name,
    "confirmationNumber": lambda o, info: f"VN{o.number:06d}",
    "closed": lambda o, info: o.closed_at is not None,
    "confirmed": lambda o, info: True,
    "cancelReason": lambda o, info: o.cancel_reason.upper() if o.cancel_reason else None,
    "currencyCode": lambda o, info: o.currency,
    "presentmentCurrencyCode": lambda o, info: o.currency,
    "displayFinancialStatus": lambda o, info: o.financial_status.upper(),
    "displayFulfillmentStatus": lambda o, info: _FULFILMENT_DISPLAY.get(
        o.fulfillment_status, "UNFULFILLED"
    ),
    "returnStatus": lambda o, info: "NO_RETURN",
    "fullyPaid": lambda o, info: o.financial_status == "paid",
    "unpaid": lambda o, info: o.financial_status in ("pending", "authorized"),
    "capturable": lambda o, info: o.financial_status == "authorized",
    "canMarkAsPaid": lambda o, info: o.financial_status == "pending",
    "refundable": lambda o, info: _received(o) > 0 and o.cancelled_at is None,
    "restockable": lambda o, info: o.cancelled_at is None,
    "fulfillable": lambda o, info: (
        o.cancelled_at is None and any(fo.fulfillable for fo in o.fulfillment_orders)
    ),
    "requiresShipping": lambda o, info: True,
    "statusPageUrl": lambda o, info: f"{context_of(info).base_url}/orders/{o.id}/status",
    "paymentGatewayNames": lambda o, info: ["manual"],
    "subtotalLineItemsQuantity": lambda o, info: sum(li.quantity for li in o.line_items),
    "currentSubtotalLineItemsQuantity": lambda o, info: (
        0 if o.cancelled_at else sum(li.quantity for li in o.line_items)
    ),
    "totalWeight": lambda o, info: 0,
    "currentTotalWeight": lambda o, info: 0,
    "subtotalPriceSet": lambda o, info: context_of(info).bag(o.subtotal),
    "totalPriceSet": lambda o, info: context_of(info).bag(o.total),
    "originalTotalPriceSet": lambda o, info: context_of(info).bag(o.total),
    "totalTaxSet": lambda o, info: context_of(info).bag(o.total_tax),
    "totalDiscountsSet": lambda o, info: context_of(info).bag(o.total_discounts),
    "cartDiscountAmountSet": lambda o, info: context_of(info).bag(o.total_discounts),
    "totalShippingPriceSet": lambda o, info: context_of(info).bag(o.shipping_price),
    "totalReceivedSet": lambda o, info: context_of(info).bag(_received(o)),
    "totalRefundedSet": lambda o, info: context_of(info).bag(_refunded(o)),
    "totalRefundedShippingSet": lambda o, info: context_of(info).bag(_refunded_shipping(o)),
    "netPaymentSet": lambda o, info: context_of(info).bag(_received(o) - _refunded(o)),
    "totalOutstandingSet": lambda o, info: context_of(info).bag(
        Decimal(0) if o.cancelled_at else o.total - _received(o)
    ),
    "totalCapturableSet": lambda o, info: context_of(info).bag(
        o.total if o.financial_status == "authorized" else 0
    ),
    "currentSubtotalPriceSet": lambda o, info: context_of(info).bag(
        0 if o.cancelled_at else o.subtotal
    ),
    "currentTotalPriceSet": lambda o, info: context_of(info).bag(_current_total(o)),
    "currentTotalTaxSet": lambda o, info: context_of(info).bag(
        0 if o.cancelled_at else o.total_tax
    ),
    "currentTotalDiscountsSet": lambda o, info: context_of(info).bag(
        0 if o.cancelled_at else o.total_discounts
    ),
    "currentShippingPriceSet": lambda o, info: context_of(info).bag(
        0 if o.cancelled_at else o.shipping_price
    ),
    "currentCartDiscountAmountSet": lambda o, info: context_of(info).bag(
        0 if o.cancelled_at else o.total_discounts
    ),
    "totalCashRoundingAdjustment": lambda o, info: {
        "paymentSet": context_of(info).bag(0),
        "refundSet": context_of(info).bag(0),
    },
    "merchantBusinessEntity": lambda o, info: {
        "id": gid("BusinessEntity", _state(info).shop.id),
        "address": {"countryCode": "VN", "city": _state(info).primary_location.city},
        "companyName": _state(info).shop.name,
        "displayName": _state(info).shop.name,
        "primary": True,
    },
    "fulfillments": _fulfillments,
    "fulfillmentOrders": _fulfillment_orders,
    "shippingLine": _shipping_line,
    "fulfillmentsCount": lambda o, info: {
        "count": len(_fulfillments(o, info)),
        "precision": "EXACT",
    },
    "transactionsCount": lambda o, info: {"count": 1 if _received(o) else 0, "precision": "EXACT"},
    "customer": lambda o, info: _state(info).customers.get(o.customer_id or -1),
    "shippingAddress": lambda o, info: mailing_address(o.shipping_address, o.id),
    "billingAddress": lambda o, info: mailing_address(o.shipping_address, o.id + 1),
    "billingAddressMatchesShippingAddress": lambda o, info: True,
    "lineItems": lambda o, info, **args: _page(info, o.line_items, lambda li: (li.id,), args),
    "discountApplications": lambda o, info, **args: _page(info, [], lambda d: (0,), args),
}


def _line_bag(attribute: Callable[[LineItem], Decimal]) -> Resolver:
    return lambda li, info: context_of(info).bag(attribute(li))


_LINE_ITEM: dict[str, Resolver] = {
    "id": lambda li, info: gid("LineItem", li.id),
    "name": lambda li, info: f"{li.title} - {li.variant_title}" if li.variant_title else li.title,
    "currentQuantity": lambda li, info: li.quantity,
    "unfulfilledQuantity": lambda li, info: li.quantity - li.fulfilled_quantity,
    "requiresShipping": lambda li, info: True,
    "taxable": lambda li, info: True,
    "originalUnitPriceSet": _line_bag(lambda li: li.price),
    "discountedUnitPriceSet": _line_bag(lambda li: li.price),
    "originalTotalSet": _line_bag(lambda li: li.price * li.quantity),
    "discountedTotalSet": _line_bag(lambda li: li.price * li.quantity),
    "totalDiscountSet": _line_bag(lambda li: Decimal(0)),
    "unfulfilledDiscountedTotalSet": _line_bag(
        lambda li: li.price * (li.quantity - li.fulfilled_quantity)
    ),
    "unfulfilledOriginalTotalSet": _line_bag(
        lambda li: li.price * (li.quantity - li.fulfilled_quantity)
    ),
    "product": lambda li, info: _state(info).products.get(li.product_id or -1),
    "variant": lambda li, info: _state(info).variants.get(li.variant_id or -1),
}


# -- fulfilment -----------------------------------------------------------------------------


def _order_of(info: Info, order_id: int) -> Order:
    order: Order = _state(info).orders[order_id]
    return order


def _fulfillment_line_items(fulfillment: Fulfillment, info: Info, **args: Any) -> dict[str, Any]:
    order = _order_of(info, fulfillment.order_id)
    items = [
        {
            "id": gid("FulfillmentLineItem", fulfillment.id * 1000 + index),
            "quantity": quantity,
            "lineItem": order.line_item(line_id),
        }
        for index, (line_id, quantity) in enumerate(fulfillment.lines)
    ]
    return _page(info, items, lambda item: (item["id"],), args)


_FULFILLMENT: dict[str, Resolver] = {
    "id": lambda f, info: gid("Fulfillment", f.id),
    "requiresShipping": lambda f, info: True,
    "trackingInfo": lambda f, info, first=None: f.tracking[:first],
    "location": lambda f, info: _state(info).locations.get(f.location_id),
    "order": lambda f, info: _order_of(info, f.order_id),
    "fulfillmentLineItems": _fulfillment_line_items,
}


def _assigned_location(fulfillment_order: FulfillmentOrder, info: Info) -> dict[str, Any]:
    location = _state(info).locations[fulfillment_order.location_id]
    return {
        "location": location,
        "name": location.name,
        "address1": location.address1,
        "city": location.city,
        "province": location.province,
        "countryCode": location.country_code,
    }


def _supported_actions(fulfillment_order: FulfillmentOrder, info: Info) -> list[dict[str, Any]]:
    if not fulfillment_order.fulfillable:
        return []
    actions = ["CREATE_FULFILLMENT", "HOLD", "MOVE", "REQUEST_FULFILLMENT"]
    return [{"action": action, "externalUrl": None} for action in actions]


def _fulfillment_order_lines(
    fulfillment_order: FulfillmentOrder, info: Info, **args: Any
) -> dict[str, Any]:
    order = _order_of(info, fulfillment_order.order_id)
    state = _state(info)
    items = []
    for line in fulfillment_order.lines:
        line_item = order.line_item(line.line_item_id)
        variant = state.variants.get(line_item.variant_id or -1) if line_item else None
        items.append(
            {
                "id": gid("FulfillmentOrderLineItem", line.id),
                "number": line.id,
                "totalQuantity": line.total_quantity,
                "remainingQuantity": line.remaining_quantity,
                "lineItem": line_item,
                "sku": line_item.sku if line_item else None,
                "productTitle": line_item.title if line_item else "",
                "variantTitle": line_item.variant_title if line_item else None,
                "inventoryItemId": (
                    gid("InventoryItem", variant.inventory_item_id) if variant else None
                ),
                "requiresShipping": True,
            }
        )
    return _page(info, items, lambda item: (item["number"],), args)


_FULFILLMENT_ORDER: dict[str, Resolver] = {
    "id": lambda fo, info: gid("FulfillmentOrder", fo.id),
    "requestStatus": lambda fo, info: "UNSUBMITTED",
    "orderId": lambda fo, info: gid("Order", fo.order_id),
    "orderName": lambda fo, info: _order_of(info, fo.order_id).name,
    "order": lambda fo, info: _order_of(info, fo.order_id),
    "assignedLocation": _assigned_location,
    "deliveryMethod": lambda fo, info: {
        "id": gid("DeliveryMethod", fo.id),
        "methodType": fo.delivery_method,
        "presentedName": (
            _state(info).locations[fo.location_id].name
            if fo.delivery_method == "PICK_UP"
            else "Giao hàng tiêu chuẩn"
        ),
    },
    "supportedActions": _supported_actions,
    "lineItems": _fulfillment_order_lines,
}

_JOB: dict[str, Resolver] = {
    "id": lambda job, info: gid("Job", job.id),
    "query": lambda job, info: {},
}


# -- shop, app, webhooks, bulk -------------------------------------------------------------


def _offset(state: ShopState) -> str:
    hours = state.shop.utc_offset_hours
    return f"{'+' if hours >= 0 else '-'}{abs(hours):02d}00"


_SHOP: dict[str, Resolver] = {
    "id": lambda s, info: gid("Shop", s.id),
    "myshopifyDomain": lambda s, info: s.domain,
    "currencyCode": lambda s, info: s.currency,
    "timezoneOffset": lambda s, info: _offset(_state(info)),
    "timezoneOffsetMinutes": lambda s, info: s.utc_offset_hours * 60,
    "enabledPresentmentCurrencies": lambda s, info: [s.currency],
    "plan": lambda s, info: {
        "displayName": s.plan.title(),
        "partnerDevelopment": False,
        "shopifyPlus": False,
    },
}

_WEBHOOK: dict[str, Resolver] = {
    "id": lambda w, info: gid("WebhookSubscription", w.id),
    "topic": lambda w, info: topic_enum(w.topic),
    "format": lambda w, info: w.format.upper(),
    "uri": lambda w, info: w.address,
    "callbackUrl": lambda w, info: w.address,
}

_BULK: dict[str, Resolver] = {
    "id": lambda b, info: gid("BulkOperation", b.id),
    "url": lambda b, info: b.url(context_of(info).base_url),
    "partialDataUrl": lambda b, info: None,
}

FIELD_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Product": _PRODUCT,
    "ProductVariant": _VARIANT,
    "InventoryItem": _INVENTORY_ITEM,
    "InventoryLevel": _INVENTORY_LEVEL,
    "Location": _LOCATION,
    "Customer": _CUSTOMER,
    "Order": _ORDER,
    "LineItem": _LINE_ITEM,
    "Fulfillment": _FULFILLMENT,
    "FulfillmentOrder": _FULFILLMENT_ORDER,
    "Job": _JOB,
    "Shop": _SHOP,
    "WebhookSubscription": _WEBHOOK,
    "BulkOperation": _BULK,
}
"""Resolvers by GraphQL type name, then field name."""

OBJECT_TYPES: dict[type, str] = {
    Product: "Product",
    Variant: "ProductVariant",
    InventoryItem: "InventoryItem",
    InventoryLevel: "InventoryLevel",
    Location: "Location",
    Customer: "Customer",
    Order: "Order",
    LineItem: "LineItem",
    Fulfillment: "Fulfillment",
    FulfillmentOrder: "FulfillmentOrder",
    WebhookSubscription: "WebhookSubscription",
}
"""The GraphQL type each state class is exposed as (for ``Node`` and other abstract types)."""
