"""``omnisdk new-plugin``: where it writes, and one-line errors (exit 1) for what it refuses."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from omnisdk.cli.app import build_app
from omnisdk.plugins import Plugins


def run(*args: str) -> tuple[int, str]:
    """Run ``omnisdk ARGS``; its exit code and what it wrote on stdout and stderr."""
    result = CliRunner().invoke(build_app(Plugins()), list(args))
    return result.exit_code, result.output


def test_new_plugin_creates_omnisdk_name_in_the_directory(tmp_path: Path) -> None:
    code, output = run("new-plugin", "tiki", "--dir", str(tmp_path))
    assert code == 0, output
    assert (tmp_path / "omnisdk-tiki" / "omnisdk_tiki" / "channel.py").is_file()
    assert "pip install -e" in output


def test_into_names_the_plugin_directory_itself(tmp_path: Path) -> None:
    code, output = run("new-plugin", "tiki", "--into", str(tmp_path / "here"))
    assert code == 0, output
    assert (tmp_path / "here" / "pyproject.toml").is_file()


def test_a_bad_name_is_one_line_and_exit_1(tmp_path: Path) -> None:
    code, output = run("new-plugin", "Tiki-VN", "--dir", str(tmp_path))
    assert code == 1
    assert output.strip().startswith("error: 'Tiki-VN' is not a plugin name")
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "omnisdk-tiki").mkdir()
    code, output = run("new-plugin", "tiki", "--dir", str(tmp_path))
    assert code == 1
    assert "already exists" in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1
