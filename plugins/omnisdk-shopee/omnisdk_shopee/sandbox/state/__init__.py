"""The sandbox shop's state: ``catalog`` (items, models, seller stock), ``orders`` (orders
and masked buyer data), ``order_flow`` (check-out, status flow, cancellation) and ``grants``
(authorisation codes and tokens)."""
