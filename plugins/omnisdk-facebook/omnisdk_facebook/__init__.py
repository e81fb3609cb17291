"""omnisdk's Facebook channel: a Meta product catalog on omnisdk's canonical types.

::

    from omnisdk_facebook import FacebookChannel

    async with FacebookChannel({"app_id": "1234567890", "app_secret": "...",
                                "access_token": "EAAG...", "catalog_id": "111"},
                               account="fb-page") as catalog:
        async for product in catalog.stream_products():
            ...

Meta removed its order API (2026-10-27) and Vietnam has no Facebook Shops checkout, so the
channel is the catalog (products, prices, stock) and chat orders are recorded by the app
(:func:`omnisdk_facebook.chat.chat_order` + ``Engine.record_order``). The sandbox
(``omnisdk_facebook.sandbox``, extra ``omnisdk-facebook[sandbox]``) emulates the Graph paths;
Meta's own SDK (``facebook-business``) works against it with ``FacebookSession.GRAPH`` set.
"""

from importlib.metadata import PackageNotFoundError, version

from omnisdk_facebook.auth import appsecret_proof
from omnisdk_facebook.channel import FacebookChannel
from omnisdk_facebook.chat import ChatLine, chat_order
from omnisdk_facebook.settings import FacebookSettings

try:
    __version__ = version("omnisdk-facebook")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "ChatLine",
    "FacebookChannel",
    "FacebookSettings",
    "__version__",
    "appsecret_proof",
    "chat_order",
]
