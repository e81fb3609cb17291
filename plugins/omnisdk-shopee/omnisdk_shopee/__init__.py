"""omnisdk's Shopee channel: the Shopee Open Platform (API v2) on omnisdk's canonical types.

::

    from omnisdk_shopee import ShopeeChannel

    async with ShopeeChannel({"partner_id": 2001887, "partner_key": "...", "shop_id": 322300222,
                              "access_token": "...", "refresh_token": "..."},
                             account="hcm-shop") as shop:
        async for order in shop.stream_orders(updated_since=yesterday):
            ...

The sandbox (``omnisdk_shopee.sandbox``, extra ``omnisdk-shopee[sandbox]``) emulates the API
paths the channel uses, with real signature checks.
"""

from importlib.metadata import PackageNotFoundError, version

from omnisdk_shopee.channel import ShopeeChannel
from omnisdk_shopee.client import Signer
from omnisdk_shopee.settings import ShopeeSettings

try:
    __version__ = version("omnisdk-shopee")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["ShopeeChannel", "ShopeeSettings", "Signer", "__version__"]
