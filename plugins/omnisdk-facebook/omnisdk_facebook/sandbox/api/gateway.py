"""What every Graph request passes: a version, a token, its ``appsecret_proof``, the usage.

:class:`GraphApi` is the base of the areas: :meth:`GraphApi.endpoint` puts each endpoint
behind :meth:`FacebookSandbox.authenticate` (Meta's error bodies on failure) and adds the
usage headers to every answer, so no endpoint can forget either. :class:`GraphError` is a
sandbox error with Meta's body ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi
from omnisdk.testing.sandbox import SandboxError

if TYPE_CHECKING:
    from omnisdk_facebook.sandbox.app import FacebookSandbox  # noqa: F401 (in the base class)

__all__ = ["PREFIX", "GraphApi", "GraphError", "Params", "read_params"]

PREFIX = "/v{major:int}.{minor:int}"
"""Every Graph path starts with its version (``/v26.0``)."""

Endpoint = Callable[[Request], Awaitable[Response]]
Params = dict[str, str]
"""A request's parameters: query string and form body together (the body wins)."""


class GraphError(SandboxError):
    """A refusal in Meta's error shape (HTTP 400 unless said otherwise)."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: int,
        type: str = "OAuthException",
        subcode: int | None = None,
        status: int = 400,
        transient: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.graph_code = code
        self.graph_type = type
        self.subcode = subcode
        self.transient = transient
        self.headers = dict(headers or {})
        self.trace_id: str | None = None

    def body(self) -> dict[str, Any]:
        """``{"error": {...}}`` as Meta sends it."""
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.graph_type,
            "code": self.graph_code,
            "fbtrace_id": self.trace_id or "A0000000000",
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient:
            error["is_transient"] = True
        return {"error": error}


async def read_params(request: Request) -> Params:
    """Query parameters and, for a form POST, the form fields (which win)."""
    params = dict(request.query_params)
    if request.method in ("POST", "DELETE"):
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            body = (await request.body()).decode("utf-8", errors="replace")
            params.update(parse_qsl(body, keep_blank_values=True, max_num_fields=1000))
    return params


class GraphApi(SandboxApi["FacebookSandbox"]):
    """Base of the Graph API areas: every endpoint checks the caller and reports usage.

    Endpoints take ``(request, params)``; the use case an endpoint counts against is named by
    :meth:`use_case` (``catalog_management`` for catalog paths, ``catalog_batch`` for
    ``items_batch``).
    """

    prefix = PREFIX

    def use_case(self, request: Request) -> str:
        """The business use case a request counts against."""
        return "app"

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler`` behind the version, token, proof and throttle checks."""
        serve: Callable[[Request, Params], Awaitable[Response]] = handler

        async def checked(request: Request) -> Response:
            params = await read_params(request)
            case = self.use_case(request)
            sandbox = self.sandbox
            with sandbox.lock:
                trace = sandbox.trace_id()
                headers = {}
                try:
                    sandbox.authenticate(request, params)
                    sandbox.meter(case)
                except GraphError as error:
                    error.trace_id = trace
                    error.headers = {**sandbox.usage.headers(case), **error.headers}
                    raise
                headers = sandbox.usage.headers(case)
            try:
                response = await serve(request, params)
            except GraphError as error:
                error.trace_id = trace
                error.headers = {**headers, **error.headers}
                raise
            for name, value in {**headers, "x-fb-trace-id": trace}.items():
                response.headers[name] = value
            return response

        return checked
