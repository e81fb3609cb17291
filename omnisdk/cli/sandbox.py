"""``omnisdk sandbox TYPE``: serve a channel's platform emulator on a loopback port.

The first line on stdout is one JSON object, written and flushed before serving starts
(with ``--toml``, a ready ``[[channels]]`` block for omnisdk.toml instead)::

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

__all__ = ["bind_socket", "channels_block", "is_loopback", "load_sandbox_class", "sandbox"]


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


def _toml_value(value: Any) -> str:
    """One TOML value: strings as basic strings (JSON's escapes are TOML's), tables inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }" if pairs else "{}"
    return json.dumps(str(value), ensure_ascii=False)


def channels_block(name: str, channel_type: str, settings: dict[str, Any]) -> str:
    """A ``[[channels]]`` entry of omnisdk.toml for an account with ``settings``."""
    lines = [
        "[[channels]]",
        f"name = {json.dumps(name, ensure_ascii=False)}",
        f"type = {json.dumps(channel_type)}",
        "[channels.settings]",
    ]
    lines += [f"{key} = {_toml_value(value)}" for key, value in settings.items()]
    return "\n".join(lines)


def _contents(emulator: Any) -> str:
    """What the sandbox holds, for people: listings, units and orders."""
    listed = emulator.listings()
    units = sum(int(item.get("stock") or 0) for item in listed)
    orders = len(emulator.orders_state())
    if not listed and not orders:
        return "it is empty: seed it with POST /_sandbox/seed, or start it without --empty"
    return f"{len(listed)} SKUs listed ({units} units in stock), {orders} orders"


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
            "--seed-demo/--empty",
            help="List a few demo products (Vietnamese, priced in VND) first, or start empty.",
        ),
    ] = True,
    toml: Annotated[
        bool,
        typer.Option(
            "--toml",
            help="Print a ready [[channels]] block for omnisdk.toml instead of the JSON line.",
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The account name in the --toml block (default: TYPE)."),
    ] = None,
) -> None:
    """Serve a channel's sandbox (a local emulator of its platform) until Ctrl+C.

    It lists the demo catalog unless --empty. The first line on stdout is JSON: {"type",
    "base_url", "settings", "client"}; "settings" is what a channels entry of omnisdk.toml
    needs to talk to this sandbox (--toml prints that entry, ready to paste). Drive it
    through its control API under /_sandbox/ (seed, buyer orders, faults, state).
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
            if toml:
                settings = announcement["settings"]
                typer.echo(channels_block(name or channel_type, channel_type, settings))
            else:
                typer.echo(json.dumps(announcement, ensure_ascii=False))
            print_note(f"{channel_type} sandbox serving at {base_url}: {_contents(emulator)}")
            print_note(
                "paste the block above into omnisdk.toml (Ctrl+C to stop)"
                if toml
                else "settings: what a [[channels]] entry needs (--toml prints the entry); "
                "Ctrl+C to stop"
            )
            _serve(emulator.app, sock, verbose=state.verbose)
        finally:
            sock.close()
    finally:
        emulator.close()
    print_note(f"{channel_type} sandbox stopped")
