"""The reference pages are generated from the code; they must not drift from it."""

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

from omnisdk import hookspecs

ROOT = Path(__file__).resolve().parents[2]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module
    spec.loader.exec_module(module)
    return module


def test_hooks_page_is_current() -> None:
    page = (ROOT / "docs" / "reference" / "hooks.md").read_text(encoding="utf-8")
    assert page == load_generator().hooks_page(), "run: python scripts/gen_docs.py"


def test_every_hookspec_is_documented_with_its_docstring() -> None:
    page = (ROOT / "docs" / "reference" / "hooks.md").read_text(encoding="utf-8")
    names = [n for n, f in vars(hookspecs).items()
             if n.startswith("omnisdk_") and inspect.isfunction(f)]
    assert len(names) >= 12
    for name in names:
        function = getattr(hookspecs, name)
        assert function.__doc__, f"{name} has no docstring"
        assert f"## `{name}`" in page
        assert inspect.cleandoc(function.__doc__) in page

