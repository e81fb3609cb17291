"""Sandbox handlers of Lazada's order paths.

``/orders/get`` needs ``created_after`` or ``update_after`` (bounds inclusive, to the second),
sorts by ``sort_by`` (``created_at``/``updated_at``) and ``sort_direction``, pages with
``limit`` (at most 100) and ``offset`` up to a ceiling (5,000 by default: then move the time
window), and counts ``countTotal``. ``/order/get`` and ``/order/items/get`` take one
``order_id``; ``/orders/items/get`` takes ``order_ids`` as ``[1,2]`` (at most 50).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_lazada.sandbox.api.gateway import (
    Call,
    LazadaApi,
    business_error,
    int_param,
    lazada_response,
)
from omnisdk_lazada.sandbox.api.products import parse_time_param
from omnisdk_lazada.sandbox.state.orders import SandboxOrder

__all__ = ["MAX_ITEMS_ORDERS", "MAX_PAGE_SIZE", "OrdersApi"]

MAX_PAGE_SIZE = 100
MAX_ITEMS_ORDERS = 50
STATUS_FILTERS = frozenset(
    {
        "unpaid",
        "pending",
        "packed",
        "repacked",
        "ready_to_ship",
        "shipped",
        "delivered",
        "canceled",
        "returned",
        "failed",
        "topack",
        "toship",
        "shipping",
    }
)
_ALIASES = {
    "topack": {"pending"},
    "toship": {"packed", "repacked"},
    "shipping": {"ready_to_ship", "shipped"},
}
_ID_LIST = re.compile(r"^\[\s*\d+(\s*,\s*\d+)*\s*\]$")


def money(value: Decimal) -> float:
    """An item amount as Lazada writes it: a JSON number (``150000.0``)."""
    return float(value)


class OrdersApi(LazadaApi):
    """Lazada's order endpoints, served for one sandbox."""

    @route("GET", "/orders/get")
    def orders_get(self, request: Request, call: Call) -> Response:
        """``GET /orders/get``."""
        sandbox = self.sandbox
        created_after = parse_time_param(call, "created_after")
        created_before = parse_time_param(call, "created_before")
        update_after = parse_time_param(call, "update_after")
        update_before = parse_time_param(call, "update_before")
        if created_after is None and update_after is None:
            raise business_error(
                "MissingParameter", "created_after or update_after is required", kind="ISV"
            )
        status = call.get("status")
        if status is not None and status not in STATUS_FILTERS:
            raise business_error("36", f"E036: Invalid status filter {status!r}")
        sort_by = call.get("sort_by", "created_at")
        if sort_by not in ("created_at", "updated_at"):
            raise business_error("74", f"E074: Invalid sort filter {sort_by!r}")
        direction = (call.get("sort_direction", "DESC") or "DESC").upper()
        if direction not in ("ASC", "DESC"):
            raise business_error("75", f"E075: Invalid sort direction {direction!r}")
        offset = int_param(call, "offset", default=0, code="14") or 0
        limit = int_param(call, "limit", default=MAX_PAGE_SIZE, code="19") or 0
        if offset < 0 or offset > sandbox.order_offset_ceiling:
            raise business_error(
                "14",
                f"E014: Invalid Offset (at most {sandbox.order_offset_ceiling}: "
                "narrow the time window)",
            )
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise business_error("19", f"E019: Invalid Limit (1 to {MAX_PAGE_SIZE})")
        wanted = _ALIASES.get(status or "", {status} if status else None)

        # Bounds are whole seconds, inclusive: t >= after, and t <= before (t < before + 1).
        low_c = int(created_after) if created_after is not None else None
        high_c = int(created_before) + 1 if created_before is not None else None
        low_u = int(update_after) if update_after is not None else None
        high_u = int(update_before) + 1 if update_before is not None else None
        matching = [
            o
            for o in sandbox.flow.orders.values()
            if (low_c is None or o.created >= low_c)
            and (high_c is None or o.created < high_c)
            and (low_u is None or o.updated >= low_u)
            and (high_u is None or o.updated < high_u)
            and (wanted is None or bool(wanted & set(o.statuses)))
        ]
        by_update = sort_by == "updated_at"
        matching.sort(
            key=lambda o: (int(o.updated if by_update else o.created), o.order_id),
            reverse=direction == "DESC",
        )
        page = matching[offset : offset + limit]
        sandbox.note_operation(request, "orders.read", items=len(page))
        return lazada_response(
            sandbox.request_id(),
            {
                "count": len(page),
                "countTotal": len(matching),
                "orders": [order.entry(money) for order in page],
            },
        )

    def _order(self, call: Call) -> SandboxOrder:
        raw = call.get("order_id")
        if raw is None:
            raise business_error(
                "MissingParameter", "missing required parameter: order_id", kind="ISV"
            )
        order = self.sandbox.flow.orders.get(raw.strip())
        if order is None:
            raise business_error("16", "E016: Invalid Order ID")
        return order

    @route("GET", "/order/get")
    def order_get(self, request: Request, call: Call) -> Response:
        """``GET /order/get``."""
        return lazada_response(self.sandbox.request_id(), self._order(call).entry(money))

    @route("GET", "/order/items/get")
    def order_items_get(self, request: Request, call: Call) -> Response:
        """``GET /order/items/get``: a flat list of the order's items."""
        return lazada_response(self.sandbox.request_id(), self._order(call).item_entries(money))

    @route("GET", "/orders/items/get")
    def orders_items_get(self, request: Request, call: Call) -> Response:
        """``GET /orders/items/get``: ``order_ids`` as ``[1,2]``, at most 50."""
        raw = call.get("order_ids")
        if raw is None:
            raise business_error("37", "E037: order_ids is required")
        if not _ID_LIST.match(raw.strip()):
            raise business_error("56", "E056: order_ids must use array format [1,2]")
        ids = [part.strip() for part in raw.strip()[1:-1].split(",")]
        if len(ids) > MAX_ITEMS_ORDERS:
            raise business_error("38", "E038: Too many orders were requested")
        data: list[dict[str, Any]] = []
        for order_id in dict.fromkeys(ids):
            order = self.sandbox.flow.orders.get(order_id)
            if order is None:
                raise business_error("39", "E039: No orders were found")
            data.append(
                {
                    "order_id": order.order_id,
                    "order_number": order.order_id,
                    "order_items": order.item_entries(money),
                }
            )
        self.sandbox.note_operation(request, "orders.items", items=len(data))
        return lazada_response(self.sandbox.request_id(), data)
