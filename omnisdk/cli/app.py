"""The root ``omnisdk`` command: global options, error handling and plugin-added commands."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup
from typer.main import get_command_name

from omnisdk.cli import (
    celery_commands,
    channels,
    check,
    demo,
    engine_commands,
    info,
    new_plugin,
    promotions,
    pull,
    records,
    run,
    sales,
    sandbox,
    tokens,
)
from omnisdk.cli.logs import configure_logging
from omnisdk.cli.output import print_error
from omnisdk.cli.state import CliState
from omnisdk.errors import OmnisdkError
from omnisdk.plugins import PluginFailure, Plugins, default_plugins

__all__ = ["OmnisdkGroup", "build_app", "main"]

logger = logging.getLogger("omnisdk.cli")

HELP = """\
omnisdk: one catalog, one stock pool, one order book across every sales channel.

The config file is -c PATH, else $OMNISDK_CONFIG, else ./omnisdk.toml; only commands
that talk to channels need one.
"""


# Typer raises the usage errors of the click it vendors (typer._click), not click's own;
# NoArgsIsHelpError (a group called without arguments) shows the help, as it should.
_USAGE_ERRORS: tuple[type[Exception], ...] = (
    typer.BadParameter.__mro__[1],  # typer's UsageError, without importing a private module
    click.UsageError,
)
_SHOWS_HELP: tuple[type[Exception], ...] = tuple(
    kind
    for kind in (
        getattr(click.exceptions, "NoArgsIsHelpError", None),
        *(
            getattr(sys.modules.get(base.__module__), "NoArgsIsHelpError", None)
            for base in _USAGE_ERRORS
        ),
    )
    if kind is not None
)


class OmnisdkGroup(TyperGroup):
    """The root command group: turns any OmnisdkError into one line on stderr and exit 1, and
    a command's usage error (a bad argument or option, an unknown command) into one line and
    exit 2.

    Catching here (not in each command) covers plugin-added commands too.
    """

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        """Run the command, reporting an OmnisdkError as ``error: ...`` instead of a traceback."""
        try:
            return super().invoke(ctx)
        except OmnisdkError as exc:
            print_error(str(exc))
            raise typer.Exit(1) from None
        except _USAGE_ERRORS as exc:
            if isinstance(exc, _SHOWS_HELP):
                raise
            sub = getattr(exc, "ctx", None)
            where = sub.command_path if sub is not None else ctx.command_path
            message = " ".join(getattr(exc, "format_message", exc.__str__)().split())
            print_error(f"{message} (see '{where} -h')")
            raise typer.Exit(getattr(exc, "exit_code", 2)) from None


def build_app(plugins: Plugins | None = None) -> typer.Typer:
    """Build the ``omnisdk`` app for ``plugins`` (the process-wide registry by default).

    Plugins' ``omnisdk_register_commands`` hooks are called here, once per app.
    """
    registry = plugins if plugins is not None else default_plugins()
    app = typer.Typer(
        name="omnisdk",
        help=HELP,
        cls=OmnisdkGroup,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode="markdown",
        pretty_exceptions_show_locals=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        config: Annotated[
            Path | None,
            typer.Option(
                "--config",
                "-c",
                metavar="PATH",
                dir_okay=False,
                help="The config file (default: $OMNISDK_CONFIG, else ./omnisdk.toml).",
            ),
        ] = None,
        verbose: Annotated[
            bool,
            typer.Option(
                "--verbose",
                "-v",
                help="Log everything (DEBUG) to stderr; secrets stay redacted.",
            ),
        ] = False,
    ) -> None:
        configure_logging(verbose=verbose)
        ctx.obj = CliState(plugins=registry, config_path=config, verbose=verbose)

    app.command("version")(info.version)
    app.command("plugins")(info.plugins)
    app.command("check")(check.check)
    app.command("pull")(pull.pull)
    app.command("sandbox")(sandbox.sandbox)
    app.command("run")(run.run)
    app.command("sync")(run.sync)
    app.command("worker")(celery_commands.worker)
    app.command("beat")(celery_commands.beat)
    app.command("webhooks")(celery_commands.webhooks)
    app.command("metrics")(celery_commands.metrics)
    app.command("status")(engine_commands.status)
    app.command("plan")(engine_commands.plan)
    app.command("apply")(engine_commands.apply)
    app.command("reconcile")(engine_commands.reconcile)
    app.command("push")(engine_commands.push)
    app.add_typer(engine_commands.catalog_app)
    app.add_typer(records.stock_app)
    app.add_typer(records.orders_app)
    app.add_typer(records.customers_app)
    app.add_typer(records.quarantine_app)
    app.add_typer(sales.report_app)
    app.add_typer(promotions.promotions_app)
    app.add_typer(channels.channels_app)
    app.add_typer(tokens.tokens_app)
    app.command("demo")(demo.demo)
    app.command("new-plugin")(new_plugin.new_plugin)
    _add_plugin_commands(app, registry)
    return app


def _command_names(app: typer.Typer) -> list[str]:
    names = [
        command.name or get_command_name(command.callback.__name__)
        for command in app.registered_commands
        if command.callback is not None
    ]
    names += [group.name for group in app.registered_groups if isinstance(group.name, str)]
    return names


def _add_plugin_commands(app: typer.Typer, plugins: Plugins) -> None:
    """Call each ``omnisdk_register_commands`` implementation; a broken one is reported."""
    core = set(_command_names(app))
    for impl in plugins.hook.omnisdk_register_commands.get_hookimpls():
        commands, groups = len(app.registered_commands), len(app.registered_groups)
        try:
            impl.function(**{name: app for name in impl.argnames})
        except Exception as exc:  # a plugin's bug must not take the whole CLI down
            del app.registered_commands[commands:]
            del app.registered_groups[groups:]
            error = f"adding commands failed: {type(exc).__name__}: {exc}"
            plugins.failures.append(PluginFailure(name=impl.plugin_name, error=error))
            logger.warning("plugin %r could not add its commands: %s", impl.plugin_name, exc)
            continue
        added = app.registered_commands[commands:]
        for command in added:
            name = command.name or (
                get_command_name(command.callback.__name__) if command.callback else ""
            )
            if name in core:
                app.registered_commands.remove(command)
                plugins.failures.append(
                    PluginFailure(
                        name=impl.plugin_name, error=f"command {name!r} is a core command; ignored"
                    )
                )
                logger.warning(
                    "plugin %r tried to replace the core command %r; ignored",
                    impl.plugin_name,
                    name,
                )


def _wants_verbose(args: Sequence[str]) -> bool:
    """Whether the root options (before the command name) include -v/--verbose."""
    takes_value = {"-c", "--config"}
    expect_value = False
    for arg in args:
        if expect_value:
            expect_value = False
        elif arg in ("-v", "--verbose"):
            return True
        elif arg in takes_value:
            expect_value = True
        elif not arg.startswith("-"):
            return False
    return False


@contextlib.contextmanager
def _quiet_loading(verbose: bool) -> Iterator[None]:
    """Hide plugin-loading warnings unless verbose: ``omnisdk plugins`` reports failures."""
    plugin_logger = logging.getLogger("omnisdk.plugins")
    previous = plugin_logger.level
    if not verbose:
        plugin_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        plugin_logger.setLevel(previous)


def _utf8_stdio() -> None:
    # JSON output is UTF-8 by definition (RFC 8259) and product names are Vietnamese.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower() not in (
            "utf-8",
            "utf8",
        ):
            stream.reconfigure(encoding="utf-8")


def main(argv: Sequence[str] | None = None, *, prog_name: str = "omnisdk") -> None:
    """Run the ``omnisdk`` command line with ``argv`` (default: ``sys.argv[1:]``); exits."""
    args = list(sys.argv[1:] if argv is None else argv)
    _utf8_stdio()
    verbose = _wants_verbose(args)
    configure_logging(verbose=verbose)
    try:
        with _quiet_loading(verbose):
            plugins = default_plugins()
    except OmnisdkError as exc:  # pragma: no cover - loading reports failures, never raises
        print_error(str(exc))
        sys.exit(1)
    app = build_app(plugins)
    app(args=args, prog_name=prog_name)
