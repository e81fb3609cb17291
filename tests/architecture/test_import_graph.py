"""The package's layers, read from its import graph (grimp).

- ``omnisdk`` imports itself without a cycle (run-time imports, including those inside
  functions; imports under ``if TYPE_CHECKING:`` left out).
- ``omnisdk.channel`` never reaches ``omnisdk.plugins``: channels map through the hook registry
  they are given, and the registry of channel classes is built on top of them.
- The engine's parts take what they use (a ``SyncContext``), not the engine: no module of
  ``omnisdk.sync`` imports ``omnisdk.sync.engine`` but the package's ``__init__``
  (type-checking imports count), and nothing in ``omnisdk.sync`` leads to ``omnisdk.cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

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


def test_the_package_imports_without_a_cycle() -> None:
    graph = _graph("omnisdk", type_checking=False)
    assert import_cycles(graph, graph.modules) == []


def test_channel_does_not_import_plugins() -> None:
    """Channels map through the hook registry they are given; they never reach for the
    registry of channel classes, so there is no Channel <-> plugins cycle."""
    graph = _graph("omnisdk", type_checking=False)
    assert graph.find_shortest_chain(importer="omnisdk.plugins", imported="omnisdk.channel")
    chain = graph.find_shortest_chain(importer="omnisdk.channel", imported="omnisdk.plugins")
    assert chain is None, f"omnisdk.channel imports omnisdk.plugins: {' -> '.join(chain or ())}"
