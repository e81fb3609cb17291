"""The core knows no platform, read from its source (tokens, docstrings left out).

A plugin declares what is particular to its platform (request id headers, error bodies,
record ids) on its Channel subclass; no code under ``omnisdk/`` names a platform.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "omnisdk"

PLATFORM_NAMES = re.compile(r"shopify|shopee|lazada|facebook|kiotviet|tiktok", re.IGNORECASE)
"""Platforms the core must not name in code (docstrings and comments may)."""

NAMING_ALLOWED: dict[str, str] = {}
"""Files (relative to omnisdk/) allowed to name platforms in code, each with why."""


def _docstring_starts(tree: ast.AST) -> set[tuple[int, int]]:
    """Where every string that stands alone as a statement starts: module, class and
    function docstrings, and the attribute docstrings written under assignments."""
    return {
        (node.value.lineno, node.value.col_offset)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def platform_names_in_code(source: str) -> list[tuple[int, str]]:
    """(line, token) of every name or string literal in ``source`` naming a platform,
    docstrings and comments left out."""
    docstrings = _docstring_starts(ast.parse(source))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            continue
        if token.type == tokenize.STRING and token.start in docstrings:
            continue
        if PLATFORM_NAMES.search(token.string):
            found.append((token.start[0], token.string))
    return found


def test_the_scan_sees_code_but_not_docstrings_or_comments() -> None:
    source = (
        '"""Talks to Shopify."""\n'
        "HEADERS = ('x-request-id',)  # not x-shopify-request-id\n"
        '"""Unlike Shopee\'s."""\n'
        "def f(raw):\n"
        '    """Lazada too."""\n'
        "    return raw.get('order_sn') or raw['shopee_id'] or lazada_code\n"
    )
    assert platform_names_in_code(source) == [(6, "'shopee_id'"), (6, "lazada_code")]


def test_no_platform_is_named_in_the_core() -> None:
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in NAMING_ALLOWED:
            continue
        for line, token in platform_names_in_code(path.read_text(encoding="utf-8")):
            hits.append(f"omnisdk/{relative}:{line}: {token[:80]}")
    assert not hits, "platform names in core code (move them into the plugin):\n" + "\n".join(
        hits
    )
