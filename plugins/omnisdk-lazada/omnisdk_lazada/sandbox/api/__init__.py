"""The sandbox's Lazada Open Platform paths, one module per area (auth, products, orders) and
``gateway``, the request checks and envelopes they share."""
