"""The KiotViet sandbox of the POS channel (needs the ``sandbox`` extra: starlette, uvicorn).

``KiotVietSandbox()`` is an in-memory KiotViet retailer served as an ASGI app
(``sandbox.app``); ``omnisdk sandbox pos --port P`` serves one on loopback. Its parts:

- :mod:`~omnisdk_pos.sandbox.app`: the :class:`KiotVietSandbox` (gateway checks, webhooks,
  the control API's hooks, cashier and buyer helpers);
- ``state/``: the shop (``shop``: branches, products, stock ledger, documents, customers)
  and who may call it (``access``: tokens, the hourly GET budget);
- ``api/``: one module per API area (``auth``, ``catalog``, ``documents``, ``webhooks``) over
  ``gateway``, the checks and shapes they share.
"""

from omnisdk_pos.sandbox.app import KiotVietSandbox, PosBuyerOrder

__all__ = ["KiotVietSandbox", "PosBuyerOrder"]
