"""The ``omnisdk`` command line (typer + rich).

``main`` is the console script (``omnisdk = "omnisdk.cli:main"``) and what
``python -m omnisdk`` runs. :func:`build_app` builds the root :class:`typer.Typer` for a given
plugin registry, which is how tests (and embedding applications) run the CLI against plugins
they registered in-process::

    from typer.testing import CliRunner
    from omnisdk.cli import build_app

    result = CliRunner().invoke(build_app(my_plugins), ["plugins", "--json"])

Commands: ``version``, ``plugins``, ``check``, ``pull``, ``sandbox``, plus whatever plugins add
through the ``omnisdk_register_commands`` hook. Every command that prints data takes
``--json``; an :class:`~omnisdk.errors.OmnisdkError` is printed as one ``error:`` line on
stderr with exit status 1 (usage errors exit with 2), never a traceback.
"""

from omnisdk.cli.app import build_app, main

__all__ = ["build_app", "main"]
