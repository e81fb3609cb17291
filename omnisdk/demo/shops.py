"""The demo's shops: each installed channel's sandbox, served on loopback by its own process.

A channel takes part when its class names a sandbox (``sandbox = "module:Class"``) that can
be imported; nothing here knows any platform. The platforms are other machines in real
life: a process each keeps their work off the engine's interpreter, as it would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omnisdk.channel import Capability
from omnisdk.demo.scenario import ACCOUNT_CITIES, DemoItem
from omnisdk.errors import PluginError, ServiceError, UnsupportedOperation

if TYPE_CHECKING:
    from omnisdk.plugins import Plugins
    from omnisdk.testing.control import SandboxControl
    from omnisdk.testing.sandbox import Sandbox

__all__ = [
    "SANDBOX_EXTRA_HINT",
    "SANDBOX_START_TIMEOUT",
    "DemoChannel",
    "demo_channel_types",
    "load_sandbox_class",
    "seed_sandbox",
    "serve_sandbox_stdio",
    "serve_sandboxes",
    "shop_channel_types",
]

logger = logging.getLogger("omnisdk.demo")

SANDBOX_START_TIMEOUT = 60.0
"""Seconds a sandbox process may take to import its plugin and start serving."""

SANDBOX_EXTRA_HINT = "sandboxes need the sandbox extra: pip install 'omnisdk[sandbox]'"
"""What to install when a sandbox cannot be imported."""


@dataclass
class DemoChannel:
    """One channel of the demo: its sandbox, served on loopback by a process of its own.

    ``settings`` is what a ``[[channels]]`` entry needs to reach it; ``control`` drives it
    through the control API (seed, buyer orders, state), the same for every channel.
    """

    channel_type: str
    account: str
    base_url: str
    settings: dict[str, Any]
    control: SandboxControl

    async def listed(self) -> dict[str, int]:
        """Listed stock by SKU, as the platform shows it now."""
        return await self.control.listed_stock()


def load_sandbox_class(channel_type: str, spec: str | None) -> type[Sandbox]:
    """Import the sandbox class named by a channel's ``sandbox`` attribute (``module:Class``).

    Raises :class:`UnsupportedOperation` when the channel ships no sandbox and
    :class:`PluginError` when the class cannot be imported or is not a ``Sandbox``.
    """
    if not spec:
        raise UnsupportedOperation(f"channel type {channel_type!r} ships no sandbox")
    module_name, _, class_name = spec.partition(":")
    try:
        from omnisdk.testing.sandbox import Sandbox

        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginError(
            f"cannot import the sandbox {spec!r}: {exc} ({SANDBOX_EXTRA_HINT})",
            plugin=channel_type,
        ) from None
    cls = getattr(module, class_name, None) if class_name else None
    if not (isinstance(cls, type) and issubclass(cls, Sandbox)):
        raise PluginError(
            f"sandbox {spec!r} is not a Sandbox subclass ('module:Class')", plugin=channel_type
        )
    return cls


def seed_sandbox(sandbox: Sandbox, items: Iterable[DemoItem]) -> None:
    """List ``items`` in a sandbox of this process (what ``POST /_sandbox/seed`` does)."""
    from omnisdk.testing.sandbox import SeedProduct

    with sandbox.lock:
        sandbox.seed_products([SeedProduct.model_validate(item.seed()) for item in items])


def demo_channel_types(plugins: Plugins) -> list[tuple[str, str]]:
    """Every installed channel type with a loadable sandbox: ``(type, "module:Class")``.

    A channel without a sandbox, or whose sandbox cannot be imported (the sandbox extra is
    missing), is left out with a warning; so is one that takes no stock writes (a shop's POS:
    its counter sells its own shelf), since the demo's buyers shop listings the engine sets,
    and one whose platform has no checkout that could refuse a sale (a catalog whose orders
    are taken in chat), since the demo's proof rests on channels refusing what they do not
    list.
    """
    found: list[tuple[str, str]] = []
    for name, channel_type in sorted(plugins.channel_types().items()):
        spec = channel_type.cls.sandbox
        if not spec:
            logger.info("channel type %s ships no sandbox; not in the demo", name)
            continue
        if Capability.WRITE_STOCK not in channel_type.cls.capabilities:
            logger.info("channel type %s takes no stock writes; not in the demo", name)
            continue
        try:
            sandbox_class = load_sandbox_class(name, spec)
        except PluginError as exc:
            logger.warning("the %s sandbox cannot be loaded (%s); not in the demo", name, exc)
            continue
        if not sandbox_class.refuses_unlisted_sales:
            logger.info("channel type %s has no checkout to refuse a sale; not in the demo", name)
            continue
        found.append((name, spec))
    return found


SCAFFOLD_EXAMPLE = "example"
"""The channel type ``omnisdk new-plugin example`` generates (the kit's own test fixture)."""


def shop_channel_types(plugins: Plugins) -> list[tuple[str, str]]:
    """:func:`demo_channel_types` as a merchant would see them: the scaffold's Example
    channel (a template and test fixture, no platform anyone sells on) is left out when a
    real channel qualifies, and used alone when none does."""
    found = demo_channel_types(plugins)
    shops = [(name, spec) for name, spec in found if name != SCAFFOLD_EXAMPLE]
    return shops or found


def serve_sandbox_stdio(channel_type: str, spec: str, seed: int) -> None:
    """Serve one sandbox on loopback until stdin closes (the body of a sandbox process).

    Prints one JSON line on stdout once serving: ``{"base_url", "settings"}``, or
    ``{"error"}`` when the sandbox cannot start. The parent closes the pipe to stop it; the
    pipe also closes when the parent dies, so no sandbox outlives its demo.
    """
    from pydantic_core import to_jsonable_python

    from omnisdk.testing.server import LoopbackServer

    try:
        sandbox = load_sandbox_class(channel_type, spec)(seed=seed)
        server = LoopbackServer(sandbox.app).start()
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return
    try:
        with sandbox.lock:
            settings = to_jsonable_python(sandbox.channel_settings(server.base_url))
        print(json.dumps({"base_url": server.base_url, "settings": settings}), flush=True)
        sys.stdin.read()
    finally:
        server.stop()
        sandbox.close()


_CHILD = (
    "import sys; from omnisdk.demo.shops import serve_sandbox_stdio as serve; "
    "serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))"
)


@dataclass
class _SandboxProcess:
    spec: str
    process: asyncio.subprocess.Process

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def _start_sandbox_process(
    channel_type: str, spec: str, seed: int
) -> tuple[_SandboxProcess, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        channel_type,
        spec,
        str(seed),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    served = _SandboxProcess(spec, process)
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), SANDBOX_START_TIMEOUT)
        answer: dict[str, Any] = (
            json.loads(line)
            if line.strip()
            else {"error": f"exited with status {await process.wait()}"}
        )
    except (TimeoutError, ValueError) as exc:
        answer = {"error": f"no answer ({type(exc).__name__})"}
    if "error" in answer:
        await served.stop()
        raise ServiceError(f"the sandbox {spec} could not start: {answer['error']}")
    return served, answer


@contextlib.asynccontextmanager
async def serve_sandboxes(
    types: Iterable[tuple[str, str]], *, seed: int = 0
) -> AsyncIterator[list[DemoChannel]]:
    """Serve one sandbox per ``(type, "module:Class")``, each in a process of its own.

    The sandboxes start side by side and stop on exit; the accounts are named
    ``<type>-<city>`` (:data:`~omnisdk.demo.scenario.ACCOUNT_CITIES`).
    """
    from omnisdk.testing.control import SandboxControl

    chosen = list(types)
    processes: list[_SandboxProcess] = []
    channels: list[DemoChannel] = []
    started = await asyncio.gather(
        *(
            _start_sandbox_process(name, spec, seed + index)
            for index, (name, spec) in enumerate(chosen)
        ),
        return_exceptions=True,
    )
    try:
        for served in started:
            if isinstance(served, tuple):
                processes.append(served[0])
        for index, ((name, _), served) in enumerate(zip(chosen, started, strict=True)):
            if isinstance(served, BaseException):
                raise served
            _, answer = served
            city = ACCOUNT_CITIES[index % len(ACCOUNT_CITIES)]
            channels.append(
                DemoChannel(
                    channel_type=name,
                    account=f"{name}-{city}",
                    base_url=answer["base_url"],
                    settings=dict(answer["settings"]),
                    control=SandboxControl(answer["base_url"], timeout=10.0),
                )
            )
        yield channels
    finally:
        for channel in channels:
            await channel.control.aclose()
        await asyncio.gather(*(process.stop() for process in processes))
