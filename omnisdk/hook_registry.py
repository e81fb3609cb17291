"""The hook registry: one pluggy ``PluginManager`` filled from entry points, and its default.

Channel plugins are found through the ``omnisdk.plugins`` entry point group with stevedore and
registered into one pluggy ``PluginManager``. A plugin that fails to import or breaks the hook
contract is reported (:attr:`HookRegistry.failures`) and skipped: the host keeps working.

Two environment variables control loading, read when a registry is created:

``OMNISDK_LOAD_PLUGINS``
    Comma-separated entry point names: load only these. Set to an empty string to load no
    entry point plugins at all.
``OMNISDK_DISABLE_PLUGINS``
    Comma-separated entry point names never to load.

This module knows hooks, not channels: a :class:`~omnisdk.channel.Channel` maps its records
through a registry's hook relay, and :class:`omnisdk.plugins.Plugins` (which finds the channel
classes the plugins contribute) is built on top of a registry. Keeping channels out of here is
what lets ``omnisdk.channel`` fall back to :func:`default_hook_registry` without importing
``omnisdk.plugins``.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

import pluggy
from stevedore import NamedExtensionManager

from omnisdk import default_hooks, hookspecs
from omnisdk.errors import PluginError

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "LOAD_ENV",
    "HookHost",
    "HookRegistry",
    "PluginFailure",
    "default_hook_registry",
]

ENTRY_POINT_GROUP = "omnisdk.plugins"
LOAD_ENV = "OMNISDK_LOAD_PLUGINS"
DISABLE_ENV = "OMNISDK_DISABLE_PLUGINS"

logger = logging.getLogger("omnisdk.plugins")


class HookHost(Protocol):
    """Anything that carries a pluggy hook relay: a :class:`HookRegistry` or a ``Plugins``."""

    @property
    def hook(self) -> Any:
        """The hook relay (``host.hook.omnisdk_map_order(channel=..., raw=...)``)."""


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be used, and why."""

    name: str
    error: str
    distribution: str | None = None


def _names_from_env(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


class HookRegistry:
    """A pluggy PluginManager with omnisdk's hookspecs and defaults, plus what loading learnt.

    ``HookRegistry()`` loads entry point plugins (honouring the environment variables);
    ``HookRegistry(entry_points=False)`` starts with only the core's hooks.
    """

    def __init__(self, *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(default_hooks, name="omnisdk.default_hooks")
        self.failures: list[PluginFailure] = []
        self._distributions: dict[str, tuple[str | None, str | None]] = {}
        self._changes = 0
        if entry_points:
            self.load_entry_points()

    @property
    def hook(self) -> Any:
        """The hook relay: ``registry.hook.omnisdk_order_received(order=..., is_new=True)``."""
        return self.pm.hook

    @property
    def changes(self) -> int:
        """How many times a plugin was registered or unregistered (for caches built on it)."""
        return self._changes

    def distribution(self, plugin: str) -> tuple[str | None, str | None]:
        """The (distribution, version) that installed entry point plugin ``plugin``, if known."""
        return self._distributions.get(plugin, (None, None))

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register an object or module carrying hook implementations.

        Raises :class:`~omnisdk.errors.PluginError` if it implements a hook that does not
        exist (a misspelling) or with arguments the hook does not have.
        """
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self._unregister_quietly(plugin)
            raise PluginError(str(exc), plugin=name or _plugin_name(plugin)) from None
        except ValueError as exc:  # already registered, or name taken
            raise PluginError(str(exc), plugin=name or _plugin_name(plugin)) from None
        self._changes += 1

    def unregister(self, plugin: object) -> None:
        """Remove a registered plugin."""
        self.pm.unregister(plugin)
        self._changes += 1

    def _unregister_quietly(self, plugin: object) -> None:
        if self.pm.is_registered(plugin):
            self.pm.unregister(plugin)

    def load_entry_points(self) -> None:
        """Load every plugin in the ``omnisdk.plugins`` entry point group (see module doc)."""
        only = _names_from_env(LOAD_ENV)
        disabled = _names_from_env(DISABLE_ENV) or set()
        if only is not None and not only:
            return

        def on_failure(_manager: Any, entry_point: Any, exc: BaseException) -> None:
            self.failures.append(PluginFailure(
                name=entry_point.name, error=f"{type(exc).__name__}: {exc}",
                distribution=_distribution_of(entry_point)[0]))
            logger.warning("plugin %r failed to load: %s", entry_point.name, exc)

        available = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
        wanted = (available if only is None else available & only) - disabled
        if not wanted:
            return
        # NamedExtensionManager checks the name before importing, so a disabled plugin's
        # code never runs.
        manager: NamedExtensionManager[Any] = NamedExtensionManager(
            namespace=ENTRY_POINT_GROUP,
            names=sorted(wanted),
            invoke_on_load=False,
            on_load_failure_callback=on_failure,
        )
        for extension in manager.extensions:
            if self.pm.has_plugin(extension.name):
                continue
            try:
                self.register(extension.plugin, name=extension.name)
            except PluginError as exc:
                self.failures.append(PluginFailure(
                    name=extension.name, error=str(exc),
                    distribution=_distribution_of(extension.entry_point)[0]))
                logger.warning("%s", exc)
                continue
            self._distributions[extension.name] = _distribution_of(extension.entry_point)

    def register_module(self, dotted: str) -> None:
        """Import ``dotted`` and register it: for plugins that are not installed packages."""
        self.register(importlib.import_module(dotted), name=dotted)


def _plugin_name(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def _distribution_of(entry_point: Any) -> tuple[str | None, str | None]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        # stevedore's entry point cache drops the distribution: ask importlib who declares it.
        declared = metadata.entry_points(group=entry_point.group, name=entry_point.name)
        dist = next((ep.dist for ep in declared if ep.value == entry_point.value), None)
    if dist is None:
        return None, None
    try:
        return dist.name, dist.version
    except (AttributeError, metadata.PackageNotFoundError):
        return None, None


_default: HookRegistry | None = None


def default_hook_registry() -> HookRegistry:
    """The process-wide registry, loaded from entry points on first use.

    :func:`omnisdk.plugins.default_plugins` is built on it, so a channel constructed without
    a registry maps through the same hooks as the process's default ``Plugins``.
    """
    global _default  # one registry per process, like logging's root logger
    if _default is None:
        _default = HookRegistry()
    return _default
