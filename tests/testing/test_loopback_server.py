"""LoopbackServer: a real socket on 127.0.0.1, started and stopped from any test."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from omnisdk.testing import LoopbackServer
from omnisdk.testing.server import LoopbackServerError


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"xin chào {request.url.path}")


APP = Starlette(routes=[Route("/{path:path}", hello)])


def test_port_zero_picks_a_free_port_and_serves() -> None:
    with LoopbackServer(APP) as server:
        assert server.running and server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        answer = httpx.get(server.url("/a"))
        assert answer.text == "xin chào /a"
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url("/a"))


def test_two_servers_get_two_ports_and_stop_is_idempotent() -> None:
    first, second = LoopbackServer(APP).start(), LoopbackServer(APP).start()
    try:
        assert first.port != second.port
        assert httpx.get(second.url("b")).text == "xin chào /b"
    finally:
        first.stop()
        second.stop()
    first.stop()


def test_a_stopped_server_restarts_on_the_same_port() -> None:
    server = LoopbackServer(APP).start()
    port = server.port
    server.stop()
    with server:
        assert server.port == port
        assert httpx.get(server.url("/lai")).status_code == 200


def test_a_port_in_use_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            LoopbackServer(APP, port=taken.getsockname()[1]).start()


def test_the_port_is_unknown_before_start() -> None:
    server = LoopbackServer(APP)
    with pytest.raises(LoopbackServerError):
        _ = server.base_url
    assert "not started" in repr(server)


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = LoopbackServer(APP).start()
    with httpx.Client() as client:
        assert client.get(server.url("/1")).status_code == 200  # the connection stays open
        server.stop()
        assert not server.running
