"""``${VAR}`` references in config values, replaced from the environment."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["expand_env", "substitute_tree"]

_REFERENCE = re.compile(r"\$(\$)?\{([^{}]*)\}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Path = list[str | int]


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in ``text`` with values from ``env``.

    ``${VAR:-default}`` uses ``default`` when ``VAR`` is unset or empty. ``$${...}`` is kept
    as a literal ``${...}``; a ``$`` not followed by ``{`` is left alone. Raises ValueError
    naming the variable when one is not set (and has no default) or a reference is malformed;
    the message never contains the rest of the text, which may be a secret.
    """

    def replace(match: re.Match[str]) -> str:
        escaped, body = match.group(1), match.group(2)
        if escaped:
            return "${" + body + "}"
        name, has_default, default = body.partition(":-")
        if not _VARIABLE.fullmatch(name):
            raise ValueError(
                f"malformed reference ${{{name}}}: expected ${{NAME}} or ${{NAME:-default}}, "
                "NAME being letters, digits and '_'"
            )
        value = env.get(name)
        if value:
            return value
        if has_default:
            return default
        if value is None:
            raise ValueError(
                f"environment variable {name} is not set "
                f"(set it, or write ${{{name}:-default}} to give a default)"
            )
        return value

    return _REFERENCE.sub(replace, text)


def substitute_tree(
    value: Any,
    env: Mapping[str, str],
    on_error: Callable[[Path, str], None],
    path: Path | None = None,
) -> Any:
    """Expand references in every string of a parsed TOML document (keys are left alone).

    A string that cannot be expanded is kept as it is and reported to ``on_error`` with its
    key path, so every problem of a file can be reported at once.
    """
    where: Path = path or []
    if isinstance(value, str):
        try:
            return expand_env(value, env)
        except ValueError as exc:
            on_error(where, str(exc))
            return value
    if isinstance(value, dict):
        return {
            key: substitute_tree(item, env, on_error, [*where, key]) for key, item in value.items()
        }
    if isinstance(value, list):
        return [substitute_tree(item, env, on_error, [*where, i]) for i, item in enumerate(value)]
    return value
