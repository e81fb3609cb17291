"""The check every Example API request passes: :class:`ExampleApi` is the base of the areas.

An area is a :class:`~omnisdk.testing.SandboxApi` whose endpoints are ``@route`` methods;
:meth:`ExampleApi.endpoint` puts each of them behind the bearer-token check, so no endpoint
can forget it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi

if TYPE_CHECKING:
    from omnisdk_example.sandbox.app import ExampleSandbox  # noqa: F401 (in the base class)

__all__ = ["ExampleApi"]

Endpoint = Callable[[Request], Awaitable[Response]]
"""A Example endpoint: an async method taking the request."""


class ExampleApi(SandboxApi["ExampleSandbox"]):
    """Base of the Example API areas: every endpoint answers only a valid bearer token."""

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler`` behind :meth:`ExampleSandbox.authorise` (401 without the token)."""
        serve: Endpoint = handler

        async def authorised(request: Request) -> Response:
            self.sandbox.authorise(request)
            return await serve(request)

        return authorised
