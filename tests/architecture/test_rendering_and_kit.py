"""Architecture rules read from the source (ast): who may render, who may use the test kit.

Reports are plain data and the CLI draws them, so only ``omnisdk/cli`` imports ``rich``. The
demo is a program on top of the engine and the test kit, so only ``omnisdk/demo`` (and the
kit itself) imports ``omnisdk.testing``. Every import counts: at module level, inside a
function, or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "omnisdk"


def imported_modules(source: str) -> Iterator[str]:
    """Every module an ``import`` or ``from ... import`` in ``source`` names (absolute only)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            # ``from omnisdk import testing`` names the subpackage as an imported name.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def offenders(package: str, allowed: tuple[str, ...]) -> dict[str, list[str]]:
    """Modules under ``omnisdk/`` (outside the ``allowed`` subfolders) importing ``package``."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        if any(relative.startswith(f"omnisdk/{folder}/") for folder in allowed):
            continue
        hits = {m for m in imported_modules(path.read_text("utf-8")) if _is_within(m, package)}
        if hits:
            found[relative] = sorted(hits)
    return found


def test_only_the_cli_imports_rich() -> None:
    assert offenders("rich", allowed=("cli",)) == {}


def test_only_the_demo_and_the_kit_import_the_test_kit() -> None:
    assert offenders("omnisdk.testing", allowed=("testing", "demo")) == {}


def imports(source: str, package: str) -> bool:
    """True when ``source`` imports ``package`` or a module inside it."""
    return any(_is_within(module, package) for module in imported_modules(source))


@pytest.mark.parametrize(
    ("source", "package", "expected"),
    [
        ("import rich", "rich", True),
        ("from rich.table import Table", "rich", True),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rich import box\n",
            "rich",
            True,
        ),
        ("def f():\n    import rich.console as c\n", "rich", True),
        ("from omnisdk import testing", "omnisdk.testing", True),
        ("from omnisdk.testing.control import SandboxControl", "omnisdk.testing", True),
        ("from omnisdk import models", "omnisdk.testing", False),
        ("from . import rich", "rich", False),  # relative: a sibling module, not the library
        ("import richer", "rich", False),
    ],
)
def test_every_kind_of_import_is_seen(source: str, package: str, expected: bool) -> None:
    assert imports(source, package) is expected


def test_the_scan_covers_the_package() -> None:
    # The rules are only as good as the files they read: the CLI and the demo are among them.
    files = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")}
    assert {"cli/demo_render.py", "demo/run.py", "sync/status.py"} <= files
    assert offenders("rich", allowed=()) != {}  # the CLI does import rich
