"""The plugin registry: the hooks plugins implement, and the channel classes they contribute.

:class:`Plugins` is what hosts (the CLI, the engine, apps) hold. Hook registration and entry
point discovery live one layer down, in :mod:`omnisdk.hook_registry` (its docstring lists the
environment variables that control loading); ``Plugins`` adds the channel types on top.

An application registers its own hook implementations in-process with :meth:`Plugins.register`,
without packaging anything.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from omnisdk.channel import Channel
from omnisdk.errors import PluginError
from omnisdk.hook_registry import (
    DISABLE_ENV,
    ENTRY_POINT_GROUP,
    LOAD_ENV,
    HookRegistry,
    PluginFailure,
    default_hook_registry,
)

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "LOAD_ENV",
    "ChannelType",
    "PluginFailure",
    "Plugins",
    "default_plugins",
]

logger = logging.getLogger("omnisdk.plugins")


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


class Plugins:
    """The registry of loaded plugins: their hooks and the channel classes they contribute.

    ``Plugins()`` loads entry point plugins (honouring the environment variables);
    ``Plugins(entry_points=False)`` starts with only the core's hooks, for tests and for apps
    that register everything themselves. ``hooks`` builds it on an existing
    :class:`~omnisdk.hook_registry.HookRegistry` (the process default does).
    """

    def __init__(self, *, entry_points: bool = True, hooks: HookRegistry | None = None) -> None:
        self.hooks = hooks if hooks is not None else HookRegistry(entry_points=entry_points)
        """The hook registry underneath (the pluggy manager and what loading learnt)."""
        self._channel_types: dict[str, ChannelType] | None = None
        self._channel_types_at = -1

    @property
    def pm(self) -> pluggy.PluginManager:
        """The pluggy PluginManager."""
        return self.hooks.pm

    @property
    def hook(self) -> Any:
        """The hook relay: ``plugins.hook.omnisdk_order_received(order=..., is_new=True)``."""
        return self.hooks.hook

    @property
    def failures(self) -> list[PluginFailure]:
        """Plugins that could not be loaded or registered, and why."""
        return self.hooks.failures

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register an object or module carrying hook implementations.

        Raises :class:`~omnisdk.errors.PluginError` if it implements a hook that does not
        exist (a misspelling) or with arguments the hook does not have.
        """
        self.hooks.register(plugin, name)

    def unregister(self, plugin: object) -> None:
        """Remove a registered plugin."""
        self.hooks.unregister(plugin)

    def load_entry_points(self) -> None:
        """Load every plugin in the ``omnisdk.plugins`` entry point group."""
        self.hooks.load_entry_points()

    def register_module(self, dotted: str) -> None:
        """Import ``dotted`` and register it: for plugins that are not installed packages."""
        self.hooks.register_module(dotted)

    def channel_types(self) -> Mapping[str, ChannelType]:
        """Every channel class the registered plugins contribute, by channel name."""
        if self._channel_types is None or self._channel_types_at != self.hooks.changes:
            self._channel_types_at = self.hooks.changes
            self._channel_types = self._collect_channel_types()
        return self._channel_types

    def _collect_channel_types(self) -> dict[str, ChannelType]:
        found: dict[str, ChannelType] = {}
        for impl in self.pm.hook.omnisdk_register_channels.get_hookimpls():
            plugin_name = impl.plugin_name
            dist, version = self.hooks.distribution(plugin_name)

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


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide registry, loaded from entry points on first use.

    It is built on :func:`~omnisdk.hook_registry.default_hook_registry`, the registry a channel
    constructed without one maps through.
    """
    global _default  # one registry per process, like logging's root logger
    if _default is None:
        _default = Plugins(hooks=default_hook_registry())
    return _default
