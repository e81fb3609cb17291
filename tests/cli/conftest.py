"""Fixtures for CLI tests: a registry with the in-memory channel and a runner for the app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _cli_testkit import Invoke, memshop_plugins
from typer.testing import CliRunner, Result

from omnisdk import Plugins
from omnisdk.cli import build_app
from omnisdk.cli.logs import QUIET_LOGGERS


@pytest.fixture
def plugins() -> Plugins:
    """A registry with only the memshop channel type."""
    return memshop_plugins()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the root logger and quiets a few; put them back after each test."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    root.setLevel(level)
    root.handlers[:] = handlers
    for name, previous in quiet.items():
        logging.getLogger(name).setLevel(previous)


@pytest.fixture
def invoke(plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``omnisdk ARGS`` in-process against ``plugins``, in an empty working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMNISDK_CONFIG", raising=False)

    def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
        # A wide terminal, so table cells are not wrapped mid-word.
        return CliRunner().invoke(
            build_app(plugins), list(args), env={"COLUMNS": "200", **(env or {})}
        )

    return run


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write an omnisdk.toml in the working directory."""

    def write(text: str) -> Path:
        path = tmp_path / "omnisdk.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
