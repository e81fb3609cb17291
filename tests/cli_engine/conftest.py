"""Fixtures for the engine commands: two Example shops served on loopback, a config, a runner.

The commands open the engine from the config file as ``omnisdk`` would, so the sandboxes are
real servers on 127.0.0.1 (the CLI has no transport to inject) and the registry is a
:class:`~omnisdk.Plugins` holding only the Example channel, given to ``build_app``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from _engine_cli_testkit import CATALOG, Invoke, Shop, config_text
from omnisdk_example.channel import ExampleChannel
from omnisdk_example.sandbox import ExampleSandbox
from typer.testing import CliRunner, Result

from omnisdk import Plugins
from omnisdk.cli import build_app
from omnisdk.cli.logs import QUIET_LOGGERS
from omnisdk.config import load_config
from omnisdk.sync import Engine
from omnisdk.testing import ContributeChannels, LoopbackServer


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the root logger; put it back after each test."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    root.setLevel(level)
    root.handlers[:] = handlers
    for name, previous in quiet.items():
        logging.getLogger(name).setLevel(previous)


@pytest.fixture
def shops() -> Iterator[list[Shop]]:
    """Two Example shops (Hà Nội and Sài Gòn) with the same catalog, served on loopback."""
    started: list[Shop] = []
    try:
        for index, account in enumerate(("hanoi-shop", "saigon-shop")):
            sandbox = ExampleSandbox(seed=index)
            with sandbox.lock:
                sandbox.seed_products(CATALOG)
            server = LoopbackServer(sandbox.app).start()
            started.append(Shop(account=account, sandbox=sandbox, server=server))
        yield started
    finally:
        for shop in started:
            shop.server.stop()
            shop.sandbox.close()


@pytest.fixture
def plugins() -> Plugins:
    """A registry with only the Example channel."""
    registry = Plugins(entry_points=False)
    registry.register(ContributeChannels(ExampleChannel), name="example")
    return registry


@pytest.fixture
def config_path(shops: list[Shop], tmp_path: Path) -> Path:
    """The config file for the two shops."""
    path = tmp_path / "omnisdk.toml"
    path.write_text(config_text(shops, tmp_path / "omnisdk.db"), encoding="utf-8")
    return path


@pytest.fixture
def invoke(plugins: Plugins, config_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``omnisdk -c CONFIG ARGS`` in-process against ``plugins``."""
    monkeypatch.chdir(config_path.parent)
    monkeypatch.delenv("OMNISDK_CONFIG", raising=False)

    def run(*args: str, config: bool = True) -> Result:
        argv = (["-c", str(config_path)] if config else []) + list(args)
        return CliRunner().invoke(build_app(plugins), argv, env={"COLUMNS": "200"})

    return run


@pytest.fixture
def imported(plugins: Plugins, config_path: Path, shops: list[Shop]) -> list[Shop]:
    """The master catalog imported from both shops and the stock counted in.

    Done in-process (the commands that do it have tests of their own): one engine opening
    instead of five CLI runs.
    """

    async def prepare() -> None:
        config = load_config(config_path, plugins=plugins)
        async with Engine(config, plugins=plugins) as engine:
            for shop in shops:
                await engine.import_catalog(shop.account)
            for item in CATALOG:
                await engine.set_stock(item.sku, item.stock)
            await engine.push()

    asyncio.run(prepare())
    return shops
