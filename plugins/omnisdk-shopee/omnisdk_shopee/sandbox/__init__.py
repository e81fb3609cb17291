"""The Shopee sandbox (needs the ``sandbox`` extra: starlette, uvicorn).

``ShopeeSandbox()`` is an in-memory Shopee shop served as an ASGI app (``sandbox.app``); see
:mod:`omnisdk_shopee.sandbox.app`. ``omnisdk sandbox shopee --port P`` serves one on loopback.
"""

from omnisdk_shopee.sandbox.app import DEFAULT_CUSTOMER, ShopeeSandbox

__all__ = ["DEFAULT_CUSTOMER", "ShopeeSandbox"]
