"""The package's boundaries, read from its source and its import graph.

Only the store runs SQL: no module of ``omnisdk/`` outside ``omnisdk/store/`` imports
SQLAlchemy or Alembic (not even for a type: the store's own ``Transaction`` alias is how a
transaction handle is named elsewhere), nor the store's tables and plumbing
(``omnisdk.store.schema``, ``core``, ``engine``, ``migrate``, ``migrations``).

The engine's parts take what they use (a ``SyncContext``), not the engine: with grimp's graph
of ``omnisdk``, no module of ``omnisdk.sync`` imports ``omnisdk.sync.engine`` but the
package's ``__init__`` (type-checking imports count), the ``omnisdk.sync`` modules import each
other without a cycle (run-time imports, which include those inside functions), and nothing in
``omnisdk.sync`` leads to ``omnisdk.cli``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import grimp
import pytest

import omnisdk

PACKAGE = Path(omnisdk.__file__).parent

FORBIDDEN_OUTSIDE_STORE = ("sqlalchemy", "alembic")
"""Top-level packages only the store may import."""
STORE_INTERNALS = tuple(
    f"omnisdk.store.{name}" for name in ("schema", "core", "engine", "migrate", "migrations")
)
"""Store modules only the store may import (tables, statements, connections, migrations)."""


def _imported(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import in ``path`` (a module of the package at
    ``root``), relative imports resolved; ``from a import b`` yields ``a`` and ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root.parent).parent.parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _is_within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(f"{prefix}.")


def store_boundary_violations(root: Path) -> list[str]:
    """``path:line imports name`` for each import in the package at ``root``, outside its
    ``store`` subpackage, that only the store may make."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(root / "store"):
            continue
        for line, name in _imported(path, root):
            if any(_is_within(name, p) for p in (*FORBIDDEN_OUTSIDE_STORE, *STORE_INTERNALS)):
                found.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return sorted(set(found))


def test_only_the_store_imports_sqlalchemy_and_its_tables() -> None:
    assert store_boundary_violations(PACKAGE) == []


def declared_outside_schema(store: Path) -> list[str]:
    """``path:line`` of each ``Table(...)`` or ``Index(...)`` made in ``store`` outside
    ``schema.py`` (the store's one declaration of its tables)."""
    found = []
    for path in sorted(store.rglob("*.py")):
        if path.name == "schema.py" and path.parent == store:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("Table", "Index"):
                    found.append(f"{path.relative_to(store.parent)}:{node.lineno}")
    return found


def test_every_table_is_declared_in_the_schema_module() -> None:
    assert declared_outside_schema(PACKAGE / "store") == []


def test_the_schema_check_sees_a_table_declared_elsewhere(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "migrations").mkdir(parents=True)
    (store / "schema.py").write_text("accounts = Table('a', metadata)\n")
    (store / "listings.py").write_text("x = 1\nlistings = sa.Table('l', metadata)\n")
    (store / "migrations" / "env.py").write_text("Index(None, 'sku')\n")
    assert declared_outside_schema(store) == ["store/listings.py:2", "store/migrations/env.py:1"]


def test_the_store_boundary_check_sees_a_violation(tmp_path: Path) -> None:
    fake = tmp_path / "omnisdk"
    (fake / "sync").mkdir(parents=True)
    (fake / "store").mkdir()
    (fake / "store" / "anything.py").write_text("from sqlalchemy import select\n")
    (fake / "sync" / "__init__.py").write_text("")
    (fake / "sync" / "status.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy import Connection\n"
        "def f():\n"
        "    from ..store.schema import accounts\n"
        "import omnisdk.store.core\n"
        "from omnisdk.store import Transaction, schema\n"
    )
    assert store_boundary_violations(fake) == [
        "omnisdk/sync/status.py:3 imports sqlalchemy",
        "omnisdk/sync/status.py:3 imports sqlalchemy.Connection",
        "omnisdk/sync/status.py:5 imports omnisdk.store.schema",
        "omnisdk/sync/status.py:5 imports omnisdk.store.schema.accounts",
        "omnisdk/sync/status.py:6 imports omnisdk.store.core",
        "omnisdk/sync/status.py:7 imports omnisdk.store.schema",
    ]


# -- the engine's parts ------------------------------------------------------------------------

SYNC = "omnisdk.sync"
ENGINE = "omnisdk.sync.engine"
ENGINE_IMPORTERS = frozenset({SYNC})
"""What may import the engine inside ``omnisdk.sync``: the package's ``__init__`` (its public
face) only."""


def _graph(package: str, *, type_checking: bool) -> grimp.ImportGraph:
    return grimp.build_graph(
        package, exclude_type_checking_imports=not type_checking, cache_dir=None
    )


def _within(graph: grimp.ImportGraph, package: str) -> set[str]:
    return {m for m in graph.modules if m == package or m.startswith(f"{package}.")}


def import_cycles(graph: grimp.ImportGraph, modules: Iterable[str]) -> list[list[str]]:
    """The strongly connected groups (more than one module) of ``modules``' imports among
    themselves (Tarjan's algorithm, iteratively)."""
    members = set(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(members):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & members)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    imported = graph.find_modules_directly_imported_by(step) & members
                    work.append((step, iter(sorted(imported))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


def engine_importers(graph: grimp.ImportGraph, package: str, engine: str) -> set[str]:
    """The modules of ``package`` that import ``engine`` directly."""
    return graph.find_modules_that_directly_import(engine) & _within(graph, package)


def test_the_sync_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph("omnisdk", type_checking=False)
    assert import_cycles(graph, _within(graph, SYNC)) == []


def test_no_engine_part_imports_the_engine_not_even_for_types() -> None:
    graph = _graph("omnisdk", type_checking=True)
    assert engine_importers(graph, SYNC, ENGINE) <= ENGINE_IMPORTERS


def test_the_sync_engine_never_leads_to_the_cli() -> None:
    graph = _graph("omnisdk", type_checking=True)
    assert not graph.chain_exists(importer=SYNC, imported="omnisdk.cli", as_packages=True)


def test_the_graph_checks_see_a_cycle_and_an_engine_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fakesync"
    fake.mkdir()
    (fake / "__init__.py").write_text("from fakesync import engine\n")
    (fake / "engine.py").write_text("from fakesync import pusher\n")
    (fake / "pusher.py").write_text("def sellable():\n    from fakesync import stock\n")
    (fake / "stock.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from fakesync import pusher\n"
        "if TYPE_CHECKING:\n"
        "    from fakesync.engine import Engine\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        run_time = _graph("fakesync", type_checking=False)
        typed = _graph("fakesync", type_checking=True)
    finally:
        for name in [m for m in sys.modules if m == "fakesync" or m.startswith("fakesync.")]:
            del sys.modules[name]
    assert import_cycles(run_time, _within(run_time, "fakesync")) == [
        ["fakesync.pusher", "fakesync.stock"]
    ]
    assert engine_importers(run_time, "fakesync", "fakesync.engine") == {"fakesync"}
    assert engine_importers(typed, "fakesync", "fakesync.engine") == {
        "fakesync",
        "fakesync.stock",
    }
    assert import_cycles(typed, _within(typed, "fakesync")) == [
        ["fakesync.engine", "fakesync.pusher", "fakesync.stock"]
    ]
