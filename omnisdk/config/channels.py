"""From a ``[[channels]]`` entry to a Channel: its type, its validated settings, the instance."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from omnisdk.config.problems import (
    ConfigProblem,
    KeyLines,
    KeyPath,
    secret_inputs,
    validation_problems,
)

if TYPE_CHECKING:
    from omnisdk.channel import Channel, ChannelSettings
    from omnisdk.config.models import ChannelConfig
    from omnisdk.plugins import Plugins

__all__ = ["build_channel", "plugins_or_default", "resolve_channel"]


def plugins_or_default(plugins: Plugins | None) -> Plugins:
    """``plugins``, or the process-wide registry when None."""
    if plugins is not None:
        return plugins
    from omnisdk.plugins import default_plugins

    return default_plugins()


def _unknown_type(channel_type: str, plugins: Plugins) -> str:
    types = plugins.channel_types()
    installed = ", ".join(types) or "none (install a channel plugin, an omnisdk-<name> package)"
    close = difflib.get_close_matches(channel_type, list(types), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    failed = [failure for failure in plugins.failures if failure.name == channel_type]
    why = f" (plugin {channel_type!r} failed to load: {failed[0].error})" if failed else ""
    return f"unknown channel type {channel_type!r}{why}; installed types: {installed}.{hint}"


def _validate_settings(
    settings: Mapping[str, Any], model: type[ChannelSettings], path: KeyPath, lines: KeyLines
) -> ChannelSettings | list[ConfigProblem]:
    try:
        return model.model_validate(settings)
    except ValidationError as exc:
        return validation_problems(
            exc, model, [*path, "settings"], lines, secrets=secret_inputs(model, settings)
        )


def resolve_channel(
    entry: ChannelConfig, plugins: Plugins, path: KeyPath, lines: KeyLines
) -> tuple[type[Channel], ChannelSettings] | list[ConfigProblem]:
    """The channel class of ``entry`` (found at ``path``) and its validated settings.

    Returns the problems instead when the type is unknown or the settings are invalid.
    """
    types = plugins.channel_types()
    if entry.type not in types:
        return [lines.problem([*path, "type"], _unknown_type(entry.type, plugins))]
    cls = types[entry.type].cls
    settings = _validate_settings(entry.settings, cls.settings_model, path, lines)
    if isinstance(settings, list):
        return settings
    return cls, settings


def build_channel(entry: ChannelConfig, plugins: Plugins | None = None, **kwargs: Any) -> Channel:
    """Instantiate the Channel for one ``[[channels]]`` entry.

    The account is the entry's ``name``; ``kwargs`` go to the channel's constructor
    (``tokens=``, ``transport=``). Use the channel as an async context manager so its
    connections are closed.
    """
    registry = plugins_or_default(plugins)
    settings = entry.validated_settings(registry)
    cls = registry.channel_class(entry.type)
    return cls(settings, account=entry.name, plugins=registry, **kwargs)
