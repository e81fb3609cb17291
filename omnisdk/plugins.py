"""Plugin discovery and the plugin manager.

Channel plugins are found through the ``omnisdk.plugins`` entry point group with stevedore and
registered into one pluggy ``PluginManager``. A plugin that fails to import or breaks the hook
contract is reported (:attr:`Plugins.failures`) and skipped: the host keeps working.

Two environment variables control loading, read when a :class:`Plugins` is created:

``OMNISDK_LOAD_PLUGINS``
    Comma-separated entry point names: load only these. Set to an empty string to load no
    entry point plugins at all.
``OMNISDK_DISABLE_PLUGINS``
    Comma-separated entry point names never to load.

An application registers its own hook implementations in-process with :meth:`Plugins.register`,
without packaging anything.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy
from stevedore import NamedExtensionManager

from omnisdk import default_hooks, hookspecs
from omnisdk.channel import Channel
from omnisdk.errors import PluginError

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "LOAD_ENV",
    "ChannelType",
    "PluginFailure",
    "Plugins",
    "default_plugins",
]

ENTRY_POINT_GROUP = "omnisdk.plugins"
LOAD_ENV = "OMNISDK_LOAD_PLUGINS"
DISABLE_ENV = "OMNISDK_DISABLE_PLUGINS"

logger = logging.getLogger("omnisdk.plugins")


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be used, and why."""

    name: str
    error: str
    distribution: str | None = None


@dataclass(frozen=True)
class ChannelType:
    """A channel class and the plugin (and distribution) that contributed it."""

    cls: type[Channel]
    plugin: str
    distribution: str | None = None
    version: str | None = None

    @property
    def name(self) -> str:
        """The channel type name (``cls.name``)."""
        return self.cls.name

    def describe(self) -> dict[str, Any]:
        """The JSON shape ``omnisdk plugins --json`` prints for this channel type."""
        return {
            "name": self.cls.name,
            "title": self.cls.title or self.cls.name,
            "distribution": self.distribution,
            "version": self.version,
            "plugin": self.plugin,
            "capabilities": sorted(c.value for c in self.cls.capabilities),
            "limits": self.cls.limits.model_dump(mode="json"),
            "sandbox": self.cls.sandbox is not None,
        }


def _names_from_env(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


class Plugins:
    """The registry of loaded plugins: a pluggy PluginManager plus what was learnt loading it.

    ``Plugins()`` loads entry point plugins (honouring the environment variables);
    ``Plugins(entry_points=False)`` starts with only the core's hooks, for tests and for apps
    that register everything themselves.
    """

    def __init__(self, *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(default_hooks, name="omnisdk.default_hooks")
        self.failures: list[PluginFailure] = []
        self._distributions: dict[str, tuple[str | None, str | None]] = {}
        self._channel_types: dict[str, ChannelType] | None = None
        if entry_points:
            self.load_entry_points()

    @property
    def hook(self) -> Any:
        """The hook relay: ``plugins.hook.omnisdk_order_received(order=..., is_new=True)``."""
        return self.pm.hook

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
        self._channel_types = None

    def unregister(self, plugin: object) -> None:
        """Remove a registered plugin."""
        self.pm.unregister(plugin)
        self._channel_types = None

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

    def channel_types(self) -> Mapping[str, ChannelType]:
        """Every channel class the registered plugins contribute, by channel name."""
        if self._channel_types is None:
            self._channel_types = self._collect_channel_types()
        return self._channel_types

    def _collect_channel_types(self) -> dict[str, ChannelType]:
        found: dict[str, ChannelType] = {}
        for impl in self.pm.hook.omnisdk_register_channels.get_hookimpls():
            plugin_name = impl.plugin_name
            dist, version = self._distributions.get(plugin_name, (None, None))

            def register(cls: type[Channel], _plugin: str = plugin_name,
                         _dist: str | None = dist, _version: str | None = version) -> None:
                if not (isinstance(cls, type) and issubclass(cls, Channel)):
                    raise PluginError(f"registered {cls!r}, which is not a Channel subclass",
                                      plugin=_plugin)
                if not getattr(cls, "name", None):
                    raise PluginError(f"{cls.__name__} has no 'name'", plugin=_plugin)
                if cls.name in found and found[cls.name].cls is not cls:
                    raise PluginError(
                        f"channel name {cls.name!r} is already provided by plugin "
                        f"{found[cls.name].plugin!r}", plugin=_plugin)
                found[cls.name] = ChannelType(cls=cls, plugin=_plugin, distribution=_dist,
                                              version=_version)

            try:
                impl.function(register=register)
            except Exception as exc:  # a broken plugin must not take the host down
                self.failures.append(PluginFailure(name=plugin_name, error=str(exc),
                                                   distribution=dist))
                logger.warning("plugin %r failed to register channels: %s", plugin_name, exc)
        return dict(sorted(found.items()))

    def channel_class(self, name: str) -> type[Channel]:
        """The channel class called ``name``; a clear error listing known names otherwise."""
        types = self.channel_types()
        if name in types:
            return types[name].cls
        known = ", ".join(types) or "none installed"
        close = difflib.get_close_matches(name, list(types), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        failed = [f for f in self.failures if f.name == name]
        why = f" (plugin {name!r} failed to load: {failed[0].error})" if failed else ""
        raise PluginError(f"no channel type {name!r}{why}. Known: {known}.{hint}")

    def create_channel(self, channel_type: str, settings: Mapping[str, Any], *,
                       account: str = "default", **kwargs: Any) -> Channel:
        """Instantiate the channel ``channel_type`` for ``account`` with ``settings``."""
        cls = self.channel_class(channel_type)
        return cls(settings, account=account, plugins=self, **kwargs)


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


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide registry, loaded from entry points on first use."""
    global _default  # one registry per process, like logging's root logger
    if _default is None:
        _default = Plugins()
    return _default
