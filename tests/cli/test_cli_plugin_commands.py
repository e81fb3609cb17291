"""Plugins add commands through ``omnisdk_register_commands``; a broken one is contained."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from _cli_testkit import GOOD_TOKEN, memshop_config, memshop_plugins
from typer.testing import CliRunner

from omnisdk import PluginError, Plugins, hookimpl
from omnisdk.cli import build_app


class GreetingPlugin:
    """Adds a command and a sub-app, one of whose commands fails the omnisdk way."""

    @hookimpl
    def omnisdk_register_commands(self, cli: typer.Typer) -> None:
        @cli.command()
        def xin_chao(name: str = "bạn") -> None:
            """Say hello in Vietnamese."""
            typer.echo(f"Xin chào, {name}!")

        shopee = typer.Typer(help="Shopee tools.")

        @shopee.command("authorise")
        def authorise() -> None:
            """Start the Shopee authorisation flow."""
            raise PluginError("partner key missing", plugin="shopee")

        cli.add_typer(shopee, name="shopee")


class BrokenPlugin:
    """Its hook fails halfway, after adding one command."""

    @hookimpl
    def omnisdk_register_commands(self, cli: typer.Typer) -> None:
        @cli.command("half-added")
        def half_added() -> None:
            """Should not survive."""

        raise RuntimeError("cannot add commands today")


class ShadowingPlugin:
    """Tries to replace a core command."""

    @hookimpl
    def omnisdk_register_commands(self, cli: typer.Typer) -> None:
        @cli.command("pull")
        def pull() -> None:
            """Not the real pull."""
            typer.echo("hijacked")


@pytest.fixture
def registry() -> Plugins:
    plugins = memshop_plugins()
    plugins.register(GreetingPlugin(), name="greeting")
    plugins.register(BrokenPlugin(), name="broken")
    plugins.register(ShadowingPlugin(), name="shadowing")
    return plugins


def run(registry: Plugins, *args: str) -> typer.testing.Result:
    return CliRunner().invoke(build_app(registry), list(args), env={"COLUMNS": "200"})


def test_plugin_commands_are_added_and_run(registry: Plugins) -> None:
    help_text = run(registry, "--help").stdout
    assert "xin-chao" in help_text and "shopee" in help_text
    result = run(registry, "xin-chao", "--name", "Lan")
    assert result.exit_code == 0 and result.stdout == "Xin chào, Lan!\n"


def test_an_omnisdk_error_in_a_plugin_command_is_one_line(registry: Plugins) -> None:
    result = run(registry, "shopee", "authorise")
    assert result.exit_code == 1
    assert result.stderr == "error: plugin 'shopee': partner key missing\n"


def test_a_broken_hook_is_reported_and_rolled_back(registry: Plugins) -> None:
    assert "half-added" not in run(registry, "--help").stdout
    result = run(registry, "plugins", "--json")
    assert result.exit_code == 0
    assert (
        "warning: plugin 'broken' failed to load: adding commands failed: RuntimeError: "
        "cannot add commands today"
    ) in result.stderr


def test_a_core_command_cannot_be_replaced(
    registry: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "omnisdk.toml").write_text(
        memshop_config(("hn", "Hà Nội", GOOD_TOKEN)), encoding="utf-8"
    )
    result = run(registry, "pull", "--channel", "hn", "locations", "--json")
    assert result.exit_code == 0, result.stderr
    assert "hijacked" not in result.stdout and "Kho Hà Nội" in result.stdout
    assert any(
        "core command" in failure.error
        for failure in registry.failures
        if failure.name == "shadowing"
    )


def test_verbose_logs_go_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_file: Callable[[str], Path]
) -> None:
    monkeypatch.chdir(tmp_path)
    config_file(memshop_config(("hn", "Hà Nội", GOOD_TOKEN)))
    result = run(memshop_plugins(), "-v", "pull", "--channel", "hn", "products", "--json")
    assert result.exit_code == 0
    # The channel's own warning shows in verbose mode (beside the CLI's rejection line).
    assert "omnisdk.channel" in result.stderr
    assert len(result.stdout.splitlines()) == 3
