"""``GET /customers``: the shop's buyers, page numbers from 1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk.testing.sandbox import json_response
from omnisdk_example.sandbox.api.params import int_param

if TYPE_CHECKING:
    from omnisdk_example.sandbox.app import ExampleSandbox

__all__ = ["MAX_CUSTOMERS_PAGE", "CustomersApi"]

MAX_CUSTOMERS_PAGE = 100
"""The largest ``limit`` of a ``GET /customers`` page."""


class CustomersApi:
    """The buyers who placed orders."""

    def __init__(self, sandbox: ExampleSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[BaseRoute]:
        """This area's paths."""
        return [Route("/customers", self.list_customers, methods=["GET"])]

    async def list_customers(self, request: Request) -> Response:
        """``GET /customers?page=&limit=``."""
        self.sandbox.authorise(request)
        page = int_param(request, "page", 1, low=1)
        limit = int_param(request, "limit", 50, low=1, high=MAX_CUSTOMERS_PAGE)
        with self.sandbox.lock:
            customers = sorted(self.sandbox.customers.values(), key=lambda c: str(c["id"]))
            chunk = customers[(page - 1) * limit : page * limit]
            return json_response(
                {"customers": chunk, "page": page, "has_more": page * limit < len(customers)}
            )
