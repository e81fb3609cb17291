"""The Shopee Open Platform v2 API areas the sandbox serves, one module each.

``gateway`` does what Shopee's gateway does before any handler (common parameters, signature,
timestamp, token) and writes Shopee's envelopes; ``auth``, ``products``, ``orders`` and
``push`` each hold one class of endpoints bound to a :class:`ShopeeSandbox`.
"""
