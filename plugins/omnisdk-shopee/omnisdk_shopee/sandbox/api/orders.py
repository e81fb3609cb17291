"""Sandbox handlers of Shopee's order paths.

``get_order_list`` refuses a window over 15 days (``order.order_list_invalid_time``) and pages
with an opaque string cursor; ``get_order_detail`` takes at most 50 order numbers and returns
the optional fields asked for, buyer data masked as Shopee masks it; ``get_shipment_list``
lists orders waiting to ship.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_shopee.sandbox.api.gateway import (
    ShopeeApi,
    ShopeeApiError,
    array_param,
    int_param,
    json_number,
    param_error,
    shopee_response,
)

if TYPE_CHECKING:
    from omnisdk_shopee.sandbox.state.orders import SandboxOrder

__all__ = ["MAX_DETAIL_ORDERS", "MAX_WINDOW_SECONDS", "OrdersApi"]

MAX_WINDOW_SECONDS = 15 * 86400
MAX_DETAIL_ORDERS = 50
MAX_PAGE_SIZE = 100
STATUSES = frozenset(
    {
        "UNPAID",
        "READY_TO_SHIP",
        "PROCESSED",
        "SHIPPED",
        "COMPLETED",
        "IN_CANCEL",
        "CANCELLED",
        "INVOICE_PENDING",
        "RETRY_SHIP",
        "TO_CONFIRM_RECEIVE",
        "TO_RETURN",
    }
)


def _cursor(key: tuple[int, str]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}|{key[1]}".encode()).decode()


def _after(cursor: str) -> tuple[int, str] | None:
    if not cursor:
        return None
    try:
        stamp, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return int(stamp), number
    except (ValueError, UnicodeDecodeError):
        raise param_error("invalid cursor.") from None


class OrdersApi(ShopeeApi):
    """Shopee's order endpoints, served for one sandbox."""

    def _page_params(self, request: Request) -> tuple[int, tuple[int, str] | None]:
        page_size = int_param(request, "page_size", required=True) or 0
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise param_error(f"page_size should be in [1, {MAX_PAGE_SIZE}].")
        return page_size, _after(request.query_params.get("cursor") or "")

    @route("GET", "/api/v2/order/get_order_list")
    def get_order_list(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/order/get_order_list``."""
        field = request.query_params.get("time_range_field") or ""
        if field not in ("create_time", "update_time"):
            raise param_error("time_range_field should be create_time or update_time.")
        since = int_param(request, "time_from", required=True) or 0
        until = int_param(request, "time_to", required=True) or 0
        if until < since or until - since > MAX_WINDOW_SECONDS:
            raise ShopeeApiError(
                "order.order_list_invalid_time",
                "Start time must be earlier than end time and diff in 15days.",
            )
        page_size, after = self._page_params(request)
        status = request.query_params.get("order_status") or ""
        if status and status not in STATUSES:
            raise param_error(f"order_status {status!r}.")
        optional = set(array_param(request, "response_optional_fields"))

        def key(order: SandboxOrder) -> tuple[int, str]:
            stamp = order.create_time if field == "create_time" else order.update_time
            return stamp, order.order_sn

        matching = sorted(
            (
                order
                for order in self.sandbox.orders.values()
                if since <= key(order)[0] <= until and (not status or order.status == status)
            ),
            key=key,
        )
        if after is not None:
            matching = [order for order in matching if key(order) > after]
        page, rest = matching[:page_size], matching[page_size:]
        self.sandbox.note_operation(request, "orders.read", items=len(page))
        entries: list[dict[str, Any]] = []
        for order in page:
            entry: dict[str, Any] = {"order_sn": order.order_sn}
            if "order_status" in optional:
                entry["order_status"] = order.status
            entries.append(entry)
        return shopee_response(
            self.sandbox.request_id(),
            {
                "more": bool(rest),
                "next_cursor": _cursor(key(page[-1])) if rest else "",
                "order_list": entries,
            },
        )

    @route("GET", "/api/v2/order/get_order_detail")
    def get_order_detail(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/order/get_order_detail``."""
        numbers = array_param(request, "order_sn_list", at_most=MAX_DETAIL_ORDERS)
        optional = set(array_param(request, "response_optional_fields"))
        found = [self.sandbox.orders[n] for n in dict.fromkeys(numbers) if n in self.sandbox.orders]
        missing = [n for n in numbers if n not in self.sandbox.orders]
        response = {"order_list": [order.detail(optional, json_number) for order in found]}
        warning = [f"order_sn {n} not found" for n in missing]
        return shopee_response(self.sandbox.request_id(), response, warning=warning or None)

    @route("GET", "/api/v2/order/get_shipment_list")
    def get_shipment_list(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/order/get_shipment_list``."""
        page_size, after = self._page_params(request)
        waiting = sorted(
            (
                order
                for order in self.sandbox.orders.values()
                if order.status in ("READY_TO_SHIP", "RETRY_SHIP")
            ),
            key=lambda o: (o.create_time, o.order_sn),
        )
        if after is not None:
            waiting = [o for o in waiting if (o.create_time, o.order_sn) > after]
        page, rest = waiting[:page_size], waiting[page_size:]
        last = page[-1] if page else None
        return shopee_response(
            self.sandbox.request_id(),
            {
                "more": bool(rest),
                "next_cursor": _cursor((last.create_time, last.order_sn)) if rest and last else "",
                "order_list": [
                    {"order_sn": o.order_sn, "package_number": o.package_number} for o in page
                ],
            },
        )
