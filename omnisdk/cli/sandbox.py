"""``omnisdk sandbox TYPE``: serve a channel's platform emulator on a loopback port.

The first line on stdout is one JSON object, written and flushed before serving starts::

    {"type": "shopify", "base_url": "http://127.0.0.1:8765",
     "settings": {...},   # what a [[channels]] entry needs to reach this sandbox
     "client": {...}}     # raw credentials an official client library would use

The socket is bound (and listening) before that line is printed, so a reader may connect as
soon as it has read it; with ``--port 0`` the system picks a free port and the line carries it.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import socket
from types import FrameType
from typing import Annotated, Any

import typer
from pydantic_core import to_jsonable_python

from omnisdk._listen import bind_socket
from omnisdk.cli.output import print_note
from omnisdk.cli.state import get_state
from omnisdk.demo.scenario import SANDBOX_CATALOG
from omnisdk.demo.shops import SANDBOX_EXTRA_HINT, load_sandbox_class, seed_sandbox
from omnisdk.errors import ServiceError

__all__ = ["bind_socket", "is_loopback", "load_sandbox_class", "sandbox"]


class _Terminated(Exception):
    """SIGTERM arrived: leave the serving loop as cleanly as for Ctrl+C."""


def is_loopback(host: str) -> bool:
    """True when ``host`` is a loopback address (``127.0.0.1``, ``::1``) or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):  # noqa: S104 - reported, not bound: a wildcard is no address
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _serve(app: Any, sock: socket.socket, *, verbose: bool) -> None:
    try:
        import uvicorn
    except ImportError as exc:
        raise ServiceError(f"cannot serve the sandbox: {exc} ({SANDBOX_EXTRA_HINT})") from None
    config = uvicorn.Config(
        app,
        http="h11",
        loop="asyncio",
        lifespan="off",
        log_level="info" if verbose else "warning",
        access_log=verbose,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the
    # handler that was there before it: ours, for SIGTERM; Python's KeyboardInterrupt for
    # SIGINT. Either way the shutdown is clean, so both end here with status 0.
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def sandbox(
    ctx: typer.Context,
    channel_type: Annotated[
        str,
        typer.Argument(
            metavar="TYPE", show_default=False, help="The channel type whose sandbox to serve."
        ),
    ],
    port: Annotated[
        int,
        typer.Option(
            "--port",
            "-p",
            min=0,
            max=65535,
            metavar="PORT",
            help="Port to listen on; 0 picks a free one.",
        ),
    ] = 0,
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote", help="Allow a non-loopback --host (the sandbox has no real security)."
        ),
    ] = False,
    seed_demo: Annotated[
        bool,
        typer.Option(
            "--seed-demo", help="List a few demo products (Vietnamese, priced in VND) first."
        ),
    ] = False,
) -> None:
    """Serve a channel's sandbox (a local emulator of its platform) until Ctrl+C.

    The first line on stdout is JSON: {"type", "base_url", "settings", "client"}; "settings"
    is what a channels entry of omnisdk.toml needs to talk to this sandbox. Drive it through
    its control API under /_sandbox/ (seed, buyer orders, faults, state).
    """
    state = get_state(ctx)
    if not is_loopback(host) and not allow_remote:
        raise typer.BadParameter(
            f"{host!r} is not a loopback address; the sandbox accepts anyone who can reach it. "
            "Pass --allow-remote to serve it there anyway.",
            param_hint="--host",
        )
    channel_class = state.plugins.channel_class(channel_type)
    sandbox_class = load_sandbox_class(channel_type, channel_class.sandbox)
    emulator = sandbox_class()
    try:
        if seed_demo:
            seed_sandbox(emulator, SANDBOX_CATALOG)
        sock = bind_socket(host, port)
        try:
            base_url = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
            announcement = {
                "type": channel_type,
                "base_url": base_url,
                "settings": to_jsonable_python(emulator.channel_settings(base_url)),
                "client": to_jsonable_python(emulator.client_credentials(base_url)),
            }
            typer.echo(json.dumps(announcement, ensure_ascii=False))
            print_note(f"{channel_type} sandbox serving at {base_url} (Ctrl+C to stop)")
            _serve(emulator.app, sock, verbose=state.verbose)
        finally:
            sock.close()
    finally:
        emulator.close()
    print_note(f"{channel_type} sandbox stopped")
