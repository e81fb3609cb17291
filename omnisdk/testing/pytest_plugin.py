"""pytest fixtures for channel plugin authors (registered as the ``omnisdk`` pytest11 plugin).

Installed with omnisdk, so every fixture here is available in any test suite without
imports. Async fixtures need pytest-asyncio. The fixtures import the sandbox kit only when
used, so this plugin loads even where the ``sandbox`` extra is not installed.

``omnisdk_plugins``
    A fresh :class:`~omnisdk.plugins.Plugins` without entry points.
``loopback_server``
    Factory: serve an ASGI app on 127.0.0.1 (stopped after the test).
``sandbox_server``
    Factory: serve a sandbox on 127.0.0.1 and return its base URL.
``make_channel``
    Factory: a channel connected to a sandbox, in-process or over a socket.
``sandbox_channel``
    Factory: a new sandbox and a channel connected to it in-process, with a control client.
``log_secrets_guard``
    Captures DEBUG logs for the test and fails it if a watched secret appears.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from omnisdk.testing.registration import ContributeChannels
from omnisdk.testing.registration import unthrottled as lift_rate_limit

try:
    import pytest_asyncio

    async_fixture: Callable[..., Any] = pytest_asyncio.fixture
except ImportError:  # pragma: no cover - the async fixtures then need asyncio_mode=auto
    async_fixture = pytest.fixture

if TYPE_CHECKING:
    from omnisdk.channel import Channel
    from omnisdk.plugins import Plugins
    from omnisdk.testing.control import SandboxControl
    from omnisdk.testing.leaks import SecretLeakGuard
    from omnisdk.testing.sandbox import Sandbox
    from omnisdk.testing.server import LoopbackServer

__all__ = [
    "SandboxedChannel",
    "log_secrets_guard",
    "loopback_server",
    "make_channel",
    "omnisdk_plugins",
    "sandbox_channel",
    "sandbox_server",
]


@dataclass
class SandboxedChannel:
    """What :func:`sandbox_channel` gives: the sandbox, a connected channel, a control client."""

    sandbox: Sandbox
    channel: Channel
    control: SandboxControl


@pytest.fixture
def omnisdk_plugins() -> Plugins:
    """A fresh plugin registry with only the core's hooks (no entry point plugins loaded).

    Register what the test needs: ``omnisdk_plugins.register(my_plugin_module)``.
    """
    from omnisdk.plugins import Plugins

    return Plugins(entry_points=False)


@pytest.fixture
def loopback_server() -> Iterator[Callable[..., LoopbackServer]]:
    """Factory: ``loopback_server(app, port=0)`` serves ``app`` on 127.0.0.1, started.

    Returns the running :class:`~omnisdk.testing.server.LoopbackServer` (``.base_url``,
    ``.url(path)``); every server started is stopped after the test.
    """
    from omnisdk.testing.server import LoopbackServer

    servers: list[LoopbackServer] = []

    def start(app: Any, *, port: int = 0) -> LoopbackServer:
        server = LoopbackServer(app, port=port).start()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def sandbox_server(loopback_server: Callable[..., LoopbackServer]) -> Callable[[Sandbox], str]:
    """Factory: ``sandbox_server(sandbox)`` serves the sandbox on 127.0.0.1; returns its URL.

    Pass the URL to ``sandbox.channel_settings(url)`` or to :func:`make_channel`.
    """

    def serve(sandbox: Sandbox) -> str:
        return loopback_server(sandbox.app).base_url

    return serve


@async_fixture
async def make_channel(omnisdk_plugins: Plugins) -> AsyncIterator[Callable[..., Channel]]:
    """Factory: ``make_channel(channel_class, sandbox, base_url=None, **settings)``.

    Builds ``channel_class`` with ``sandbox.channel_settings(...)`` (``settings`` merged
    over them) and registers it in :func:`omnisdk_plugins`. Without ``base_url`` the channel
    reaches the sandbox in-process through ``httpx.ASGITransport``; with a served sandbox's
    URL it uses the network. ``unthrottled=True`` lifts the declared rate limit for that
    channel object. Channels are closed after the test.
    """
    import httpx

    from omnisdk.testing.control import IN_PROCESS_URL

    made: list[Channel] = []
    registered: set[str] = set()

    def make(
        channel_class: type[Channel],
        sandbox: Sandbox,
        *,
        base_url: str | None = None,
        account: str = "test",
        unthrottled: bool = False,
        **settings: Any,
    ) -> Channel:
        if channel_class.name not in registered:
            omnisdk_plugins.register(
                ContributeChannels(channel_class), name=f"test:{channel_class.name}"
            )
            registered.add(channel_class.name)
        url = base_url or IN_PROCESS_URL
        transport = None if base_url else httpx.ASGITransport(app=sandbox.app)
        channel = channel_class(
            {**sandbox.channel_settings(url), **settings},
            account=account,
            plugins=omnisdk_plugins,
            transport=transport,
        )
        if unthrottled:
            lift_rate_limit(channel)
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


@async_fixture
async def sandbox_channel(
    make_channel: Callable[..., Channel],
) -> AsyncIterator[Callable[..., SandboxedChannel]]:
    """Factory: ``sandbox_channel(sandbox_class, channel_class, **settings)``.

    Creates a sandbox (``sandbox_class`` or an existing instance), a channel connected to it
    in-process and a :class:`~omnisdk.testing.control.SandboxControl`; returns them as a
    :class:`SandboxedChannel`. Everything is closed after the test::

        async def test_orders(sandbox_channel):
            env = sandbox_channel(ExampleSandbox, ExampleChannel)
            await env.control.seed([...])
            orders = [o async for o in env.channel.stream_orders()]
    """
    from omnisdk.testing.control import SandboxControl

    created: list[SandboxedChannel] = []
    owned: list[Sandbox] = []

    def make(
        sandbox_class: type[Sandbox] | Sandbox, channel_class: type[Channel], **settings: Any
    ) -> SandboxedChannel:
        if isinstance(sandbox_class, type):
            sandbox = sandbox_class()
            owned.append(sandbox)
        else:
            sandbox = sandbox_class
        channel = make_channel(channel_class, sandbox, **settings)
        env = SandboxedChannel(
            sandbox=sandbox, channel=channel, control=SandboxControl.for_sandbox(sandbox)
        )
        created.append(env)
        return env

    yield make
    for env in created:
        await env.control.aclose()
    for sandbox in owned:
        sandbox.close()


@pytest.fixture
def log_secrets_guard() -> Iterator[SecretLeakGuard]:
    """Captures every log record (DEBUG and up) during the test; fails it on a leak.

    Tell it what to watch: ``log_secrets_guard.add(*sandbox.secret_values())``; hand it
    exceptions with ``log_secrets_guard.check_exception(exc)``. After the test it asserts
    that no watched value appeared in any record (message, arguments, exception, extras).
    """
    from omnisdk.testing.leaks import SecretLeakGuard

    guard = SecretLeakGuard()
    guard.install()
    try:
        yield guard
    finally:
        guard.uninstall()
    guard.assert_clean()
