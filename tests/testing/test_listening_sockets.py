"""Listening sockets say they are TCP, so every accepted connection gets ``TCP_NODELAY``.

asyncio sets ``TCP_NODELAY`` on an accepted connection only when the socket's ``proto`` is
``IPPROTO_TCP``; a listening socket made with ``proto=0`` hands the 0 down, and Nagle's
algorithm then meets the client's delayed ACK (~40 ms per request on a reused connection).
These tests check the socket option, not a timing.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from omnisdk._listen import bind_socket, listening_socket
from omnisdk.errors import ServiceError
from omnisdk.testing import LoopbackServer


def _nodelay(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def _accepted_nodelay(listener: socket.socket) -> bool:
    """Whether asyncio's server side of one connection to ``listener`` has TCP_NODELAY."""
    accepted: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    class Record(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(_nodelay(transport.get_extra_info("socket")))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Record, sock=listener)
    async with server:
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()


@pytest.mark.parametrize("factory", [bind_socket, listening_socket])
def test_accepted_connections_get_tcp_nodelay(
    factory: Callable[[str, int], socket.socket],
) -> None:
    listener = factory("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    assert asyncio.run(_accepted_nodelay(listener))


def test_a_port_in_use_is_an_os_error_or_a_service_error() -> None:
    with listening_socket("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", port)
        with pytest.raises(ServiceError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind_socket("127.0.0.1", port)


def _server_side(client_address: tuple[str, int]) -> socket.socket:
    """This process's socket whose peer is ``client_address`` (Linux: read ``/proc/self/fd``)."""
    for entry in Path("/proc/self/fd").iterdir():
        try:
            if not entry.readlink().name.startswith("socket:"):
                continue
            candidate = socket.socket(fileno=os.dup(int(entry.name)))
        except OSError:
            continue
        try:
            if candidate.getpeername() == client_address:
                return candidate
        except OSError:
            pass
        candidate.close()
    raise AssertionError(f"no socket in this process is connected to {client_address}")


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("xin chào")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_loopback_server_connections_get_tcp_nodelay() -> None:
    app = Starlette(routes=[Route("/", _hello)])
    with LoopbackServer(app) as server, httpx.Client() as client:
        answer = client.get(server.url("/"))
        assert answer.text == "xin chào"
        stream = answer.extensions["network_stream"]
        client_address = stream.get_extra_info("socket").getsockname()
        with _server_side(client_address) as accepted:
            assert _nodelay(accepted)
