"""The Shopify sandbox: an in-memory shop behind the Admin API (needs the ``sandbox`` extra).

:class:`ShopifySandbox` (defined in :mod:`omnisdk_shopify.sandbox.app`) is the entry point;
the other modules are its parts: ``state`` (the shop), ``admin_schema.graphql`` with
``graphql_schema``, ``graphql_types`` and ``graphql_roots`` (the GraphQL API), ``rest`` and
``rest_views`` (the REST API), ``bulk`` (bulk operations), ``cost`` (the query-cost
throttle), ``search`` (Shopify's search syntax) and ``paging`` (Relay connections).
"""

from omnisdk_shopify.sandbox.app import ShopifySandbox

__all__ = ["ShopifySandbox"]
