"""Listening sockets for the servers omnisdk runs (webhook receiver, sandboxes).

Every listening socket is made by :func:`listening_socket`, with ``proto=IPPROTO_TCP``
spelled out: asyncio sets ``TCP_NODELAY`` on an accepted connection only when the socket's
``proto`` says TCP, and a socket made with the default ``proto=0`` hands that 0 down to every
connection it accepts. Without ``TCP_NODELAY``, Nagle's algorithm holds back a reply's second
write until the client's delayed ACK arrives, which costs ~40 ms per request on a reused
connection.
"""

from __future__ import annotations

import socket

from omnisdk.errors import ServiceError

__all__ = ["bind_socket", "listening_socket"]

BACKLOG = 128


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` (port 0: a free one).

    Raises the :class:`OSError` of a failed bind (a port in use, an unknown address).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def bind_socket(host: str, port: int) -> socket.socket:
    """A :func:`listening_socket`, a failed bind reported as a :class:`ServiceError`.

    Binding before serving means the port is known (and connectable) before uvicorn starts.
    """
    try:
        return listening_socket(host, port)
    except OSError as exc:
        raise ServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
