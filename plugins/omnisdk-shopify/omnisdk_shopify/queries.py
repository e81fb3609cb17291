"""The GraphQL documents the channel sends, each sized to stay under Shopify's 1000-point
single-query cost limit (a connection costs 2 plus ``first`` times its node's cost).

Page sizes live next to the documents that use them so the cost arithmetic is in one place.
"""

from __future__ import annotations

import json

__all__ = [
    "BULK_ORDERS",
    "BULK_POLL",
    "BULK_PRODUCTS",
    "BULK_RUN",
    "CUSTOMERS",
    "CUSTOMERS_PAGE",
    "INVENTORY_SET_QUANTITIES",
    "LEVELS_PER_ITEM",
    "LINES_PER_ORDER",
    "ORDER",
    "ORDERS",
    "ORDERS_COUNT",
    "ORDERS_PAGE",
    "ORDER_LINES",
    "PRODUCTS",
    "PRODUCTS_COUNT",
    "PRODUCTS_PAGE",
    "PRODUCT_VARIANTS",
    "SHOP",
    "STOCK_BY_SKU",
    "STOCK_PAGE",
    "VARIANTS_BULK_UPDATE",
    "VARIANTS_BY_SKU",
    "VARIANTS_PER_PRODUCT",
    "VARIANT_LOOKUP_PAGE",
    "WEBHOOK_CREATE",
    "WEBHOOK_DELETE",
    "WEBHOOK_LIST",
    "bulk_orders_query",
]

PRODUCTS_PAGE = 25
VARIANTS_PER_PRODUCT = 10
ORDERS_PAGE = 10
LINES_PER_ORDER = 10
CUSTOMERS_PAGE = 50
STOCK_PAGE = 20
LEVELS_PER_ITEM = 10
VARIANT_LOOKUP_PAGE = 250

SHOP = """
query Shop {
  shop { id name email myshopifyDomain currencyCode ianaTimezone }
}
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
            location {{ id }}
            quantities(names: ["available", "committed"]) {{ name quantity }}
          }}
        }}
      }}
    }}
  }}
}}
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
  customer {{ id firstName lastName email phone createdAt updatedAt }}
  shippingAddress {{ {_ADDRESS} }}
"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {_ORDER_FIELDS}
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
    } }
  }
}
"""
"""Bulk export of orders: ``%`` the arguments (``(query: "...")`` or nothing), the order
fields and the line fields."""

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


def bulk_orders_query(search: str | None) -> str:
    """The bulk export document of every order (matching ``search`` when given)."""
    arguments = f"(query: {json.dumps(search)})" if search else ""
    return BULK_ORDERS % (arguments, _ORDER_FIELDS, _LINE_FIELDS)
