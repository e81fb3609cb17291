"""Serving an ASGI app from inside a runtime: uvicorn on a socket bound beforehand.

:func:`make_server` builds a uvicorn server that leaves signals and logging to the runtime;
:class:`ServedApp` binds, serves and stops one app (the runtime's status page). Binding
first means the address is known, and connectable, before uvicorn starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from omnisdk._listen import bind_socket
from omnisdk.config.models import listen_address
from omnisdk.errors import ServiceError, UsageError

if TYPE_CHECKING:
    from omnisdk.sync.engine import Engine

__all__ = ["ServedApp", "make_server", "status_page_address"]

logger = logging.getLogger("omnisdk.runtime")


def make_server(app: Any) -> Any:
    """A uvicorn server for ``app`` that leaves SIGINT/SIGTERM to the runtime."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ServiceError(
            f"the webhook receiver needs uvicorn and starlette ({exc}); install them with "
            "pip install 'omnisdk[sandbox]', or run with webhooks off"
        ) from None

    class QuietServer(uvicorn.Server):
        """uvicorn without its own signal handling: the runtime owns SIGINT/SIGTERM."""

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

    config = uvicorn.Config(
        app,
        http="h11",
        loop="asyncio",
        lifespan="off",
        log_config=None,  # leave the application's logging alone (uvicorn's would reset it)
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=5,
    )
    return QuietServer(config)


class ServedApp:
    """One ASGI app served on ``host:port`` while the runtime runs (``name`` for messages)."""

    def __init__(self, name: str, app: Any) -> None:
        self.name = name
        self.app = app
        self._socket: socket.socket | None = None
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str | None:
        """``http://HOST:PORT`` while it is served (None otherwise)."""
        if self._socket is None:
            return None
        host, port = self._socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    async def start(self, host: str, port: int) -> None:
        """Bind ``host:port`` (ServiceError when it cannot be) and serve until :meth:`stop`."""
        self._socket = bind_socket(host, port)
        self._server = make_server(self.app)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name=f"omnisdk:{self.name}"
        )
        while not self._server.started:
            if self._task.done():
                await self.stop(grace=0)
                raise ServiceError(f"the {self.name} stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self, grace: float) -> None:
        """Stop accepting, let requests in hand finish for up to ``grace`` s, then close."""
        task = self._task
        if task is not None and self._server is not None:
            self._server.should_exit = True
            await asyncio.wait({task}, timeout=max(grace, 0.1))
            if not task.done():
                self._server.force_exit = True
                await asyncio.wait({task}, timeout=2)
            if task.done() and not task.cancelled() and task.exception() is not None:
                logger.warning("the %s failed: %s", self.name, task.exception())
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
        self._task = None


def status_page_address(
    engine: Engine,
    wanted: str | bool | None,
) -> tuple[str, int] | None:
    """Where to serve the status page: ``wanted`` (``HOST:PORT``), the config's address
    (True), or nowhere (False/None)."""
    if wanted is True:
        return engine.config.engine.status_page_address
    if not wanted:
        return None
    try:
        return listen_address(str(wanted))
    except ValueError as exc:
        raise UsageError(f"status page address {wanted!r}: {exc}") from None
