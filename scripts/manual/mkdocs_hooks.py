"""mkdocs hooks (``hooks:`` in mkdocs.yml): add the generated pages to the build.

The pages exist only in the build, never in docs/, so they cannot go stale; a page that is
also a file in docs/ is an error (someone hand-copied it). The ``Channels`` nav entry is
expanded into one page per installed channel type.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

# mkdocs loads this file by path; its package sits beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from manual.pages import generated_pages

__all__ = ["on_config", "on_files"]

_PAGES: dict[str, str] = {}


def _channel_nav(pages: dict[str, str]) -> list[dict[str, str]]:
    entries = [{"Overview": "channels/index.md"}]
    for path, markdown in sorted(pages.items()):
        if path.startswith("channels/") and path != "channels/index.md":
            title = markdown.splitlines()[0].removeprefix("# ")
            entries.append({title: path})
    return entries


def on_config(config: Any) -> Any:
    """Generate the pages once per build and put the channel pages in the nav."""
    _PAGES.clear()
    _PAGES.update(generated_pages())
    for index, item in enumerate(config.nav or []):
        if isinstance(item, dict) and item.get("Channels") == "channels/index.md":
            config.nav[index] = {"Channels": _channel_nav(_PAGES)}
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add every generated page as an in-memory file of the build."""
    for path, markdown in _PAGES.items():
        if files.get_file_from_path(path) is not None:
            raise PluginError(f"docs/{path} is generated at build time: delete the file")
        files.append(File.generated(config, path, content=markdown))
    return files
