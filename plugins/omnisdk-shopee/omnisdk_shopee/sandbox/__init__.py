"""The Shopee sandbox (needs the ``sandbox`` extra: starlette, uvicorn).

``ShopeeSandbox()`` is an in-memory Shopee shop served as an ASGI app (``sandbox.app``);
``omnisdk sandbox shopee --port P`` serves one on loopback. Its parts:

- :mod:`~omnisdk_shopee.sandbox.app`: the :class:`ShopeeSandbox` (control API hooks, gateway
  checks, call limit, faults and pushes in Shopee's shape);
- ``state/``: the shop (``catalog``, ``orders``, ``order_flow``, ``grants``);
- ``api/``: one module per Open Platform area (``auth``, ``products``, ``orders``, ``push``),
  and ``gateway``, the request checks and envelopes they share.
"""

from omnisdk_shopee.sandbox.app import DEFAULT_CUSTOMER, ShopeeSandbox

__all__ = ["DEFAULT_CUSTOMER", "ShopeeSandbox"]
