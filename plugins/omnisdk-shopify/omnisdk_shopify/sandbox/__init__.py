"""The Shopify sandbox: an in-memory shop behind the Admin API (needs the ``sandbox`` extra).

:class:`ShopifySandbox` (defined in :mod:`omnisdk_shopify.sandbox.app`) is the entry point;
the rest are its parts:

- ``state/``: the shop (``records``, the objects; ``shop``, what it holds and the operations
  on it; ``order_flow``, check-out, fulfilment and cancellation);
- ``api/``: one module per Admin API area: ``graphql/`` (``admin_schema.graphql`` with its
  schema, resolvers, cost throttle, search syntax and Relay paging), ``rest`` with
  ``rest_views`` (the REST subset, and the REST-shaped webhook payloads), ``bulk`` (bulk
  operations), ``oauth`` (app installs and tokens) and ``gateway`` (access, call limit and
  Shopify's JSON answers, shared by every area).
"""

from omnisdk_shopify.sandbox.app import ShopifySandbox

__all__ = ["ShopifySandbox"]
