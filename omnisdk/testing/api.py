"""A sandbox's platform API, one class per API area, endpoints routed by decorator.

Each area of the platform's API (auth, products, orders, ...) is a :class:`SandboxApi`
subclass bound to the sandbox; its endpoints are methods marked with :func:`route`, and
:meth:`SandboxApi.routes` turns them into Starlette routes for
:meth:`~omnisdk.testing.sandbox.Sandbox.platform_routes`::

    class ProductsApi(SandboxApi["ShopSandbox"]):
        prefix = "/api/v1"

        @route("GET", "/products")
        async def list_products(self, request: Request) -> Response:
            with self.sandbox.lock:
                return json_response({"products": self.sandbox.products()})

    class ShopSandbox(Sandbox):
        def platform_routes(self) -> list[BaseRoute]:
            return [*ProductsApi(self).routes(), *OrdersApi(self).routes()]

An area whose every endpoint passes the same checks (a token, a call limit) overrides
:meth:`SandboxApi.endpoint` to wrap them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from starlette.routing import BaseRoute, Route

__all__ = ["SandboxApi", "route"]

SandboxT = TypeVar("SandboxT")
Handler = TypeVar("Handler", bound=Callable[..., Any])

_ROUTE_MARK = "__sandbox_route__"


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Mark a :class:`SandboxApi` method as the endpoint of ``method`` ``path``.

    ``path`` is a Starlette path (``/orders/{id:int}.json``) below the class's
    :attr:`SandboxApi.prefix`. A method may carry several marks (routed top to bottom).
    """

    def mark(handler: Handler) -> Handler:
        # decorators apply bottom-up: put this mark first, so routes follow reading order
        marks = [(method.upper(), path), *getattr(handler, _ROUTE_MARK, ())]
        setattr(handler, _ROUTE_MARK, marks)
        return handler

    return mark


class SandboxApi(Generic[SandboxT]):
    """One area of a platform's API, served for ``sandbox`` (its endpoints reach it as
    ``self.sandbox``)."""

    prefix: ClassVar[str] = ""
    """Put before every :func:`route` path of the class."""

    def __init__(self, sandbox: SandboxT) -> None:
        self.sandbox = sandbox

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """What serves ``handler``'s requests: ``handler`` itself unless overridden (e.g. to
        check access for every endpoint of the area)."""
        return handler

    def routes(self) -> list[BaseRoute]:
        """A Starlette route for every :func:`route` mark, in the order the class defines them."""
        found: dict[str, Any] = {}
        for klass in reversed(type(self).__mro__):
            found.update(
                (name, value) for name, value in vars(klass).items() if hasattr(value, _ROUTE_MARK)
            )
        return [
            Route(self.prefix + path, self.endpoint(getattr(self, name)), methods=[method])
            for name, handler in found.items()
            for method, path in getattr(handler, _ROUTE_MARK)
        ]
