"""Every error omnisdk and its plugins raise is in one tree rooted at OmnisdkError.

A caller catches :class:`~omnisdk.OmnisdkError` for anything the SDK raises, or one class of
the tree for one kind of failure; so every public exception class is in the tree, and nobody
raises the bare root where a class that says what went wrong fits.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import omnisdk
from omnisdk.errors import OmnisdkError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["omnisdk", "omnisdk_shopify", "omnisdk_shopee", "omnisdk_example"]


def _modules(package: str) -> list[ModuleType]:
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if ".migrations" in info.name:
            continue  # Alembic scripts import alembic's run-time context
        found.append(importlib.import_module(info.name))
    return found


def _sources() -> list[Path]:
    files = list((ROOT / "omnisdk").rglob("*.py"))
    for plugin in (ROOT / "plugins").glob("*/omnisdk_*"):
        files.extend(plugin.rglob("*.py"))
    return files


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_exception_class_is_in_the_tree(package: str) -> None:
    outside = sorted(
        f"{module.__name__}.{name}"
        for module in _modules(package)
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
        and not name.startswith("_")
        and not issubclass(value, OmnisdkError)
    )
    assert outside == [], f"exception classes outside the OmnisdkError tree: {outside}"


def bare_root_raises(source: str) -> list[int]:
    """Lines of ``source`` that raise ``OmnisdkError(...)`` itself."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name)
        and node.exc.func.id == "OmnisdkError"
    ]


def test_the_bare_root_is_never_raised() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources()
        for line in bare_root_raises(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "raise a class that says what went wrong, not OmnisdkError: " + ", ".join(
        found
    )


def test_the_bare_root_check_can_fail() -> None:
    assert bare_root_raises("raise OmnisdkError('x')\nraise UsageError('y')\n") == [1]


def test_the_tree_is_exported_from_the_package_root() -> None:
    import omnisdk.errors as errors

    for name in errors.__all__:
        assert getattr(omnisdk, name) is getattr(errors, name), name


def test_the_manual_shows_the_tree_the_code_has() -> None:
    import omnisdk.errors as errors

    in_code = (errors.__doc__ or "").split("::\n\n", 1)[1].strip("\n")
    in_code = "\n".join(line[4:] for line in in_code.splitlines())
    manual = (ROOT / "docs" / "reference" / "errors.md").read_text(encoding="utf-8")
    assert f"```\n{in_code}\n```" in manual, "docs/reference/errors.md differs from errors.py"


def test_an_error_quoting_broken_text_can_be_logged_written_and_pickled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A message built from platform data may quote a lone surrogate (broken UTF-8 decoded
    leniently): str() of any omnisdk error shows it as U+FFFD, so a UTF-8 log file, the
    database and pytest-xdist's report pipe (which cannot encode it) never fail on it."""
    import logging
    import pickle

    from omnisdk.errors import MappingError

    error = MappingError(
        "SKU '\ud800ÁO-DÀI' is not a SKU", channel="shopee/hanoi", kind="order", external_id="9"
    )
    text = str(error)
    assert "\ufffdÁO-DÀI" in text
    text.encode("utf-8")  # would raise UnicodeEncodeError with the surrogate
    assert str(pickle.loads(pickle.dumps(error))) == text
    with caplog.at_level(logging.WARNING):
        logging.getLogger("omnisdk.test").warning("%s", error)
    caplog.records[-1].getMessage().encode("utf-8")
