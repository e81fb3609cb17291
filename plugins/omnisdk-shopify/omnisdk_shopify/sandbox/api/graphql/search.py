"""Shopify's search syntax (the ``query:`` argument of list fields), the subset clients send.

Supported: ``field:value`` terms joined by ``AND`` (or plain spaces) and ``OR``, comparisons
``field:>=value`` ``field:<'value'`` (``>``, ``<``, ``>=``, ``<=``), quoted values, ``-field:x``
and ``NOT field:x`` negation, ``*`` prefix wildcards (``sku:AT-*``) and bare words (matched
against the type's default text field). Dates compare as instants; ``updated_at`` becomes the
``updated_at`` attribute via each type's field table. A field the table does not know matches
everything and is reported back, as Shopify reports it in ``extensions.search``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["SearchQuery", "parse_search"]

Accessor = Callable[[Any], Any]
"""Reads one searchable field from a state object (a value or a list of values)."""

_VALUE = r"""(?:'[^']*'|"[^"]*"|[^\s()]+)"""
_TOKEN = re.compile(rf"\s*(?:(\()|(\))|(-?[\w.]+:(?:[<>]=?)?{_VALUE})|({_VALUE}))")
_TERM = re.compile(r"""^(-?)([\w.]+):([<>]=?)?(.*)$""", re.S)


@dataclass(frozen=True)
class _Term:
    field: str
    op: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class _Node:
    kind: str  # "and" | "or" | "not" | "term"
    children: tuple[_Node, ...] = ()
    term: _Term | None = None


class SearchQuery:
    """A parsed search string, ready to test state objects against a field table."""

    def __init__(self, root: _Node | None, text: str) -> None:
        self._root = root
        self.text = text

    def unknown_fields(self, fields: Mapping[str, Accessor]) -> list[str]:
        """Fields the query names that ``fields`` does not know (Shopify warns about them)."""
        found: list[str] = []

        def walk(node: _Node) -> None:
            if node.term is not None and node.term.field not in fields and node.term.field:
                found.append(node.term.field)
            for child in node.children:
                walk(child)

        if self._root is not None:
            walk(self._root)
        return found

    def matches(self, obj: Any, fields: Mapping[str, Accessor], default_field: str) -> bool:
        """Whether ``obj`` satisfies the query, reading fields through ``fields``."""
        if self._root is None:
            return True
        return self._eval(self._root, obj, fields, default_field)

    def _eval(
        self, node: _Node, obj: Any, fields: Mapping[str, Accessor], default_field: str
    ) -> bool:
        if node.kind == "and":
            return all(self._eval(c, obj, fields, default_field) for c in node.children)
        if node.kind == "or":
            return any(self._eval(c, obj, fields, default_field) for c in node.children)
        if node.kind == "not":
            return not self._eval(node.children[0], obj, fields, default_field)
        assert node.term is not None
        term = node.term
        name = term.field or default_field
        accessor = fields.get(name)
        if accessor is None:
            return True
        result = _test(accessor(obj), term.op, term.value)
        return not result if term.negated else result


def parse_search(text: str | None) -> SearchQuery:
    """Parse a Shopify search string (None or blank: matches everything)."""
    if not text or not text.strip():
        return SearchQuery(None, text or "")
    tokens = [m for m in _TOKEN.finditer(text) if m.group(0).strip()]
    position = 0

    def parse_or() -> _Node:
        nonlocal position
        parts = [parse_and()]
        while position < len(tokens) and _word(tokens[position]) == "OR":
            position += 1
            parts.append(parse_and())
        return parts[0] if len(parts) == 1 else _Node("or", tuple(parts))

    def parse_and() -> _Node:
        nonlocal position
        parts: list[_Node] = []
        while position < len(tokens):
            token = tokens[position]
            word = _word(token)
            if token.group(2) or word == "OR":
                break
            if word == "AND":
                position += 1
                continue
            parts.append(parse_unary())
        if not parts:
            return _Node("and")
        return parts[0] if len(parts) == 1 else _Node("and", tuple(parts))

    def parse_unary() -> _Node:
        nonlocal position
        token = tokens[position]
        position += 1
        if _word(token) == "NOT":
            return _Node("not", (parse_unary(),))
        if token.group(1):
            inner = parse_or()
            if position < len(tokens) and tokens[position].group(2):
                position += 1
            return inner
        if token.group(3):
            match = _TERM.match(token.group(3))
            assert match is not None
            negated, field, op, value = match.groups()
            return _Node(
                "term", term=_Term(field.lower(), op or ":", _unquote(value), negated=bool(negated))
            )
        return _Node("term", term=_Term("", ":", _unquote(token.group(4) or "")))

    root = parse_or()
    return SearchQuery(root, text)


def _word(token: re.Match[str]) -> str | None:
    return token.group(4) if token.group(4) in ("AND", "OR", "NOT") else None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _test(actual: Any, op: str, expected: str) -> bool:
    if isinstance(actual, list | tuple | set):
        return any(_test(item, op, expected) for item in actual)
    if actual is None:
        return False
    if isinstance(actual, datetime):
        return _compare(actual, op, _parse_instant(expected))
    if isinstance(actual, bool):
        return _compare(actual, op, expected.lower() == "true")
    if isinstance(actual, int):
        try:
            return _compare(actual, op, int(expected.rsplit("/", 1)[-1]))
        except ValueError:
            return False
    text, wanted = str(actual).lower(), expected.lower()
    if op == ":":
        if wanted.endswith("*"):
            return text.startswith(wanted[:-1])
        return text == wanted
    return _compare(text, op, wanted)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if expected is None:
        return False
    if op == ":":
        return bool(actual == expected)
    return bool(
        {
            ">": actual > expected,
            ">=": actual >= expected,
            "<": actual < expected,
            "<=": actual <= expected,
        }[op]
    )


def _parse_instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
