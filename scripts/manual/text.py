"""Small Markdown helpers shared by the page generators."""

from __future__ import annotations

import inspect
import re
import types
import typing
from datetime import timedelta
from enum import Enum
from typing import Any

__all__ = ["cell", "describe_default", "describe_type", "docstring", "duration_text", "slug"]


def docstring(obj: object) -> str:
    """``obj``'s own docstring, dedented, with Sphinx roles (``:class:`X```) made plain code."""
    text = inspect.cleandoc(getattr(obj, "__doc__", None) or "")
    return plain_roles(text)


def plain_roles(text: str) -> str:
    """Turn reST roles and double backticks into Markdown inline code."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def cell(text: str) -> str:
    """``text`` on one line, safe inside a Markdown table cell."""
    return " ".join(plain_roles(text).split()).replace("|", "\\|")


def slug(text: str) -> str:
    """A lowercase anchor id: what ``{#...}`` and links use."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def duration_text(value: timedelta) -> str:
    """A duration as the config writes it: ``30s``, ``15m``, ``4h``, ``30d``."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def describe_default(value: Any) -> str:
    """How a default value is written in omnisdk.toml."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return f'"{duration_text(value)}"'
    if isinstance(value, Enum):
        return f'"{value.value}"'
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(value) if isinstance(value, (frozenset, set)) else value
        return "[" + ", ".join(describe_default(item) for item in items) + "]"
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value)


def describe_type(annotation: Any) -> str:
    """A short, readable name for a field's type (``str | None``, ``duration``, ``list[str]``)."""
    if annotation is timedelta:
        return "duration"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return describe_type(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " \\| ".join(f'"{arg}"' for arg in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(describe_type(arg) for arg in typing.get_args(annotation))
    if origin in (list, tuple, set, frozenset):
        args = [describe_type(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis]
        return f"list of {args[0]}" if args else "list"
    if origin is not None:
        args = [describe_type(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis]
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(args)}]" if args else name
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f'"{member.value}"' for member in annotation)
    return getattr(annotation, "__name__", str(annotation))
