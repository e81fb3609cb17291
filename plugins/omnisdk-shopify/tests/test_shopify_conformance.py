"""The omnisdk channel conformance suite, run against the Shopify sandbox."""

from omnisdk.testing import ChannelConformance
from omnisdk_shopify.channel import ShopifyChannel
from omnisdk_shopify.sandbox.app import ShopifySandbox


class TestShopifyConformance(ChannelConformance):
    """Every conformance test, Shopify channel against Shopify sandbox."""

    channel_class = ShopifyChannel
    sandbox_class = ShopifySandbox
