"""The GraphQL documents the channel sends, each sized to stay under Shopify's 1000-point
single-query cost limit (a connection costs 2 plus ``first`` times its node's cost).

Page sizes live next to the documents that use them so the cost arithmetic is in one place.

Beyond the plugin shape: the documents are data, kept apart so client.py and channel.py read
as code.
"""

from __future__ import annotations

import json

__all__ = [
    "AVAILABLE_AT",
    "AVAILABLE_PAGE",
    "BULK_ORDERS",
    "BULK_POLL",
    "BULK_PRODUCTS",
    "BULK_RUN",
    "CURRENT_BULK",
    "CUSTOMERS",
    "CUSTOMERS_PAGE",
    "FULFILLMENTS_PER_ORDER",
    "FULFILLMENT_CREATE",
    "FULFILLMENT_ORDERS_FOR_UPDATE",
    "FULFILLMENT_ORDERS_PER_ORDER",
    "INVENTORY_SET_QUANTITIES",
    "JOB_POLL",
    "JOB_RESULT_SINCE",
    "LEVELS_PER_ITEM",
    "LINES_PER_ORDER",
    "LOCATIONS_KNOWN",
    "MAX_QUERY_COST",
    "ORDER",
    "ORDERS",
    "ORDERS_COUNT",
    "ORDERS_PAGE",
    "ORDER_CLOSE",
    "ORDER_FOR_UPDATE",
    "ORDER_LINES",
    "PRODUCTS",
    "PRODUCTS_COUNT",
    "PRODUCTS_PAGE",
    "PRODUCT_VARIANTS",
    "REFUND_METHOD_SINCE",
    "SHOP",
    "STOCK_BY_SKU",
    "STOCK_PAGE",
    "VARIANTS_BULK_UPDATE",
    "VARIANTS_BY_SKU",
    "VARIANTS_PER_PRODUCT",
    "VARIANT_LOOKUP_PAGE",
    "VARIANT_PRICES",
    "WEBHOOK_CREATE",
    "WEBHOOK_DELETE",
    "WEBHOOK_LIST",
    "bulk_orders_query",
    "order_cancel_mutation",
]

MAX_QUERY_COST = 1000.0
"""Shopify refuses a single query dearer than this."""

PRODUCTS_PAGE = 25
VARIANTS_PER_PRODUCT = 10
ORDERS_PAGE = 10
LINES_PER_ORDER = 10
FULFILLMENT_ORDERS_PER_ORDER = 5
FULFILLMENTS_PER_ORDER = 5
FULFILLMENT_ORDERS_FOR_UPDATE = 50
CUSTOMERS_PAGE = 50
STOCK_PAGE = 20
LEVELS_PER_ITEM = 10
VARIANT_LOOKUP_PAGE = 250
AVAILABLE_PAGE = 100
"""Inventory items per ``AvailableAt`` query (about 3 points an item: 100 stay well under the
1,000-point limit of one query, where ``StockBySku`` reads 20 SKUs with all their levels)."""

LOCATIONS_KNOWN = 50
"""Locations whose names ``check()`` learns (pick-up orders from webhooks name the store)."""

SHOP = f"""
query Shop {{
  shop {{ id name email myshopifyDomain currencyCode ianaTimezone }}
  locations(first: {LOCATIONS_KNOWN}, includeInactive: true) {{ nodes {{ id name }} }}
}}
"""

_VARIANT_FIELDS = """
  id sku title price compareAtPrice barcode position createdAt updatedAt
  selectedOptions { name value }
  inventoryItem { id tracked }
"""

_PRODUCT_FIELDS = """
  id title handle status vendor productType tags descriptionHtml createdAt updatedAt
  options { name position }
"""

PRODUCTS = f"""
query Products($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {_PRODUCT_FIELDS}
      variants(first: {VARIANTS_PER_PRODUCT}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_VARIANT_FIELDS} }}
      }}
    }}
  }}
}}
"""

PRODUCT_VARIANTS = f"""
query ProductVariants($id: ID!, $after: String) {{
  product(id: $id) {{
    variants(first: 100, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_VARIANT_FIELDS} }}
    }}
  }}
}}
"""

PRODUCTS_COUNT = """
query ProductsCount($query: String) { productsCount(query: $query) { count precision } }
"""

BULK_PRODUCTS = f"""
{{
  products {{
    edges {{ node {{
      {_PRODUCT_FIELDS}
      variants {{ edges {{ node {{ {_VARIANT_FIELDS} }} }} }}
    }} }}
  }}
}}
"""

VARIANTS_BY_SKU = """
query VariantsBySku($first: Int!, $query: String!) {
  productVariants(first: $first, query: $query) {
    nodes { id sku product { id } inventoryItem { id tracked } }
  }
}
"""

VARIANT_PRICES = """
query VariantPrices($first: Int!, $query: String!) {
  productVariants(first: $first, query: $query) {
    nodes { sku price compareAtPrice }
  }
}
"""

STOCK_BY_SKU = f"""
query StockBySku($first: Int!, $after: String, $query: String) {{
  productVariants(first: $first, after: $after, query: $query, sortKey: SKU) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id sku
      inventoryItem {{
        id
        inventoryLevels(first: {LEVELS_PER_ITEM}) {{
          nodes {{
            location {{ id name }}
            quantities(names: ["available", "committed"]) {{ name quantity }}
          }}
        }}
      }}
    }}
  }}
}}
"""

AVAILABLE_AT = """
query AvailableAt($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

INVENTORY_SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""

VARIANTS_BULK_UPDATE = """
mutation UpdatePrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants,
                            allowPartialUpdates: true) {
    productVariants { id price compareAtPrice }
    userErrors { code field message }
  }
}
"""

_MONEY = "shopMoney { amount currencyCode }"
_ADDRESS = """
  name firstName lastName company address1 address2 city province provinceCode zip
  countryCodeV2 phone
"""
_LINE_FIELDS = f"""
  id sku title variantTitle quantity
  originalUnitPriceSet {{ {_MONEY} }}
  totalDiscountSet {{ {_MONEY} }}
  variant {{ id }}
"""
_ORDER_FIELDS = f"""
  id name createdAt updatedAt processedAt cancelledAt cancelReason closed closedAt
  displayFinancialStatus displayFulfillmentStatus currencyCode email phone note tags test
  subtotalPriceSet {{ {_MONEY} }}
  totalPriceSet {{ {_MONEY} }}
  totalTaxSet {{ {_MONEY} }}
  totalDiscountsSet {{ {_MONEY} }}
  totalShippingPriceSet {{ {_MONEY} }}
  totalRefundedSet {{ {_MONEY} }}
  totalRefundedShippingSet {{ {_MONEY} }}
  customer {{ id firstName lastName email phone createdAt updatedAt }}
  shippingAddress {{ {_ADDRESS} }}
  fulfillments(first: {FULFILLMENTS_PER_ORDER}) {{
    id status trackingInfo(first: 5) {{ number company }}
  }}
"""
_FULFILLMENT_ORDER_FIELDS = """
  id status
  deliveryMethod { methodType }
  assignedLocation { location { id name } }
"""
_FULFILLMENT_ORDERS = f"""
  fulfillmentOrders(first: {FULFILLMENT_ORDERS_PER_ORDER}) {{
    nodes {{ {_FULFILLMENT_ORDER_FIELDS} }}
  }}
"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {_ORDER_FIELDS}
      {_FULFILLMENT_ORDERS}
      lineItems(first: {LINES_PER_ORDER}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_LINE_FIELDS} }}
      }}
    }}
  }}
}}
"""

ORDER = f"""
query Order($id: ID!) {{
  order(id: $id) {{
    {_ORDER_FIELDS}
    {_FULFILLMENT_ORDERS}
    lineItems(first: {LINES_PER_ORDER}) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_LINE_FIELDS} }}
    }}
  }}
}}
"""

ORDER_LINES = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: 50, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_LINE_FIELDS} }}
    }}
  }}
}}
"""

ORDERS_COUNT = """
query OrdersCount($query: String) { ordersCount(query: $query) { count precision } }
"""

BULK_ORDERS = """
{
  orders%s {
    edges { node {
      %s
      lineItems { edges { node { %s } } }
      fulfillmentOrders { edges { node { %s } } }
    } }
  }
}
"""
"""Bulk export of orders: ``%`` the arguments (``(query: "...")`` or nothing), the order
fields, the line fields and the fulfillment order fields."""

CUSTOMERS = f"""
query Customers($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id firstName lastName email phone createdAt updatedAt
      addresses(first: 5) {{ {_ADDRESS} }}
    }}
  }}
}}
"""

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { code field message }
  }
}
"""

BULK_POLL = """
query BulkPoll($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url }
  }
}
"""

CURRENT_BULK = """
query CurrentBulk { currentBulkOperation { id status query } }
"""
"""The app's latest bulk query: asked after ``bulkOperationRunQuery`` timed out, to adopt the
operation it may have started instead of starting a second one."""

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $url: URL!) {
  webhookSubscriptionCreate(topic: $topic,
                            webhookSubscription: {callbackUrl: $url, format: JSON}) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

WEBHOOK_LIST = """
query Webhooks($url: URL) {
  webhookSubscriptions(first: 100, callbackUrl: $url) { nodes { id topic callbackUrl } }
}
"""

WEBHOOK_DELETE = """
mutation WebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } }
}
"""

ORDER_FOR_UPDATE = f"""
query OrderForUpdate($id: ID!) {{
  order(id: $id) {{
    id name cancelledAt closed displayFulfillmentStatus
    fulfillments(first: {FULFILLMENTS_PER_ORDER}) {{
      id status trackingInfo(first: 5) {{ number company }}
    }}
    fulfillmentOrders(first: {FULFILLMENT_ORDERS_FOR_UPDATE}) {{
      nodes {{ {_FULFILLMENT_ORDER_FIELDS} }}
    }}
  }}
}}
"""
"""What an order write needs to know first: is it cancelled, closed, fulfilled, and its
fulfillment orders (status, delivery method, location)."""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { number company } }
    userErrors { field message }
  }
}
"""

ORDER_CLOSE = """
mutation OrderClose($input: OrderCloseInput!) {
  orderClose(input: $input) {
    order { id closed }
    userErrors { field message }
  }
}
"""

JOB_POLL = """
query JobPoll($id: ID!) { job(id: $id) { id done } }
"""

REFUND_METHOD_SINCE = "2025-10"
"""First Admin API version whose ``orderCancel`` takes ``refundMethod`` (``refund`` before)."""
JOB_RESULT_SINCE = "2026-10"
"""First Admin API version whose ``orderCancel`` answers ``jobResult``."""


def order_cancel_mutation(api_version: str) -> str:
    """The ``orderCancel`` document for ``api_version``: ``refundMethod`` and ``jobResult``
    where the version has them, the older ``refund`` flag and bare ``job`` before."""
    refund_variable, refund_argument = (
        ("$refundMethod: OrderCancelRefundMethodInput", "refundMethod: $refundMethod")
        if api_version >= REFUND_METHOD_SINCE
        else ("$refund: Boolean!", "refund: $refund")
    )
    job_result = (
        "jobResult { id done status errors { code field message } }"
        if api_version >= JOB_RESULT_SINCE
        else ""
    )
    return f"""
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!,
                     {refund_variable}, $notifyCustomer: Boolean, $staffNote: String) {{
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, {refund_argument},
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {{
    job {{ id done }}
    {job_result}
    orderCancelUserErrors {{ code field message }}
  }}
}}
"""


def bulk_orders_query(search: str | None) -> str:
    """The bulk export document of every order (matching ``search`` when given)."""
    arguments = f"(query: {json.dumps(search)})" if search else ""
    return BULK_ORDERS % (arguments, _ORDER_FIELDS, _LINE_FIELDS, _FULFILLMENT_ORDER_FIELDS)
