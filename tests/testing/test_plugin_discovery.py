"""Plugins are found through the real entry point mechanism, without installing anything.

Each test writes ``*.dist-info`` directories (METADATA + entry_points.txt) into a temporary
directory and puts it on ``sys.path``: exactly what ``pip install`` leaves behind, so
importlib.metadata and stevedore find the plugins the way they find installed ones. Other
plugins really installed in the environment may load too; the tests look only at theirs.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from omnisdk_example.channel import ExampleChannel
from stevedore import ExtensionManager

from omnisdk import PluginError, Plugins
from omnisdk.plugins import DISABLE_ENV, LOAD_ENV

Distribute = Callable[..., None]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Distribute]:
    """A fake site-packages on sys.path; ``site(dist, version, entry_points, modules)``."""
    monkeypatch.syspath_prepend(str(tmp_path))
    # stevedore remembers each namespace's entry points for the life of the process.
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    monkeypatch.delenv(LOAD_ENV, raising=False)
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    added: list[str] = []

    def distribute(
        name: str, version: str, entry_points: dict[str, str], modules: dict[str, str] | None = None
    ) -> None:
        info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[omnisdk.plugins]\n{lines}", encoding="utf-8")
        for module, source in (modules or {}).items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            added.append(module)

    yield distribute
    for module in added:
        sys.modules.pop(module, None)


def test_the_example_plugin_is_found_registered_and_attributed(site: Distribute) -> None:
    site("omnisdk-example", "0.1", {"example": "omnisdk_example.plugin"})
    plugins = Plugins()
    types = plugins.channel_types()
    assert "example" in types, plugins.failures
    example = types["example"]
    assert example.cls is ExampleChannel
    assert (example.plugin, example.distribution, example.version) == (
        "example",
        "omnisdk-example",
        "0.1",
    )
    described = example.describe()
    assert described["limits"]["stock_push_mode"] == "compare_and_swap"
    assert described["limits"]["max_stock_batch"] == 20
    assert "write_stock" in described["capabilities"] and described["sandbox"] is True
    assert plugins.channel_class("example") is ExampleChannel
    assert not [f for f in plugins.failures if f.name == "example"]


def test_a_broken_plugin_is_reported_and_the_host_keeps_working(site: Distribute) -> None:
    site("omnisdk-example", "0.1", {"example": "omnisdk_example.plugin"})
    site(
        "omnisdk-broken",
        "2.0",
        {"broken": "omnisdk_broken_plugin"},
        {
            "omnisdk_broken_plugin": """
            raise ImportError("omnisdk-broken needs libkhongco, which is not installed")
        """,
        },
    )
    plugins = Plugins()
    [failure] = [f for f in plugins.failures if f.name == "broken"]
    assert "libkhongco" in failure.error and failure.distribution == "omnisdk-broken"
    assert plugins.channel_class("example") is ExampleChannel
    with pytest.raises(PluginError, match=r"failed to load.*libkhongco"):
        plugins.channel_class("broken")


def test_a_misspelled_hook_is_rejected_and_reported(site: Distribute) -> None:
    site(
        "omnisdk-typo",
        "0.3",
        {"typo": "omnisdk_typo_plugin"},
        {
            "omnisdk_typo_plugin": """
            from omnisdk import hookimpl

            @hookimpl
            def omnisdk_order_recieved(order, is_new):
                pass
        """,
        },
    )
    site("omnisdk-example", "0.1", {"example": "omnisdk_example.plugin"})
    plugins = Plugins()
    [failure] = [f for f in plugins.failures if f.name == "typo"]
    assert "omnisdk_order_recieved" in failure.error
    assert failure.distribution == "omnisdk-typo"
    assert not plugins.pm.has_plugin("typo")
    assert plugins.channel_class("example") is ExampleChannel


def test_load_env_restricts_loading_to_the_named_plugins(
    site: Distribute, monkeypatch: pytest.MonkeyPatch
) -> None:
    site("omnisdk-example", "0.1", {"example": "omnisdk_example.plugin"})
    site(
        "omnisdk-broken",
        "2.0",
        {"broken": "omnisdk_broken_plugin"},
        {
            "omnisdk_broken_plugin": "raise ImportError('never imported')\n",
        },
    )
    monkeypatch.setenv(LOAD_ENV, "example")
    plugins = Plugins()
    assert "example" in plugins.channel_types()
    assert plugins.failures == []  # the broken one was never tried
    assert "omnisdk_broken_plugin" not in sys.modules

    monkeypatch.setenv(LOAD_ENV, "")
    assert Plugins().channel_types() == {}


def test_disable_env_blocks_the_named_plugins(
    site: Distribute, monkeypatch: pytest.MonkeyPatch
) -> None:
    site("omnisdk-example", "0.1", {"example": "omnisdk_example.plugin"})
    monkeypatch.setenv(DISABLE_ENV, "somethingelse, example")
    plugins = Plugins()
    assert "example" not in plugins.channel_types()
    with pytest.raises(PluginError, match="no channel type 'example'"):
        plugins.channel_class("example")


def test_tests_can_skip_entry_points_and_register_directly() -> None:
    import omnisdk_example.plugin

    plugins = Plugins(entry_points=False)
    assert plugins.channel_types() == {}
    plugins.register(omnisdk_example.plugin, name="example")
    assert plugins.channel_class("example") is ExampleChannel
