"""Shopee's returns, read for the orders they belong to (``v2.returns.get_return_list``).

A return is its own object on Shopee: the order keeps its status and lines, and nothing on
the order says what was paid back. So the channel keeps a :class:`ReturnBook` of the shop's
returns, read by update time from where the last read ended (the first read goes back
``history_days``), and every order it yields carries the returns of its ``order_sn`` under
``"returns"``; the mapping adds up what they paid back (:func:`refunded`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

__all__ = ["PAID_BACK", "RETURN_PAGE_SIZE", "RETURN_WINDOW_SECONDS", "ReturnBook", "read_returns"]

RETURN_PAGE_SIZE = 100
"""``get_return_list``: at most 100 returns per page."""
RETURN_WINDOW_SECONDS = 15 * 86400
"""The widest ``update_time`` window of one ``get_return_list`` walk [?: as for orders]."""
PAID_BACK = frozenset({"REFUND_PAID"})
"""Return statuses whose ``refund_amount`` the buyer has been paid."""

Call = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""One signed ``get_return_list`` call with these query parameters; its answer."""


class ReturnBook:
    """The shop's returns seen so far, by ``order_sn`` then ``return_sn`` (the newest
    version of each), and how far the reads have come (``read_until``, unix seconds)."""

    def __init__(self) -> None:
        self._by_order: dict[str, dict[str, dict[str, Any]]] = {}
        self.read_until: int | None = None

    def add(self, entry: dict[str, Any]) -> str | None:
        """Keep ``entry`` unless a newer version of it is kept; its ``order_sn`` when it
        changed what is known of that order, else None."""
        order_sn = str(entry.get("order_sn") or "")
        return_sn = str(entry.get("return_sn") or "")
        if not order_sn or not return_sn:
            return None
        kept = self._by_order.setdefault(order_sn, {})
        known = kept.get(return_sn)
        if known is not None and int(known.get("update_time") or 0) >= int(
            entry.get("update_time") or 0
        ):
            return None
        kept[return_sn] = dict(entry)
        return order_sn

    def of(self, order_sn: str) -> list[dict[str, Any]]:
        """The returns of ``order_sn``, oldest first."""
        kept = self._by_order.get(order_sn, {})
        return sorted(kept.values(), key=lambda e: (int(e.get("create_time") or 0), e["return_sn"]))


async def read_returns(
    book: ReturnBook, call: Call, windows: Iterable[tuple[int, int]]
) -> set[str]:
    """Every return updated in ``windows`` into ``book``; the orders whose returns changed."""
    changed: set[str] = set()
    for since, until in windows:
        page_no = 0
        while True:
            answer = await call(
                {
                    "page_no": page_no,
                    "page_size": RETURN_PAGE_SIZE,
                    "update_time_from": since,
                    "update_time_to": until,
                }
            )
            page = answer.get("response") or {}
            for entry in page.get("return") or []:
                order_sn = book.add(entry)
                if order_sn:
                    changed.add(order_sn)
            if not page.get("more") or not page.get("return"):
                break
            page_no += 1
    return changed
