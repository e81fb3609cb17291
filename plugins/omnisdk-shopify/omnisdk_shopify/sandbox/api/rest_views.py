"""REST representations of the shop state (also the payloads of webhooks).

Money is a decimal string with two places (``"199000.00"`` even for VND), timestamps carry the
shop's UTC offset (``+07:00``), ids are integers and every object has its
``admin_graphql_api_id``, as Shopify's REST Admin API answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from omnisdk_shopify.sandbox.state.records import (
    Customer,
    Fulfillment,
    InventoryItem,
    InventoryLevel,
    LineItem,
    Location,
    Order,
    Product,
    Refund,
    Variant,
    WebhookSubscription,
    gid,
)
from omnisdk_shopify.sandbox.state.shop import ShopState

__all__ = [
    "customer_json",
    "fulfillment_json",
    "inventory_item_json",
    "inventory_level_json",
    "location_json",
    "money_text",
    "order_json",
    "product_json",
    "shipping_lines_json",
    "shop_json",
    "timestamp",
    "variant_json",
    "webhook_json",
]


def money_text(amount: Decimal | None) -> str | None:
    """``Decimal("199000")`` -> ``"199000.00"``."""
    return None if amount is None else f"{Decimal(amount):.2f}"


def timestamp(state: ShopState, value: datetime | None) -> str | None:
    """An instant in the shop's time zone, ISO 8601 with offset."""
    if value is None:
        return None
    zone = timezone(timedelta(hours=state.shop.utc_offset_hours))
    return value.astimezone(zone).replace(microsecond=0).isoformat()


def shop_json(state: ShopState) -> dict[str, Any]:
    """``GET /shop.json``."""
    shop = state.shop
    return {
        "id": shop.id,
        "name": shop.name,
        "email": shop.email,
        "domain": shop.domain,
        "myshopify_domain": shop.domain,
        "currency": shop.currency,
        "country_code": "VN",
        "iana_timezone": shop.iana_timezone,
        "plan_name": shop.plan,
        "timezone": f"(GMT+{shop.utc_offset_hours:02d}:00) {shop.iana_timezone}",
        "money_format": "{{amount_no_decimals_with_comma_separator}}₫",
        "enabled_presentment_currencies": [shop.currency],
        "created_at": timestamp(state, state.locations[state.primary_location.id].created_at),
    }


def variant_json(state: ShopState, variant: Variant) -> dict[str, Any]:
    """A variant as REST shows it."""
    available = state.variant_available(variant)
    options = {
        f"option{i}": (variant.options[i - 1] if i <= len(variant.options) else None)
        for i in (1, 2, 3)
    }
    return {
        "id": variant.id,
        "product_id": variant.product_id,
        "title": variant.title,
        "sku": variant.sku,
        "price": money_text(variant.price),
        "compare_at_price": money_text(variant.compare_at_price),
        "position": variant.position,
        "inventory_item_id": variant.inventory_item_id,
        "inventory_quantity": available,
        "old_inventory_quantity": available,
        "inventory_management": "shopify",
        "inventory_policy": variant.inventory_policy,
        "barcode": variant.barcode,
        "taxable": variant.taxable,
        "requires_shipping": True,
        "grams": 0,
        "weight": 0,
        "weight_unit": "g",
        "fulfillment_service": "manual",
        "image_id": None,
        **options,
        "created_at": timestamp(state, variant.created_at),
        "updated_at": timestamp(state, variant.updated_at),
        "admin_graphql_api_id": gid("ProductVariant", variant.id),
    }


def product_json(state: ShopState, product: Product) -> dict[str, Any]:
    """A product with its variants and options as REST shows it."""
    variants = state.product_variants(product)
    options = []
    for index, name in enumerate(product.option_names):
        values: list[str] = []
        for variant in variants:
            if index < len(variant.options) and variant.options[index] not in values:
                values.append(variant.options[index])
        options.append(
            {
                "id": product.id * 10 + index + 1,
                "product_id": product.id,
                "name": name,
                "position": index + 1,
                "values": values,
            }
        )
    return {
        "id": product.id,
        "title": product.title,
        "handle": product.handle,
        "body_html": product.body_html,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "status": product.status,
        "tags": ", ".join(product.tags),
        "template_suffix": None,
        "published_scope": "global",
        "created_at": timestamp(state, product.created_at),
        "updated_at": timestamp(state, product.updated_at),
        "published_at": timestamp(state, product.published_at),
        "variants": [variant_json(state, v) for v in variants],
        "options": options,
        "images": [],
        "image": None,
        "admin_graphql_api_id": gid("Product", product.id),
    }


def inventory_item_json(state: ShopState, item: InventoryItem) -> dict[str, Any]:
    """An inventory item as REST shows it."""
    return {
        "id": item.id,
        "sku": item.sku,
        "tracked": item.tracked,
        "cost": money_text(item.cost),
        "requires_shipping": True,
        "country_code_of_origin": None,
        "province_code_of_origin": None,
        "harmonized_system_code": None,
        "country_harmonized_system_codes": [],
        "created_at": timestamp(state, item.created_at),
        "updated_at": timestamp(state, item.updated_at),
        "admin_graphql_api_id": gid("InventoryItem", item.id),
    }


def inventory_level_json(state: ShopState, level: InventoryLevel) -> dict[str, Any]:
    """An inventory level as REST (and the ``inventory_levels/update`` webhook) shows it."""
    return {
        "inventory_item_id": level.inventory_item_id,
        "location_id": level.location_id,
        "available": level.available,
        "updated_at": timestamp(state, level.updated_at),
        "admin_graphql_api_id": (
            f"{gid('InventoryLevel', level.location_id)}"
            f"?inventory_item_id={level.inventory_item_id}"
        ),
    }


def location_json(state: ShopState, location: Location) -> dict[str, Any]:
    """A location as REST shows it."""
    return {
        "id": location.id,
        "name": location.name,
        "address1": location.address1,
        "address2": None,
        "city": location.city,
        "province": location.province,
        "zip": None,
        "country": location.country_code,
        "country_code": location.country_code,
        "country_name": "Vietnam" if location.country_code == "VN" else location.country_code,
        "phone": None,
        "active": location.active,
        "legacy": False,
        "created_at": timestamp(state, location.created_at),
        "updated_at": timestamp(state, location.updated_at),
        "admin_graphql_api_id": gid("Location", location.id),
    }


def customer_json(state: ShopState, customer: Customer) -> dict[str, Any]:
    """A customer as REST shows it."""
    orders = [o for o in state.orders.values() if o.customer_id == customer.id]
    addresses = [
        {"id": customer.id * 100 + i, "customer_id": customer.id, **a, "default": i == 0}
        for i, a in enumerate(customer.addresses)
    ]
    return {
        "id": customer.id,
        "email": customer.email,
        "phone": customer.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "state": customer.state,
        "tags": ", ".join(customer.tags),
        "note": customer.note,
        "verified_email": bool(customer.email),
        "currency": state.shop.currency,
        "orders_count": len(orders),
        "total_spent": money_text(
            sum((o.total for o in orders if o.financial_status == "paid"), Decimal(0))
        ),
        "last_order_id": max((o.id for o in orders), default=None),
        "created_at": timestamp(state, customer.created_at),
        "updated_at": timestamp(state, customer.updated_at),
        "addresses": addresses,
        "default_address": addresses[0] if addresses else None,
        "admin_graphql_api_id": gid("Customer", customer.id),
    }


def _line_json(state: ShopState, line: LineItem) -> dict[str, Any]:
    unfulfilled = line.quantity - line.fulfilled_quantity
    status = None if not line.fulfilled_quantity else "partial" if unfulfilled else "fulfilled"
    return {
        "id": line.id,
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "sku": line.sku,
        "title": line.title,
        "variant_title": line.variant_title,
        "name": f"{line.title} - {line.variant_title}" if line.variant_title else line.title,
        "vendor": line.vendor,
        "quantity": line.quantity,
        "price": money_text(line.price),
        "total_discount": "0.00",
        "fulfillable_quantity": unfulfilled,
        "fulfillment_status": status,
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
        "tax_lines": [],
        "discount_allocations": [],
        "admin_graphql_api_id": gid("LineItem", line.id),
    }


def fulfillment_json(state: ShopState, order: Order, fulfillment: Fulfillment) -> dict[str, Any]:
    """A fulfillment as REST (and the ``fulfillments/*`` webhooks) shows it."""
    lines = []
    for line_id, quantity in fulfillment.lines:
        line = order.line_item(line_id)
        if line is not None:
            lines.append({**_line_json(state, line), "quantity": quantity})
    numbers = [info.number for info in fulfillment.tracking if info.number]
    urls = [info.url for info in fulfillment.tracking if info.url]
    return {
        "id": fulfillment.id,
        "order_id": order.id,
        "location_id": fulfillment.location_id,
        "name": f"{order.name}.{order.fulfillments.index(fulfillment) + 1}",
        "status": fulfillment.status.lower(),
        "service": "manual",
        "shipment_status": None,
        "tracking_company": fulfillment.tracking[0].company if fulfillment.tracking else None,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "notify_customer": fulfillment.notify_customer,
        "created_at": timestamp(state, fulfillment.created_at),
        "updated_at": timestamp(state, fulfillment.updated_at),
        "line_items": lines,
        "admin_graphql_api_id": gid("Fulfillment", fulfillment.id),
    }


def shipping_lines_json(state: ShopState, order: Order) -> list[dict[str, Any]]:
    """The order's shipping lines. A pick-up order has one named after the store, with
    source ``shopify``, as Shopify writes it (REST has no explicit pick-up flag)."""
    pickup = state.locations.get(order.pickup_location_id or -1)
    if pickup is not None:
        title, code, price = pickup.name, pickup.name, Decimal(0)
    elif order.shipping_price:
        title, code, price = "Giao hàng tiêu chuẩn", "standard", order.shipping_price
    else:
        return []
    amount = {"amount": money_text(price), "currency_code": order.currency}
    return [
        {
            "id": order.shipping_line_id,
            "title": title,
            "code": code,
            "source": "shopify",
            "price": money_text(price),
            "discounted_price": money_text(price),
            "price_set": {"shop_money": amount, "presentment_money": amount},
            "carrier_identifier": None,
            "delivery_category": None,
            "requested_fulfillment_service_id": None,
            "phone": None,
            "is_removed": False,
            "tax_lines": [],
            "discount_allocations": [],
        }
    ]


def _refund_json(order: Order, refund: Refund) -> dict[str, Any]:
    """A refund as REST shows it on its order: the money in one successful ``refund``
    transaction; refunded shipping as a negative ``shipping_refund`` order adjustment."""
    adjustments = (
        [{"id": refund.id + 1, "order_id": order.id, "refund_id": refund.id,
          "kind": "shipping_refund", "reason": "Shipping refund",
          "amount": money_text(-refund.shipping), "tax_amount": "0.00"}]
        if refund.shipping
        else []
    )
    return {
        "id": refund.id,
        "order_id": order.id,
        "created_at": refund.created_at.isoformat(),
        "processed_at": refund.created_at.isoformat(),
        "note": None,
        "restock": False,
        "admin_graphql_api_id": gid("Refund", refund.id),
        "refund_line_items": [],
        "order_adjustments": adjustments,
        "transactions": [
            {"id": refund.id + 2, "order_id": order.id, "kind": "refund", "status": "success",
             "gateway": "manual", "amount": money_text(refund.amount),
             "currency": order.currency, "created_at": refund.created_at.isoformat()}
        ],
    }


def order_json(state: ShopState, order: Order) -> dict[str, Any]:
    """An order as REST (and the ``orders/*`` webhooks) shows it."""
    customer = state.customers.get(order.customer_id or -1)
    address = order.shipping_address
    return {
        "id": order.id,
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "email": order.email,
        "phone": order.phone,
        "contact_email": order.email,
        "created_at": timestamp(state, order.created_at),
        "updated_at": timestamp(state, order.updated_at),
        "processed_at": timestamp(state, order.processed_at),
        "cancelled_at": timestamp(state, order.cancelled_at),
        "cancel_reason": order.cancel_reason,
        "closed_at": timestamp(state, order.closed_at),
        "test": order.test,
        "currency": order.currency,
        "presentment_currency": order.currency,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "total_price": money_text(order.total),
        "subtotal_price": money_text(order.subtotal),
        "total_line_items_price": money_text(order.subtotal),
        "total_tax": money_text(order.total_tax),
        "total_discounts": money_text(order.total_discounts),
        "total_shipping_price_set": {
            "shop_money": {
                "amount": money_text(order.shipping_price),
                "currency_code": order.currency,
            },
            "presentment_money": {
                "amount": money_text(order.shipping_price),
                "currency_code": order.currency,
            },
        },
        "tags": ", ".join(order.tags),
        "note": order.note,
        "source_name": order.source_name,
        "gateway": "manual",
        "payment_gateway_names": ["manual"],
        "confirmed": True,
        "line_items": [_line_json(state, li) for li in order.line_items],
        "customer": customer_json(state, customer) if customer else None,
        "shipping_address": dict(address) if address else None,
        "billing_address": dict(address) if address else None,
        "shipping_lines": shipping_lines_json(state, order),
        "discount_codes": [],
        "fulfillments": [fulfillment_json(state, order, f) for f in order.fulfillments],
        "refunds": [_refund_json(order, refund) for refund in order.refunds],
        "admin_graphql_api_id": gid("Order", order.id),
    }


def webhook_json(state: ShopState, subscription: WebhookSubscription) -> dict[str, Any]:
    """A webhook subscription as REST shows it."""
    return {
        "id": subscription.id,
        "topic": subscription.topic,
        "address": subscription.address,
        "format": subscription.format,
        "fields": [],
        "metafield_namespaces": [],
        "api_version": subscription.api_version,
        "created_at": timestamp(state, subscription.created_at),
        "updated_at": timestamp(state, subscription.updated_at),
        "admin_graphql_api_id": gid("WebhookSubscription", subscription.id),
    }
