"""``GET /stock`` and ``POST /stock/batch`` (compare-and-swap with ``expected``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import SandboxError
from omnisdk_example.sandbox.api.gateway import ExampleApi
from omnisdk_example.sandbox.api.params import batch_items

__all__ = ["MAX_STOCK_SKUS", "StockApi"]

MAX_STOCK_SKUS = 50
"""The most SKUs one ``GET /stock`` call takes."""


class StockApi(ExampleApi):
    """Listed stock per SKU."""

    @route("GET", "/stock")
    async def get_stock(self, request: Request) -> Response:
        """``GET /stock?skus=a,b``: listed stock of known SKUs (all when none given)."""
        wanted = [s for s in request.query_params.get("skus", "").split(",") if s]
        if len(wanted) > MAX_STOCK_SKUS:
            raise SandboxError(f"at most {MAX_STOCK_SKUS} SKUs per call", max=MAX_STOCK_SKUS)
        with self.sandbox.lock:
            variants = self.sandbox.variants
            chosen = (
                [variants[s] for s in wanted if s in variants]
                if wanted
                else list(variants.values())
            )
            return json_response({"stock": [self.sandbox.stock_entry(v) for v in chosen]})

    @route("POST", "/stock/batch")
    async def write_stock(self, request: Request) -> Response:
        """``POST /stock/batch``: set listed stock; ``expected`` makes it a compare-and-swap."""
        items = await batch_items(request)
        self.sandbox.note_operation(request, "stock.write", items=len(items))
        with self.sandbox.lock:
            return json_response({"results": [self.sandbox.set_stock(item) for item in items]})
