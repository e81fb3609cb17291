"""The Lazada sandbox (needs the ``sandbox`` extra: starlette, uvicorn).

``LazadaSandbox()`` is an in-memory Lazada seller served as an ASGI app (``sandbox.app``);
``omnisdk sandbox lazada --port P`` serves one on loopback. Its parts:

- :mod:`~omnisdk_lazada.sandbox.app`: the :class:`LazadaSandbox` (control API hooks, gateway
  checks, call limit, faults and pushes in Lazada's shape);
- ``state/``: the seller (``catalog``, ``orders``, ``order_flow``, ``grants``);
- ``api/``: one module per Open Platform area (``auth``, ``products``, ``orders``) and
  ``gateway``, the request checks and envelopes they share.
"""

from omnisdk_lazada.sandbox.app import DEFAULT_CUSTOMER, LazadaSandbox

__all__ = ["DEFAULT_CUSTOMER", "LazadaSandbox"]
