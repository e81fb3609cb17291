"""Every error class the CLI can print has an entry in docs/troubleshooting.md.

The classes are found by importing every module of the core and of each installed plugin and
walking OmnisdkError's subclasses, so a new error class without an entry fails here. The
sandboxes' own refusals (classes in ``*.sandbox`` packages) are answers of the emulators,
covered by the ``SandboxError`` entry.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from omnisdk.errors import OmnisdkError
from omnisdk.plugins import Plugins

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "troubleshooting.md"
SKIPPED_MODULES = {"omnisdk.store.migrations.env"}  # Alembic's script: runs only under Alembic


def _import_everything() -> None:
    packages = {"omnisdk"} | {
        channel_type.cls.__module__.split(".")[0]
        for channel_type in Plugins().channel_types().values()
    }
    for top in sorted(packages):
        package = importlib.import_module(top)
        for info in pkgutil.walk_packages(package.__path__, f"{top}."):
            if info.name not in SKIPPED_MODULES and ".sandbox" not in info.name:
                importlib.import_module(info.name)


def error_classes() -> set[type[OmnisdkError]]:
    """Every public OmnisdkError subclass outside the sandboxes, OmnisdkError included."""
    _import_everything()
    found: set[type[OmnisdkError]] = set()
    pending: list[type[OmnisdkError]] = [OmnisdkError]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if ".sandbox" not in cls.__module__ and not cls.__name__.startswith("_"):
            found.add(cls)
    return found - {OmnisdkError}


def entries() -> list[str]:
    """The class names the page has a heading for."""
    text = PAGE.read_text(encoding="utf-8")
    return re.findall(r"^#{2,4} `(\w+)`", text, flags=re.MULTILINE)


def test_every_error_class_has_an_entry() -> None:
    classes = error_classes()
    assert len(classes) >= 30
    missing = sorted(cls.__name__ for cls in classes if cls.__name__ not in entries())
    assert missing == [], f"add an entry to docs/troubleshooting.md for: {missing}"


def test_every_entry_is_a_real_error_class_and_appears_once() -> None:
    names = entries()
    assert len(names) == len(set(names)), "an error has two entries"
    known = {cls.__name__ for cls in error_classes()}
    assert sorted(set(names) - known) == []
