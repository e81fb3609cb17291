"""omnisdk's POS channel: a retailer's stores on omnisdk's canonical types (KiotViet first).

::

    from omnisdk_pos import PosChannel

    async with PosChannel({"client_id": "...", "client_secret": "...",
                           "retailer": "cuahangabc"}, account="stores") as pos:
        async for location in pos.stream_locations():      # branches: stock and pick-up
            ...
        async for order in pos.stream_orders(updated_since=yesterday):   # counter sales
            ...

The sandbox (``omnisdk_pos.sandbox``, extra ``omnisdk-pos[sandbox]``) emulates the KiotViet
Public API and its identity server.
"""

from importlib.metadata import PackageNotFoundError, version

from omnisdk_pos.channel import PosChannel
from omnisdk_pos.settings import PosSettings

try:
    __version__ = version("omnisdk-pos")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["PosChannel", "PosSettings", "__version__"]
