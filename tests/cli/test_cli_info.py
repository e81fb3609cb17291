"""``omnisdk --help``, ``version`` and ``plugins``; errors and exit codes."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from pathlib import Path

import pytest
from _cli_testkit import Invoke

import omnisdk
from omnisdk import Plugins
from omnisdk.cli.app import _wants_verbose
from omnisdk.plugins import PluginFailure


def test_help_lists_every_command(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("version", "plugins", "check", "pull", "sandbox"):
        assert command in result.stdout
    assert "--config" in result.stdout and "--verbose" in result.stdout


@pytest.mark.parametrize("command", ["version", "plugins", "check", "pull", "sandbox"])
def test_every_command_has_help(invoke: Invoke, command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert "--json" in result.stdout or command == "sandbox"


def test_no_arguments_shows_help(invoke: Invoke) -> None:
    result = invoke()
    assert "Usage:" in result.stdout + result.stderr
    assert result.exit_code in (0, 2)


def test_version_json(invoke: Invoke) -> None:
    result = invoke("version", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["omnisdk"] == omnisdk.__version__
    assert data["python"] == platform.python_version()
    assert isinstance(data["plugins"], list)
    for plugin in data["plugins"]:
        assert set(plugin) == {"entry_point", "distribution", "version", "status"}
        # the injected registry loaded no entry points
        assert plugin["status"] == "not loaded"


def test_version_human(invoke: Invoke) -> None:
    result = invoke("version")
    assert result.exit_code == 0
    assert f"omnisdk {omnisdk.__version__}" in result.stdout
    assert f"Python {platform.python_version()}" in result.stdout


def test_plugins_json_is_one_object_per_channel_type(invoke: Invoke, plugins: Plugins) -> None:
    result = invoke("plugins", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == [plugins.channel_types()["memshop"].describe()]
    entry = data[0]
    assert entry["name"] == "memshop" and entry["distribution"] is None
    assert entry["capabilities"] == ["read_locations", "read_orders", "read_products"]
    assert entry["limits"]["stock_push_mode"] == "absolute"
    assert result.stderr == ""


def test_plugins_failures_go_to_stderr_and_keep_the_array(invoke: Invoke, plugins: Plugins) -> None:
    plugins.failures.append(
        PluginFailure(
            name="lazada",
            error="ImportError: no module named 'lazop'",
            distribution="omnisdk-lazada",
        )
    )
    result = invoke("plugins", "--json")
    assert result.exit_code == 0
    assert isinstance(json.loads(result.stdout), list)
    assert result.stderr.strip() == (
        "warning: plugin 'lazada' (omnisdk-lazada) failed to load: "
        "ImportError: no module named 'lazop'"
    )
    human = invoke("plugins")
    assert "lazada" in human.stderr and "lazada" not in human.stdout


def test_plugins_human_table(invoke: Invoke) -> None:
    result = invoke("plugins")
    assert result.exit_code == 0
    assert "memshop" in result.stdout and "read_products" in result.stdout
    assert "stock push: absolute" in result.stdout


def test_plugins_with_none_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from omnisdk.cli import build_app

    monkeypatch.chdir(tmp_path)
    app = build_app(Plugins(entry_points=False))
    assert json.loads(CliRunner().invoke(app, ["plugins", "--json"]).stdout) == []
    assert "No channel types installed" in CliRunner().invoke(app, ["plugins"]).stdout


def test_unknown_command_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("pul")
    assert result.exit_code == 2
    assert "pull" in result.stderr  # the suggestion


def test_config_errors_are_one_line_without_traceback(
    invoke: Invoke, config_file: Callable[[str], Path]
) -> None:
    config_file('[[channels]]\nname = "a"\ntype = "shopfy"\n')
    result = invoke("check")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "error: omnisdk.toml:3, key 'channels[0].type': unknown "
        "channel type 'shopfy'; installed types: memshop."
    )
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_missing_config_is_an_error_only_for_commands_that_need_it(invoke: Invoke) -> None:
    assert invoke("plugins").exit_code == 0
    assert invoke("version").exit_code == 0
    result = invoke("check")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: omnisdk.toml: config file not found (pass -c PATH "
        "or set OMNISDK_CONFIG to use another file)"
    )


def test_config_option_and_variable(invoke: Invoke, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text("", encoding="utf-8")
    by_option = invoke("-c", str(elsewhere), "check")
    assert by_option.exit_code == 0, by_option.stderr
    assert "no channels configured" in by_option.stderr
    by_variable = invoke("check", env={"OMNISDK_CONFIG": str(elsewhere)})
    assert by_variable.exit_code == 0, by_variable.stderr
    missing = invoke("-c", str(tmp_path / "nope.toml"), "check")
    assert missing.exit_code == 1 and "nope.toml: config file not found" in missing.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-v", "pull"], True),
        (["--verbose"], True),
        (["-c", "x.toml", "-v", "check"], True),
        (["-c", "-v", "check"], False),  # "-v" is the config path here
        (["pull", "-v"], False),  # after the command: not a root option
        ([], False),
    ],
)
def test_verbose_is_detected_before_plugins_load(args: list[str], expected: bool) -> None:
    assert _wants_verbose(args) is expected
