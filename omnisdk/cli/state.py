"""What every command of one CLI invocation shares: the plugins, the config and the options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from omnisdk.config import Config, load_config
from omnisdk.plugins import Plugins

__all__ = ["CliState", "get_state"]


@dataclass
class CliState:
    """The root command's state, kept as the click context's ``obj``.

    ``config_path`` is the ``-c/--config`` option (None: ``$OMNISDK_CONFIG`` or
    ``./omnisdk.toml``). The config is read on first use, so commands that do not need one
    work without it.
    """

    plugins: Plugins
    config_path: Path | None = None
    verbose: bool = False
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        """The loaded, validated config (read once per invocation)."""
        if self._config is None:
            self._config = load_config(self.config_path, plugins=self.plugins)
        return self._config


def get_state(ctx: typer.Context) -> CliState:
    """The :class:`CliState` the root command put in the context."""
    state = ctx.find_object(CliState)
    if state is None:  # pragma: no cover - the root callback always sets it
        raise RuntimeError("omnisdk command invoked without the root command's state")
    return state
