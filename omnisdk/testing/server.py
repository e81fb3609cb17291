"""Serve an ASGI app (a sandbox, a webhook receiver) on a real loopback socket, in a thread.

::

    with LoopbackServer(sandbox.app) as server:
        settings = sandbox.channel_settings(server.base_url)
        ...

Port 0 (the default) binds a free port chosen by the operating system before the server
starts, so :attr:`LoopbackServer.base_url` is known at once and there is no race for ports.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Self

import uvicorn

from omnisdk.errors import ServiceError

__all__ = ["LoopbackServer", "LoopbackServerError"]

HOST = "127.0.0.1"


class LoopbackServerError(ServiceError):
    """The server did not start (or stop) in time, or crashed while starting."""


class LoopbackServer:
    """Runs ``app`` with uvicorn in a background thread on 127.0.0.1.

    :meth:`start` returns once the server accepts connections; :meth:`stop` asks it to shut
    down and waits (a few seconds at most). Use it as a context manager to do both. It can
    be started again after it stopped, on the same port.
    """

    def __init__(
        self, app: Any, *, port: int = 0, start_timeout: float = 10.0, stop_timeout: float = 5.0
    ) -> None:
        self.app = app
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (known once started)."""
        if self._port is None:
            raise LoopbackServerError("the server has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def url(self, path: str = "/") -> str:
        """An absolute URL on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def start(self) -> Self:
        """Bind, start serving in a thread and wait until connections are accepted."""
        if self.running:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self._port or self._requested_port))
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # uvicorn's default would reset the host's logging handlers
            host=HOST,
            port=self._port,
            http="h11",
            loop="asyncio",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._error = None

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # reported to the thread that called start()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=serve, name=f"loopback-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not server.started:
            if not self._thread.is_alive():
                raise LoopbackServerError(
                    f"the server on port {self._port} stopped while starting: {self._error!r}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise LoopbackServerError(
                    f"the server on port {self._port} did not start in {self.start_timeout} s"
                )
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Shut the server down and wait for its thread (idempotent)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(self.stop_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(self.stop_timeout)
        self._server = None
        self._thread = None
        if thread.is_alive():
            raise LoopbackServerError(f"the server on port {self._port} did not stop")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{HOST}:{self._port}" if self._port else "not started"
        return f"<LoopbackServer {where} {'running' if self.running else 'stopped'}>"
