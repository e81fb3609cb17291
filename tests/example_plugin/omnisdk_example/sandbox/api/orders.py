"""``GET /orders`` (oldest change first, by cursor) and ``GET /orders/{id}``."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk_example.sandbox.api.gateway import ExampleApi
from omnisdk_example.sandbox.api.params import decode_cursor, encode_cursor, int_param, time_param

__all__ = ["MAX_ORDERS_PAGE", "OrdersApi"]

MAX_ORDERS_PAGE = 50
"""The largest ``limit`` of a ``GET /orders`` page."""


class OrdersApi(ExampleApi):
    """Orders, as buyers placed them and the shop moved them on."""

    @route("GET", "/orders")
    async def list_orders(self, request: Request) -> Response:
        """``GET /orders?updated_since=&cursor=&limit=``: oldest change first."""
        limit = int_param(request, "limit", 10, low=1, high=MAX_ORDERS_PAGE)
        since = time_param(request, "updated_since")
        after = decode_cursor(request.query_params.get("cursor"))
        self.sandbox.note_operation(request, "orders.read")
        with self.sandbox.lock:
            keyed = sorted(
                (
                    (datetime.fromisoformat(o["updated_at"]), o["id"], o)
                    for o in self.sandbox.orders.values()
                ),
                key=lambda t: (t[0], t[1]),
            )
            rows = [
                (at, oid, o)
                for at, oid, o in keyed
                if (since is None or at >= since) and (after is None or (at, oid) > after)
            ]
            page = rows[:limit]
            cursor = encode_cursor(page[-1][0], page[-1][1]) if len(rows) > limit else None
            return json_response({"orders": [dict(o) for _, _, o in page], "next_cursor": cursor})

    @route("GET", "/orders/{order_id}")
    async def get_order(self, request: Request) -> Response:
        """``GET /orders/{id}``."""
        with self.sandbox.lock:
            return json_response(dict(self.sandbox.find_order(request.path_params["order_id"])))
