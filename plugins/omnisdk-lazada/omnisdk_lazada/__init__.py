"""omnisdk's Lazada channel: the Lazada Open Platform (LazOP) on omnisdk's canonical types.

::

    from omnisdk_lazada import LazadaChannel

    async with LazadaChannel({"app_key": "123456", "app_secret": "...", "site": "VN",
                              "access_token": "...", "refresh_token": "..."},
                             account="lazada-vn") as seller:
        async for order in seller.stream_orders(updated_since=yesterday):
            ...

The sandbox (``omnisdk_lazada.sandbox``, extra ``omnisdk-lazada[sandbox]``) emulates the API
paths the channel uses, with real signature checks; Lazada's own SDK (``lazop-sdk``) works
against it with only its server URL changed.
"""

from importlib.metadata import PackageNotFoundError, version

from omnisdk_lazada.channel import LazadaChannel
from omnisdk_lazada.client import Signer
from omnisdk_lazada.settings import LazadaSettings

try:
    __version__ = version("omnisdk-lazada")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["LazadaChannel", "LazadaSettings", "Signer", "__version__"]
