"""Finding, reading and validating the config file."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from omnisdk.config.channels import plugins_or_default, resolve_channel
from omnisdk.config.env import substitute_tree
from omnisdk.config.models import Config, StoreConfig
from omnisdk.config.problems import (
    ConfigProblem,
    InvalidConfig,
    KeyLines,
    KeyPath,
    validation_problems,
)
from omnisdk.errors import ConfigError

if TYPE_CHECKING:
    from omnisdk.plugins import Plugins

__all__ = ["CONFIG_ENV", "DEFAULT_CONFIG_FILE", "find_config", "load_config", "parse_config"]

CONFIG_ENV = "OMNISDK_CONFIG"
"""The environment variable naming the config file when no path is given."""
DEFAULT_CONFIG_FILE = "omnisdk.toml"
"""The file looked for in the working directory when neither a path nor the variable is set."""

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def find_config(path: Path | str | None = None, *, env: Mapping[str, str] | None = None) -> Path:
    """Where the config is: ``path``, else ``$OMNISDK_CONFIG``, else ``./omnisdk.toml``.

    The file need not exist (the caller decides whether a missing one matters).
    """
    if path is not None:
        return Path(path)
    from_env = (os.environ if env is None else env).get(CONFIG_ENV)
    return Path(from_env) if from_env else Path(DEFAULT_CONFIG_FILE)


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    plugins: Plugins | None = None,
) -> Config:
    """Read, substitute and validate the config file.

    ``path`` defaults as :func:`find_config` says. ``env`` is where ``${VAR}`` values (and
    ``OMNISDK_CONFIG``) come from, ``os.environ`` by default. Channel types and settings are
    checked against ``plugins`` (the process-wide registry by default). Every problem found is
    reported at once in an :class:`~omnisdk.config.InvalidConfig`; a missing or unreadable file
    is a :class:`~omnisdk.errors.ConfigError`.
    """
    environ = os.environ if env is None else env
    location = find_config(path, env=environ)
    try:
        data = location.read_bytes()
    except FileNotFoundError:
        told = path is not None or environ.get(CONFIG_ENV)
        how = "" if told else f" (pass -c PATH or set {CONFIG_ENV} to use another file)"
        raise ConfigError(f"config file not found{how}", source=str(location)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror}", source=str(location)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", source=str(location)
        ) from None
    config = parse_config(
        text, source=str(location), env=environ, plugins=plugins, base_dir=location.resolve().parent
    )
    config._source = location
    return config


def _parse_toml(text: str, source: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        where = source
        if position:
            message = message[: position.start()]
            where = f"{source}:{position.group(1)}:{position.group(2)}"
        raise ConfigError(f"invalid TOML: {message}", source=where) from None


def _duplicate_names(config: Config, lines: KeyLines) -> list[ConfigProblem]:
    first: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(config.channels):
        if entry.name in first:
            problems.append(
                lines.problem(
                    ["channels", index, "name"],
                    f"duplicate channel name {entry.name!r} (channels[{first[entry.name]}] has "
                    "it already); each account needs its own name",
                )
            )
        else:
            first[entry.name] = index
    return problems


def _location_problems(config: Config, lines: KeyLines) -> list[ConfigProblem]:
    """An account's ``location`` must be a location its stock comes from, and once
    ``[engine] locations`` names the shop's locations, every location an account names must
    be one of them: otherwise its orders reserve stock at a place nothing is counted at, and
    reconciliation reports oversells that are not."""
    named = config.engine.named_locations if config.engine.locations else None
    problems = []
    for index, entry in enumerate(config.channels):
        feeds = entry.allocation.locations
        if entry.location and feeds is not None and entry.location not in feeds:
            problems.append(
                lines.problem(
                    ["channels", index, "location"],
                    f"{entry.name!r} reserves its orders at {entry.location!r}, but its stock "
                    f"comes from {', '.join(feeds)} ([channels.allocation] locations); reserve "
                    "where its stock comes from",
                )
            )
        if named is None:
            continue
        used: list[tuple[list[str | int], str]] = []
        if entry.location:
            used.append((["channels", index, "location"], entry.location))
        for place, code in enumerate(feeds or ()):
            used.append((["channels", index, "allocation", "locations", place], code))
        for path, code in used:
            if code not in named:
                close = difflib.get_close_matches(code, named, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    lines.problem(
                        path,
                        f"location {code!r} is not one of [engine] locations "
                        f"({', '.join(named)}){hint}",
                    )
                )
    return problems


def _anchor_sqlite(url: str, base_dir: Path) -> str:
    match = re.fullmatch(r"(sqlite(?:\+\w+)?):///([^?]*)(\?.*)?", url)
    if not match:
        return url
    scheme, database, query = match.group(1), match.group(2), match.group(3) or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    if Path(database).is_absolute():
        return url
    return f"{scheme}:///{base_dir / database}{query}"


def parse_config(
    text: str,
    *,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    plugins: Plugins | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Parse config ``text`` (the content of an omnisdk.toml) as :func:`load_config` does.

    ``source`` names the text in messages; ``base_dir`` anchors a relative SQLite path (the
    working directory when None).
    """
    document = _parse_toml(text, source)
    lines = KeyLines(text)
    problems: list[ConfigProblem] = []

    def unresolved(path: KeyPath, message: str) -> None:
        problems.append(lines.problem(path, message))

    substituted = substitute_tree(document, os.environ if env is None else env, unresolved)
    if problems:  # validating half-substituted values would only add confusing errors
        raise InvalidConfig(source, problems)
    try:
        config = Config.model_validate(substituted)
    except ValidationError as exc:
        raise InvalidConfig(source, validation_problems(exc, Config, [], lines)) from None

    problems.extend(_duplicate_names(config, lines))
    problems.extend(_location_problems(config, lines))
    registry = plugins_or_default(plugins)
    for index, entry in enumerate(config.channels):
        entry._source, entry._path = source, ("channels", index)
        resolved = resolve_channel(entry, registry, entry._path, lines)
        if isinstance(resolved, list):
            problems.extend(resolved)
        else:
            entry._validated = resolved[1]
    if problems:
        raise InvalidConfig(source, problems)

    anchored = _anchor_sqlite(config.store.url, base_dir or Path.cwd())
    if anchored != config.store.url:
        config = config.model_copy(update={"store": StoreConfig(url=anchored)})
    return config
