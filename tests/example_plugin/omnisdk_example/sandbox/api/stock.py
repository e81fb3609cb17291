"""``GET /stock`` and ``POST /stock/batch`` (compare-and-swap with ``expected``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk.testing.sandbox import SandboxError, json_response
from omnisdk_example.sandbox.api.params import batch_items

if TYPE_CHECKING:
    from omnisdk_example.sandbox.app import ExampleSandbox

__all__ = ["MAX_STOCK_SKUS", "StockApi"]

MAX_STOCK_SKUS = 50
"""The most SKUs one ``GET /stock`` call takes."""


class StockApi:
    """Listed stock per SKU."""

    def __init__(self, sandbox: ExampleSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[BaseRoute]:
        """This area's paths."""
        return [
            Route("/stock", self.get_stock, methods=["GET"]),
            Route("/stock/batch", self.write_stock, methods=["POST"]),
        ]

    async def get_stock(self, request: Request) -> Response:
        """``GET /stock?skus=a,b``: listed stock of known SKUs (all when none given)."""
        self.sandbox.authorise(request)
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

    async def write_stock(self, request: Request) -> Response:
        """``POST /stock/batch``: set listed stock; ``expected`` makes it a compare-and-swap."""
        self.sandbox.authorise(request)
        items = await batch_items(request)
        self.sandbox.note_operation(request, "stock.write", items=len(items))
        with self.sandbox.lock:
            return json_response({"results": [self.sandbox.set_stock(item) for item in items]})
