"""The emulated shop's state: ``records`` (the objects), ``shop`` (:class:`ShopState`, what the
shop holds and the operations on it) and ``order_flow`` (check-out, fulfilment,
cancellation)."""
