"""Every generated page of the manual: its path under docs/ and how to build its Markdown."""

from __future__ import annotations

from collections.abc import Callable

from omnisdk.plugins import Plugins

from .channel_pages import channel_pages
from .cli_reference import cli_page
from .config_reference import config_page
from .hook_reference import hook_page

__all__ = ["STATIC_PAGES", "generated_pages"]

STATIC_PAGES: dict[str, Callable[[], str]] = {
    "reference/cli.md": cli_page,
    "reference/configuration.md": config_page,
    "reference/hooks.md": hook_page,
}
"""Pages whose path does not depend on what is installed."""


def generated_pages(plugins: Plugins | None = None) -> dict[str, str]:
    """``{path under docs/: markdown}`` of every generated page."""
    pages = {path: build() for path, build in STATIC_PAGES.items()}
    pages.update(channel_pages(plugins))
    return pages
