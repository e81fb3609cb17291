"""Names, tokens and writing: what ``render_plugin`` does with a name and a directory."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from omnisdk.errors import OmnisdkError
from omnisdk.scaffold import PluginNames, ScaffoldError, render_files, render_plugin
from omnisdk.scaffold.render import _fill

SHAPE = [
    "pyproject.toml",
    "README.md",
    "omnisdk_tiki/__init__.py",
    "omnisdk_tiki/plugin.py",
    "omnisdk_tiki/settings.py",
    "omnisdk_tiki/client.py",
    "omnisdk_tiki/errors.py",
    "omnisdk_tiki/auth.py",
    "omnisdk_tiki/webhooks.py",
    "omnisdk_tiki/mapping.py",
    "omnisdk_tiki/channel.py",
    "omnisdk_tiki/sandbox/__init__.py",
    "omnisdk_tiki/sandbox/app.py",
    "omnisdk_tiki/sandbox/state.py",
    "omnisdk_tiki/sandbox/api/products.py",
    "omnisdk_tiki/sandbox/api/orders.py",
    "tests/test_tiki_conformance.py",
    "tests/test_tiki_mapping.py",
]


def test_names_follow_from_the_channel_type() -> None:
    names = PluginNames.from_name("tiki")
    assert (names.title, names.package, names.distribution) == (
        "Tiki",
        "omnisdk_tiki",
        "omnisdk-tiki",
    )


@pytest.mark.parametrize(
    "bad", ["", "t", "Tiki", "tiki-vn", "tiki_vn", "9tiki", "tiki vn", "x" * 31]
)
def test_a_bad_name_is_refused_with_a_one_line_reason(bad: str) -> None:
    with pytest.raises(ScaffoldError, match="is not a plugin name") as refused:
        PluginNames.from_name(bad)
    assert "\n" not in str(refused.value)
    assert isinstance(refused.value, OmnisdkError)


def test_the_generated_plugin_has_the_one_shape() -> None:
    files = render_files(PluginNames.from_name("tiki"))
    assert set(map(PurePosixPath, SHAPE)) <= set(files)


def test_no_token_and_no_other_name_is_left_in_a_generated_file() -> None:
    for path, text in render_files(PluginNames.from_name("tiki")).items():
        assert "{{" not in str(path) and "{{" not in text, path
        assert "example" not in text.lower(), f"{path} still names the example plugin"


def test_the_pyproject_declares_the_entry_point_and_extras() -> None:
    pyproject = render_files(PluginNames.from_name("tiki"))[PurePosixPath("pyproject.toml")]
    assert 'name = "omnisdk-tiki"' in pyproject
    assert '[project.entry-points."omnisdk.plugins"]\ntiki = "omnisdk_tiki.plugin"' in pyproject
    assert 'sandbox = ["omnisdk[sandbox]"]' in pyproject
    assert 'test = ["omnisdk-tiki[sandbox]"' in pyproject
    assert 'dependencies = ["omnisdk>=0.1"]' in pyproject


def test_an_unknown_token_in_a_template_is_an_error() -> None:
    with pytest.raises(ScaffoldError, match=r"unknown token \{\{nmae\}\}"):
        _fill("class {{nmae}}Channel: ...", PluginNames.from_name("tiki").tokens(), "channel.py")


def test_the_plugin_is_written_where_asked(tmp_path: Path) -> None:
    written = render_plugin(PluginNames.from_name("tiki"), tmp_path / "omnisdk-tiki")
    assert len(written) == len(render_files(PluginNames.from_name("tiki")))
    channel = (tmp_path / "omnisdk-tiki" / "omnisdk_tiki" / "channel.py").read_text(
        encoding="utf-8"
    )
    assert "class TikiChannel(Channel):" in channel and 'name = "tiki"' in channel


def test_an_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "omnisdk-tiki"
    target.mkdir()
    (target / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ScaffoldError, match="already exists"):
        render_plugin(PluginNames.from_name("tiki"), target)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
