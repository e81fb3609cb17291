"""``omnisdk new-plugin NAME``: generate a channel plugin package in the one plugin shape."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omnisdk.cli.output import print_note
from omnisdk.scaffold import PluginNames, render_plugin

__all__ = ["new_plugin"]


def new_plugin(
    name: Annotated[
        str,
        typer.Argument(help="The channel type: lowercase letters and digits (e.g. tiki)."),
    ],
    directory: Annotated[
        Path,
        typer.Option("--dir", file_okay=False, help="Create omnisdk-NAME/ in this directory."),
    ] = Path(),
    into: Annotated[
        Path | None,
        typer.Option(
            "--into",
            file_okay=False,
            help="Create the plugin in exactly this new directory instead (overrides --dir).",
        ),
    ] = None,
) -> None:
    """Generate a channel plugin: channel, mapping, sandbox, conformance test, pyproject.

    The package installs with `pip install -e 'DIR[sandbox,test]'` and its tests pass as
    generated; replace the emulated platform with yours, module by module.
    """
    names = PluginNames.from_name(name)
    target = into if into is not None else directory / names.distribution
    written = render_plugin(names, target)
    print_note(f"created {target} ({len(written)} files)")
    print_note(f"next: pip install -e '{target}[sandbox,test]' && pytest {target / 'tests'}")
