"""The generated pages cover the code they are generated from: every hook, command, key, channel."""

from __future__ import annotations

import inspect

import pytest
from manual_tools import manual

from omnisdk import hookspecs
from omnisdk.config import Config
from omnisdk.plugins import Plugins

pages = manual("pages")
config_reference = manual("config_reference")
cli_reference = manual("cli_reference")


def test_every_hookspec_is_documented_with_its_docstring() -> None:
    page = manual("hook_reference").hook_page()
    names = [n for n, f in vars(hookspecs).items()
             if n.startswith("omnisdk_") and inspect.isfunction(f)]
    assert len(names) >= 12
    for name in names:
        function = getattr(hookspecs, name)
        assert function.__doc__, f"{name} has no docstring"
        assert f"## `{name}`" in page
        assert inspect.cleandoc(function.__doc__) in page


def test_every_config_key_has_a_description() -> None:
    assert config_reference.missing_descriptions() == []


def test_every_config_key_is_on_the_page() -> None:
    page = config_reference.config_page()
    tables = config_reference.config_tables()
    assert {table.header for table in tables} >= {"[store]", "[engine]", "[[channels]]",
                                                  "[channels.allocation]", "[channels.poll]"}
    for table in tables:
        assert f"## `{table.header}`" in page
        for key, field in table.keys.items():
            assert f"| `{key}` |" in page, f"{table.header} {key}"
            assert " ".join((field.description or "").split())[:40].replace("``", "`") in page
    engine_keys = next(t for t in tables if t.header == "[engine]").keys
    assert set(engine_keys) == set(Config.model_fields["engine"].annotation.model_fields)


def test_an_undescribed_key_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_reference, "missing_descriptions", lambda: ["[engine].x"])
    with pytest.raises(ValueError, match=r"\[engine\]\.x"):
        config_reference.config_page()


def test_every_cli_command_and_option_is_on_the_page() -> None:
    page = cli_reference.cli_page()
    paths = [path for path, _command, _ctx in cli_reference.cli_commands()]
    for expected in ("omnisdk run", "omnisdk stock set", "omnisdk quarantine retry"):
        assert expected in paths
    for path, command, _ctx in cli_reference.cli_commands():
        assert f"`{path}` {{#" in page, path
        if command.help:
            assert inspect.cleandoc(command.help).splitlines()[0] in page, path
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert opt in page, f"{path} {opt}"
    assert len(paths) >= 20


def test_every_installed_channel_type_has_a_page() -> None:
    types = Plugins().channel_types()
    generated = pages.generated_pages()
    index = generated["channels/index.md"]
    for name, channel_type in types.items():
        page = generated[f"channels/{name}.md"]
        assert f"[{name}]({name}.md)" in index
        for capability in channel_type.cls.capabilities:
            assert f"- `{capability.value}`" in page
        for key in channel_type.cls.settings_model.model_fields:
            assert f"| `{key}` |" in page
        assert channel_type.cls.limits.stock_push_mode.value in page
