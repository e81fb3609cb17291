"""``GET /customers``: the shop's buyers, page numbers from 1."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk_example.sandbox.api.gateway import ExampleApi
from omnisdk_example.sandbox.api.params import NumberedPage

__all__ = ["MAX_CUSTOMERS_PAGE", "CustomersApi"]

MAX_CUSTOMERS_PAGE = 100
"""The largest ``limit`` of a ``GET /customers`` page."""


class CustomersApi(ExampleApi):
    """The buyers who placed orders."""

    @route("GET", "/customers")
    async def list_customers(self, request: Request) -> Response:
        """``GET /customers?page=&limit=``."""
        page = NumberedPage.of(request, max_limit=MAX_CUSTOMERS_PAGE)
        with self.sandbox.lock:
            customers = sorted(self.sandbox.customers.values(), key=lambda c: str(c["id"]))
            return json_response(
                {
                    "customers": page.cut(customers),
                    "page": page.number,
                    "has_more": page.has_more(customers),
                }
            )
