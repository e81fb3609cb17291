"""Fill the templates in and write the plugin package.

Every file under ``template/`` ends in ``.tmpl``; its path and its text may hold the tokens
of :meth:`PluginNames.tokens`, replaced as plain text (no template language, so Python,
TOML and Markdown need no escaping). The suffix keeps the templates out of ruff, mypy and
the wheel's importable modules.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from omnisdk.scaffold.names import PluginNames, ScaffoldError

__all__ = ["TEMPLATE_SUFFIX", "render_files", "render_plugin"]

TEMPLATE_SUFFIX = ".tmpl"
"""The suffix every template file carries (and its rendered file does not)."""


def _templates(folder: Traversable, prefix: PurePosixPath) -> list[tuple[PurePosixPath, str]]:
    found = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        path = prefix / entry.name
        if entry.is_dir():
            found += _templates(entry, path)
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            found.append((path, entry.read_text(encoding="utf-8")))
    return found


def _fill(text: str, tokens: dict[str, str], where: str) -> str:
    for token, value in tokens.items():
        text = text.replace(token, value)
    if "{{" in text:
        leftover = text[text.index("{{") :].split("}}", 1)[0] + "}}"
        raise ScaffoldError(f"template {where}: unknown token {leftover}")
    return text


def render_files(names: PluginNames) -> dict[PurePosixPath, str]:
    """Every file of the plugin for ``names``: its path inside the plugin, and its text."""
    tokens = names.tokens()
    root = resources.files("omnisdk.scaffold").joinpath("template")
    rendered = {}
    for path, text in _templates(root, PurePosixPath()):
        where = str(path)
        target = PurePosixPath(_fill(where.removesuffix(TEMPLATE_SUFFIX), tokens, where))
        rendered[target] = _fill(text, tokens, where)
    return rendered


def render_plugin(names: PluginNames, target: Path) -> list[Path]:
    """Write the plugin for ``names`` into the new directory ``target``; the files written.

    :class:`ScaffoldError` when ``target`` exists (nothing is ever overwritten).
    """
    if target.exists():
        raise ScaffoldError(f"{target} already exists: choose another directory or remove it")
    files = render_files(names)
    written = []
    for path, text in files.items():
        destination = target.joinpath(*path.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(text.encode("utf-8"))
        written.append(destination)
    return written
