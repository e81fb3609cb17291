"""Walking a long time span in windows no longer than Shopee allows.

``get_order_list`` refuses ``time_to - time_from`` over 15 days. :func:`time_windows` cuts a
span into consecutive windows that together cover every second of it exactly once:
``[start, start + size]``, then ``[start + size + 1, ...]`` (Shopee's bounds are inclusive
unix seconds).
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["ORDER_WINDOW_SECONDS", "time_windows"]

ORDER_WINDOW_SECONDS = 15 * 86400
"""The widest ``get_order_list`` window: 15 days."""


def time_windows(
    start: int, end: int, size: int = ORDER_WINDOW_SECONDS
) -> Iterator[tuple[int, int]]:
    """Inclusive ``(from, to)`` windows of at most ``size`` seconds covering ``[start, end]``.

    No second is left out and none is in two windows; ``start > end`` gives nothing.
    """
    if size < 1:
        raise ValueError(f"window size must be at least 1 second, got {size}")
    current = start
    while current <= end:
        upper = min(current + size, end)
        yield current, upper
        current = upper + 1
