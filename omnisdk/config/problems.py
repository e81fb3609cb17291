"""What is wrong with a config file, and where: key paths, line numbers, readable messages.

Pydantic's errors are rewritten here: each says the key path (``channels[0].settings.shop``)
and what was expected, never the input value (pydantic adds ``input_value=...`` by default,
which would print secrets).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError

from omnisdk.errors import ConfigError

__all__ = [
    "ConfigProblem",
    "InvalidConfig",
    "KeyLines",
    "KeyPath",
    "format_key",
    "secret_inputs",
    "validation_problems",
]

KeyPath = Sequence[str | int]
"""A key path as parts: ``["channels", 0, "settings", "shop"]``."""

_SHORTEST_SCRUBBED_SECRET = 3  # shorter "secrets" would mangle messages and protect nothing


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file: a message, the key path and the line if known."""

    message: str
    key: str | None = None
    line: int | None = None

    def error(self, source: str) -> ConfigError:
        """This problem as a :class:`~omnisdk.errors.ConfigError` for the file ``source``."""
        return ConfigError(self.message, source=self.where(source), key=self.key)

    def where(self, source: str) -> str:
        """``source:line`` when the line is known, else ``source``."""
        return f"{source}:{self.line}" if self.line else source


class InvalidConfig(ConfigError):
    """A config file has one or more problems; ``problems`` lists them all.

    With one problem the message is that problem's (``omnisdk.toml:7, key 'channels[0].type':
    ...``); with more, a first line counts them and each follows on a line of its own.
    """

    def __init__(self, source: str, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            only = self.problems[0]
            super().__init__(only.message, source=only.where(source), key=only.key)
        else:
            lines = "\n".join(f"  {problem.error(source)}" for problem in self.problems)
            super().__init__(f"{len(self.problems)} problems:\n{lines}", source=source)


def format_key(parts: KeyPath) -> str:
    """``["channels", 0, "settings", "shop"]`` as ``channels[0].settings.shop``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


class KeyLines:
    """Best-effort map from key paths to the line that sets them in a TOML text.

    tomllib reports no positions for valid documents, so this reads table headers and
    ``key = value`` lines the simple way. Inline tables and multi-line values are not
    followed: their keys fall back to the line of the enclosing table or key.
    """

    _ARRAY_HEADER = re.compile(r"\s*\[\[\s*([^\]]+?)\s*\]\]")
    _HEADER = re.compile(r"\s*\[\s*([^\]]+?)\s*\]")
    _KEY = re.compile(
        r"\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
        r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
    )

    def __init__(self, text: str = "") -> None:
        self.lines: dict[str, int] = {}
        arrays: dict[tuple[str, ...], int] = {}
        table: list[str | int] = []
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            if match := self._ARRAY_HEADER.match(line):
                names = self._split(match.group(1))
                arrays[tuple(names)] = arrays.get(tuple(names), -1) + 1
                table = self._resolve(names, arrays)
                self.lines.setdefault(format_key(table[:-1]), number)  # the array itself
                self.lines.setdefault(format_key(table), number)
            elif match := self._HEADER.match(line):
                table = self._resolve(self._split(match.group(1)), arrays)
                self.lines.setdefault(format_key(table), number)
            elif match := self._KEY.match(line):
                self.lines.setdefault(format_key([*table, *self._split(match.group(1))]), number)
                for quotes in ('"""', "'''"):
                    if line.count(quotes) % 2 == 1:
                        in_multiline = quotes

    @staticmethod
    def _split(dotted: str) -> list[str]:
        parts = re.findall(r"\"[^\"]*\"|'[^']*'|[^.\s]+", dotted)
        return [part[1:-1] if part[:1] in "\"'" else part for part in parts]

    @staticmethod
    def _resolve(names: list[str], arrays: Mapping[tuple[str, ...], int]) -> list[str | int]:
        resolved: list[str | int] = []
        for depth, name in enumerate(names, start=1):
            resolved.append(name)
            index = arrays.get(tuple(names[:depth]))
            if index is not None:
                resolved.append(index)
        return resolved

    def find(self, parts: KeyPath) -> int | None:
        """The line of ``parts``, else of its closest enclosing key or table."""
        for end in range(len(parts), 0, -1):
            line = self.lines.get(format_key(parts[:end]))
            if line is not None:
                return line
        return None

    def problem(self, parts: KeyPath, message: str) -> ConfigProblem:
        """A :class:`ConfigProblem` at ``parts``, with its line when it can be found."""
        return ConfigProblem(message, format_key(parts) or None, self.find(parts))


# -- secrets -------------------------------------------------------------------------------------


def _is_secret(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, SecretStr | SecretBytes):
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


def secret_inputs(model: type[BaseModel], raw: Mapping[str, Any]) -> list[str]:
    """The raw values given for ``model``'s secret fields, longest first (to scrub them)."""
    secrets = []
    for name, field in model.model_fields.items():
        if not _is_secret(field.annotation):
            continue
        for key in (name, field.alias):
            value = raw.get(key) if key else None
            if isinstance(value, str) and len(value) >= _SHORTEST_SCRUBBED_SECRET:
                secrets.append(value)
    return sorted(secrets, key=len, reverse=True)


def _scrub(message: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


# -- pydantic errors -----------------------------------------------------------------------------

_MESSAGES_BY_TYPE = {
    "missing": "required key is missing",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "dict_type": "expected a table",
    "list_type": "expected an array",
}


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _model_at(model: type[BaseModel], loc: KeyPath) -> type[BaseModel] | None:
    """The model class whose fields live at ``loc`` inside ``model`` (None if not a model)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _unwrap_optional(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unknown_key_message(model: type[BaseModel], loc: KeyPath) -> str:
    owner = _model_at(model, loc[:-1])
    if owner is None or not loc:
        return "unknown key"
    expected = [field.alias or name for name, field in owner.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), expected, n=1)
    hint = f". Did you mean {close[0]!r}?" if close else ""
    return f"unknown key; expected one of: {', '.join(expected)}{hint}"


def validation_problems(
    exc: ValidationError,
    model: type[BaseModel],
    prefix: KeyPath,
    lines: KeyLines,
    *,
    secrets: Sequence[str] = (),
) -> list[ConfigProblem]:
    """Rewrite a ValidationError of ``model`` (found at ``prefix`` in the file) as problems.

    Input values are never included, and any of ``secrets`` a validator's own message may
    contain is replaced by ``***``.
    """
    problems = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = [part for part in error["loc"] if isinstance(part, str | int)]
        if error["type"] == "extra_forbidden":
            message = _unknown_key_message(model, loc)
        else:
            message = _MESSAGES_BY_TYPE.get(error["type"], error["msg"])
            message = message.removeprefix("Value error, ")
        problems.append(lines.problem([*prefix, *loc], _scrub(message, secrets)))
    return problems
