"""json_response / keep_header_case: header names reach the client spelt as given."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from omnisdk.testing import LoopbackServer, SandboxError, json_response, keep_header_case, read_json


async def _answer(request: Request) -> Response:
    return json_response(
        {"price": Decimal("85000.50"), "name": "Nón lá"},
        201,
        {"X-Shop-Api-Call-Limit": "3/40", "X-Request-Id": "abc"},
    )


def test_header_names_keep_their_case_on_the_wire() -> None:
    app = Starlette(routes=[Route("/", _answer)])
    with LoopbackServer(app) as server, httpx.Client() as client:
        response = client.get(server.base_url + "/")
    names = [name for name, _ in response.headers.raw]
    assert b"X-Shop-Api-Call-Limit" in names and b"X-Request-Id" in names
    assert response.status_code == 201
    assert response.content == '{"price":"85000.50","name":"Nón lá"}'.encode()
    assert response.headers["content-type"] == "application/json"


def test_an_encoder_and_media_type_of_the_platforms_own() -> None:
    response = json_response(
        {"ok": True},
        encode=lambda data: b"<" + repr(data).encode() + b">",
        media_type="application/json; charset=utf-8",
    )
    assert response.body == b"<{'ok': True}>"
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_keep_header_case_replaces_a_header_set_in_another_case() -> None:
    response = Response(b"{}", headers={"retry-after": "1"}, media_type="application/json")
    keep_header_case(response, {"Retry-After": "2"})
    assert [(k, v) for k, v in response.raw_headers if k.lower() == b"retry-after"] == [
        (b"Retry-After", b"2")
    ]


class PlatformError(Exception):
    """A platform's own error for a body that is not JSON."""


async def _read(body: bytes, **kwargs: Any) -> Any:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({"type": "http", "method": "POST", "path": "/x", "headers": []}, receive)
    return await read_json(request, **kwargs)


async def test_read_json_raises_the_platforms_error_when_given() -> None:
    assert await _read(b'{"sku": "NON-LA"}') == {"sku": "NON-LA"}
    assert await _read(b"") == {}
    with pytest.raises(SandboxError, match="not JSON"):
        await _read(b"{nope")
    with pytest.raises(PlatformError):
        await _read(b"{nope", invalid=PlatformError)
