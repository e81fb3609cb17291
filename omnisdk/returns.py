"""A channel's book of the platform's returns, for platforms where a return is its own object.

On some platforms nothing on an order says what was paid back: the returns (or refund
documents) are separate objects, listed by their own change time. A channel keeps a
:class:`ReturnBook` of them, read from where its last read ended, and hands each order it
yields the returns of that order, so the mapping can add up what was paid back and every
read of an order, by poll or webhook, carries the whole of it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReturnBook"]


class ReturnBook:
    """Returns seen so far, by order key then return key, the newest version of each.

    ``read_until`` is where the reads have come to (the channel's own measure of time,
    e.g. unix seconds or an aware datetime), None before the first read.
    """

    def __init__(self) -> None:
        self._by_order: dict[str, dict[str, tuple[Any, dict[str, Any]]]] = {}
        self.read_until: Any = None

    def add(self, order_key: str, return_key: str, version: Any, entry: dict[str, Any]) -> bool:
        """Keep ``entry`` (version ``version``, comparable) unless a version as new of the
        same return is kept; True when it changed what is known of ``order_key``."""
        if not order_key or not return_key:
            return False
        kept = self._by_order.setdefault(order_key, {})
        known = kept.get(return_key)
        if known is not None and known[0] >= version:
            return False
        kept[return_key] = (version, dict(entry))
        return True

    def of(self, order_key: str) -> list[dict[str, Any]]:
        """The returns of ``order_key``, in the order their keys sort."""
        kept = self._by_order.get(order_key, {})
        return [kept[key][1] for key in sorted(kept)]

    def __len__(self) -> int:
        return sum(len(kept) for kept in self._by_order.values())
