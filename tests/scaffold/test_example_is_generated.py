"""tests/example_plugin is exactly what ``omnisdk new-plugin example`` generates."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from omnisdk.scaffold import PluginNames, render_files

EXAMPLE = Path(__file__).resolve().parents[1] / "example_plugin"
REGENERATE = "rm -rf tests/example_plugin && omnisdk new-plugin example --into tests/example_plugin"
IGNORED = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def checked_in_files() -> dict[PurePosixPath, bytes]:
    """Every file of tests/example_plugin, but caches and build leftovers."""
    return {
        PurePosixPath(path.relative_to(EXAMPLE).as_posix()): path.read_bytes()
        for path in EXAMPLE.rglob("*")
        if path.is_file()
        and not IGNORED & set(path.relative_to(EXAMPLE).parts)
        and not any(part.endswith(".egg-info") for part in path.parts)
    }


def test_the_example_plugin_is_what_the_scaffold_generates() -> None:
    generated = {
        path: text.encode("utf-8")
        for path, text in render_files(PluginNames.from_name("example")).items()
    }
    on_disk = checked_in_files()
    missing = sorted(str(path) for path in generated.keys() - on_disk.keys())
    extra = sorted(str(path) for path in on_disk.keys() - generated.keys())
    changed = sorted(
        str(path) for path in generated.keys() & on_disk.keys() if generated[path] != on_disk[path]
    )
    assert not (missing or extra or changed), (
        "tests/example_plugin drifted from omnisdk/scaffold/template "
        f"(missing {missing}, not generated {extra}, different {changed}): edit the templates, "
        f"then regenerate it with `{REGENERATE}`"
    )
