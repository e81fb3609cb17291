"""``GET /products`` (page numbers from 1) and ``POST /prices/batch``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk_example.sandbox.api.gateway import ExampleApi
from omnisdk_example.sandbox.api.params import NumberedPage, batch_items

__all__ = ["MAX_PRODUCTS_PAGE", "ProductsApi"]

MAX_PRODUCTS_PAGE = 100
"""The largest ``limit`` of a ``GET /products`` page."""


class ProductsApi(ExampleApi):
    """The catalog: products with their variants, and their prices."""

    @route("GET", "/products")
    async def list_products(self, request: Request) -> Response:
        """``GET /products?page=&limit=``: page numbers from 1; ``has_more``."""
        page = NumberedPage.of(request, max_limit=MAX_PRODUCTS_PAGE)
        self.sandbox.note_operation(request, "products.read")
        with self.sandbox.lock:
            products = sorted(self.sandbox.products.values(), key=lambda p: p.id)
            return json_response(
                {
                    "products": [p.as_json() for p in page.cut(products)],
                    "page": page.number,
                    "limit": page.limit,
                    "total": len(products),
                    "has_more": page.has_more(products),
                }
            )

    @route("POST", "/prices/batch")
    async def write_prices(self, request: Request) -> Response:
        """``POST /prices/batch``: set prices (decimal strings in the listing's currency)."""
        items = await batch_items(request)
        self.sandbox.note_operation(request, "price.write", items=len(items))
        with self.sandbox.lock:
            return json_response({"results": [self.sandbox.set_price(item) for item in items]})
