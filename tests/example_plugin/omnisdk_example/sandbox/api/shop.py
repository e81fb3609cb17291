"""``GET /shop`` and ``GET /locations``: who the shop is and where its stock is."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk_example.sandbox.api.gateway import ExampleApi

__all__ = ["ShopApi"]


class ShopApi(ExampleApi):
    """The shop's own details."""

    @route("GET", "/shop")
    async def get_shop(self, request: Request) -> Response:
        """``GET /shop``: name, currency, time zone."""
        return json_response(
            {"name": "Cửa hàng Ví Dụ", "currency": "VND", "timezone": "Asia/Ho_Chi_Minh"}
        )

    @route("GET", "/locations")
    async def list_locations(self, request: Request) -> Response:
        """``GET /locations``: warehouses and stores."""
        with self.sandbox.lock:
            return json_response({"locations": self.sandbox.locations})
