"""SandboxApi / route: an API area's marked methods become routes, wrapped by its endpoint()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from omnisdk.testing.api import SandboxApi, route


class Shop:
    """Stands in for a sandbox: what the endpoints reach through ``self.sandbox``."""

    name = "Cửa hàng Huế"


class ItemsApi(SandboxApi[Shop]):
    prefix: ClassVar[str] = "/api/v1"

    @route("GET", "/items")
    async def list_items(self, request: Request) -> Response:
        return PlainTextResponse(f"items of {self.sandbox.name}")

    @route("POST", "/items")
    @route("PUT", "/items/{id:int}")
    async def write_item(self, request: Request) -> Response:
        return PlainTextResponse(f"{request.method} {request.path_params.get('id', 'new')}")

    async def helper(self, request: Request) -> Response:  # not marked: not routed
        return PlainTextResponse("hidden")


class GuardedItemsApi(ItemsApi):
    """Every endpoint wants a key; ``list_items`` is overridden, keeping its place."""

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        async def guarded(request: Request) -> Response:
            if request.headers.get("x-key") != "bi-mat":
                return PlainTextResponse("no", status_code=401)
            response: Response = await handler(request)
            return response

        return guarded

    @route("GET", "/items")
    async def list_items(self, request: Request) -> Response:
        return PlainTextResponse("guarded items")


def _client(api: SandboxApi[Shop]) -> httpx.AsyncClient:
    app = Starlette(routes=api.routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_marked_methods_are_routed_below_the_prefix() -> None:
    routes = ItemsApi(Shop()).routes()
    assert [(r.path, sorted(r.methods or ())) for r in routes if isinstance(r, Route)] == [
        ("/api/v1/items", ["GET", "HEAD"]),
        ("/api/v1/items", ["POST"]),
        ("/api/v1/items/{id:int}", ["PUT"]),
    ]
    async with _client(ItemsApi(Shop())) as http:
        assert (await http.get("/api/v1/items")).text == "items of Cửa hàng Huế"
        assert (await http.post("/api/v1/items")).text == "POST new"
        assert (await http.put("/api/v1/items/7")).text == "PUT 7"


async def test_endpoint_wraps_every_route_and_overrides_keep_their_place() -> None:
    api = GuardedItemsApi(Shop())
    assert next(r.path for r in api.routes() if isinstance(r, Route)) == "/api/v1/items"
    async with _client(api) as http:
        assert (await http.get("/api/v1/items")).status_code == 401
        answer = await http.get("/api/v1/items", headers={"x-key": "bi-mat"})
        assert answer.text == "guarded items"
        assert (await http.put("/api/v1/items/3", headers={"x-key": "bi-mat"})).text == "PUT 3"
