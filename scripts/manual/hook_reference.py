"""``reference/hooks.md``: every hookspec in omnisdk/hookspecs.py, its signature and docstring."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from omnisdk import hookspecs

__all__ = ["hook_page", "hookspec_functions"]

HEADER = """# Plugin hooks

<!-- Generated at build time from omnisdk/hookspecs.py (scripts/manual): do not edit. -->

Every hook omnisdk calls. Implement one with the `hookimpl` marker in a plugin module (or any
object you register with `Plugins.register`). Arguments are passed by name: declare only those
you need. First-result hooks stop at the first implementation that returns something other
than None.
"""


def hookspec_functions() -> list[tuple[str, Callable[..., Any]]]:
    """(name, function) of every hookspec, in the order they are declared."""
    found = [
        (name, fn) for name, fn in vars(hookspecs).items()
        if name.startswith("omnisdk_") and inspect.isfunction(fn)
    ]
    return sorted(found, key=lambda item: item[1].__code__.co_firstlineno)


def hook_page() -> str:
    """The Markdown of the hook reference."""
    parts = [HEADER]
    for name, fn in hookspec_functions():
        options = getattr(fn, "omnisdk_spec", {}) or {}
        parameters = inspect.signature(fn).parameters.values()
        signature = ", ".join(f"{p.name}: {p.annotation}" for p in parameters)
        kind = " *(first result)*" if options.get("firstresult") else ""
        doc = inspect.cleandoc(fn.__doc__ or "")
        # A signature, not a script: shown as text so the snippet runner leaves it alone.
        parts.append(f"## `{name}`{kind}\n\n```text\n{name}({signature})\n```\n\n{doc}\n")
    return "\n".join(parts)
