"""``reference/configuration.md``: every key of omnisdk.toml, walked from the pydantic models.

The walk starts at :class:`omnisdk.config.Config`: a field whose type is a model is a table
(``[engine]``), a list of models is an array of tables (``[[channels]]``), anything else is a
key. A key without a description is an error, so the page can never list an unexplained key.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from omnisdk.channel import ChannelSettings
from omnisdk.config import Config

from .text import cell, describe_default, describe_type, docstring, slug

__all__ = ["ConfigTable", "config_page", "config_tables", "missing_descriptions"]

HEADER = """# Configuration reference

<!-- Generated at build time from the pydantic models in omnisdk/config (scripts/manual). -->

Every key `omnisdk.toml` accepts, with its type, default and meaning. The file is found at
`-c/--config PATH`, else `$OMNISDK_CONFIG`, else `./omnisdk.toml`; any string value may name
environment variables (`"${SHOPIFY_TOKEN}"`), which is how secrets stay out of the file.
Durations are written `"30s"`, `"15m"`, `"6h"`, `"2d"`, `"1w"` (or a number of seconds).
An unknown key is an error that names the key, its line and the closest known spelling.
`omnisdk check` validates a file without running anything.
"""


@dataclass(frozen=True)
class ConfigTable:
    """One TOML table of the config file and the model that reads it."""

    header: str
    model: type[BaseModel]
    keys: dict[str, FieldInfo]


def _model_of(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """(model, is_array) when ``annotation`` is a model or a list of models."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if typing.get_origin(annotation) in (list, tuple):
        args = typing.get_args(annotation)
        if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0], True
    return None, False


def _walk(model: type[BaseModel], path: str, array: bool) -> list[ConfigTable]:
    header = f"[[{path}]]" if array else f"[{path}]"
    keys: dict[str, FieldInfo] = {}
    nested: list[ConfigTable] = []
    for name, field in model.model_fields.items():
        sub, sub_array = _model_of(field.annotation)
        if sub is not None:
            nested += _walk(sub, f"{path}.{name}" if path else name, sub_array)
        elif path:
            keys[name] = field
    if path == "channels":
        nested.insert(0, ConfigTable("[channels.settings]", ChannelSettings,
                                     dict(ChannelSettings.model_fields)))
    tables = [ConfigTable(header, model, keys)] if path else []
    return tables + nested


def config_tables() -> list[ConfigTable]:
    """Every table of the config file, in the order the page shows them."""
    return _walk(Config, "", array=False)


def missing_descriptions() -> list[str]:
    """``table.key`` of every config key whose model field has no description."""
    return [
        f"{table.header}.{name}"
        for table in config_tables()
        for name, field in table.keys.items()
        if not (field.description or "").strip()
    ]


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return describe_default(field.default_factory())  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "required"
    return describe_default(field.default)


def _table_section(table: ConfigTable) -> str:
    lines = [f"## `{table.header}` {{#{slug(table.header)}}}", "", docstring(table.model), ""]
    if table.header == "[channels.settings]":
        lines += [
            "The keys each channel type takes are on its page under "
            "[Channels](../channels/index.md); these are common to all of them.",
            "",
        ]
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    for name, field in table.keys.items():
        lines.append(
            f"| `{name}` | {describe_type(field.annotation)} | `{_default(field)}` | "
            f"{cell(field.description or '')} |"
        )
    return "\n".join(lines) + "\n"


def config_page() -> str:
    """The Markdown of the configuration reference; ValueError if a key is undescribed."""
    missing = missing_descriptions()
    if missing:
        raise ValueError("config keys without a description: " + ", ".join(missing))
    return "\n".join([HEADER, *(_table_section(table) for table in config_tables())])
