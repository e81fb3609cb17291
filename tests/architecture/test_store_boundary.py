"""Only the store runs SQL, read from the source (ast).

Only the store runs SQL: no module of ``omnisdk/`` outside ``omnisdk/store/`` imports
SQLAlchemy or Alembic (not even for a type: the store's own ``Transaction`` alias is how a
transaction handle is named elsewhere), nor the store's tables and plumbing
(``omnisdk.store.schema``, ``core``, ``engine``, ``migrate``, ``migrations``).
Every table and index is declared in ``omnisdk/store/schema.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

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
