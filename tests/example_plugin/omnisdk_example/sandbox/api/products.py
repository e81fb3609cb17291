"""``GET /products`` (page numbers from 1) and ``POST /prices/batch``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk.testing.sandbox import json_response
from omnisdk_example.sandbox.api.params import batch_items, int_param

if TYPE_CHECKING:
    from omnisdk_example.sandbox.app import ExampleSandbox

__all__ = ["MAX_PRODUCTS_PAGE", "ProductsApi"]

MAX_PRODUCTS_PAGE = 100
"""The largest ``limit`` of a ``GET /products`` page."""


class ProductsApi:
    """The catalog: products with their variants, and their prices."""

    def __init__(self, sandbox: ExampleSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[BaseRoute]:
        """This area's paths."""
        return [
            Route("/products", self.list_products, methods=["GET"]),
            Route("/prices/batch", self.write_prices, methods=["POST"]),
        ]

    async def list_products(self, request: Request) -> Response:
        """``GET /products?page=&limit=``: page numbers from 1; ``has_more``."""
        self.sandbox.authorise(request)
        page = int_param(request, "page", 1, low=1)
        limit = int_param(request, "limit", 50, low=1, high=MAX_PRODUCTS_PAGE)
        self.sandbox.note_operation(request, "products.read")
        with self.sandbox.lock:
            products = sorted(self.sandbox.products.values(), key=lambda p: p.id)
            chunk = products[(page - 1) * limit : page * limit]
            return json_response(
                {
                    "products": [p.as_json() for p in chunk],
                    "page": page,
                    "limit": limit,
                    "total": len(products),
                    "has_more": page * limit < len(products),
                }
            )

    async def write_prices(self, request: Request) -> Response:
        """``POST /prices/batch``: set prices (decimal strings in the listing's currency)."""
        self.sandbox.authorise(request)
        items = await batch_items(request)
        self.sandbox.note_operation(request, "price.write", items=len(items))
        with self.sandbox.lock:
            return json_response({"results": [self.sandbox.set_price(item) for item in items]})
