"""omnisdk-shopify: the Shopify channel for omnisdk.

``ShopifyChannel`` talks to the Shopify Admin API for one shop; ``ShopifySettings`` is its
``[[channels]]`` entry. The sandbox (``omnisdk_shopify.sandbox``) needs the ``sandbox`` extra.
"""

from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.settings import ShopifySettings

__all__ = ["ShopifyChannel", "ShopifySettings"]
