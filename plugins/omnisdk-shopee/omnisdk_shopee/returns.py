"""Shopee's returns, read for the orders they belong to (``v2.returns.get_return_list``).

A return is its own object on Shopee: the order keeps its status and lines, and nothing on
the order says what was paid back. So the channel keeps a
:class:`~omnisdk.returns.ReturnBook` of the shop's returns, read by update time from where
the last read ended (the first read goes back ``history_days``), and every order it yields
carries the returns of its ``order_sn`` under ``"returns"``; the mapping adds up what they
paid back (:func:`omnisdk_shopee.mapping.refund_total`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from omnisdk.returns import ReturnBook

__all__ = ["PAID_BACK", "RETURN_PAGE_SIZE", "RETURN_WINDOW_SECONDS", "read_returns"]

RETURN_PAGE_SIZE = 100
"""``get_return_list``: at most 100 returns per page."""
RETURN_WINDOW_SECONDS = 15 * 86400
"""The widest ``update_time`` window of one ``get_return_list`` walk [?: as for orders]."""
PAID_BACK = frozenset({"REFUND_PAID"})
"""Return statuses whose ``refund_amount`` the buyer has been paid."""

Call = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""One signed ``get_return_list`` call with these query parameters; its answer."""


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
                order_sn = str(entry.get("order_sn") or "")
                version = int(entry.get("update_time") or 0)
                if book.add(order_sn, str(entry.get("return_sn") or ""), version, entry):
                    changed.add(order_sn)
            if not page.get("more") or not page.get("return"):
                break
            page_no += 1
    return changed
