"""``GET /shop`` and ``GET /locations``: who the shop is and where its stock is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk.testing.sandbox import json_response

if TYPE_CHECKING:
    from omnisdk_example.sandbox.app import ExampleSandbox

__all__ = ["ShopApi"]


class ShopApi:
    """The shop's own details."""

    def __init__(self, sandbox: ExampleSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[BaseRoute]:
        """This area's paths."""
        return [
            Route("/shop", self.get_shop, methods=["GET"]),
            Route("/locations", self.list_locations, methods=["GET"]),
        ]

    async def get_shop(self, request: Request) -> Response:
        """``GET /shop``: name, currency, time zone."""
        self.sandbox.authorise(request)
        return json_response(
            {"name": "Cửa hàng Ví Dụ", "currency": "VND", "timezone": "Asia/Ho_Chi_Minh"}
        )

    async def list_locations(self, request: Request) -> Response:
        """``GET /locations``: warehouses and stores."""
        self.sandbox.authorise(request)
        with self.sandbox.lock:
            return json_response({"locations": self.sandbox.locations})
