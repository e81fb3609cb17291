"""``omnisdk run`` (the engine until stopped) and ``omnisdk sync --once`` (one full cycle)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from omnisdk.cli.engine_session import JsonOption, emit_result, open_engine
from omnisdk.cli.output import print_note, print_warning
from omnisdk.cli.run_events import EventLines
from omnisdk.cli.state import CliState, get_state
from omnisdk.hookspecs import hookimpl
from omnisdk.models import Order

if TYPE_CHECKING:
    from omnisdk.runtime.local import LocalRuntime

__all__ = ["BackfillProgress", "run", "sync"]


class BackfillProgress:
    """Shows, on a terminal, how many orders each account's first poll has taken in so far.

    Registered as a plugin while the runtime starts: ``omnisdk_order_received`` counts the
    orders of each account and ``omnisdk_sync_finished`` marks an account's poll done. The
    first poll of a new account reads ``[engine] initial_backfill`` of history, which can be
    long; later polls are short and not shown.
    """

    def __init__(self, accounts: list[str], console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:>6.0f} orders"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {
            account: self.progress.add_task(f"backfilling {account}", total=None)
            for account in accounts
        }

    @hookimpl
    def omnisdk_order_received(self, order: Order, is_new: bool) -> None:
        """Count one order of the account it came from."""
        task = self.tasks.get(order.channel_ref.account)
        if task is not None:
            self.progress.advance(task)

    @hookimpl
    def omnisdk_sync_finished(self, account: str, stream: str, stats: dict[str, int]) -> None:
        """Mark an account's first order poll finished."""
        task = self.tasks.get(account)
        if task is not None and stream == "orders":
            self.progress.update(task, description=f"[green]✓[/] {account}", total=1, completed=1)


def _announce(runtime: LocalRuntime, json_output: bool) -> None:
    accounts = list(runtime.stats.accounts)
    base = runtime.webhook_public_url
    if json_output:
        typer.echo(
            json.dumps(
                {
                    "event": "started",
                    "accounts": accounts,
                    "webhook_url": f"{base}/webhooks/{{account}}" if base else None,
                    "status_page_url": runtime.status_page_url,
                },
                ensure_ascii=False,
            )
        )
    where = f"; webhooks at {base}/webhooks/<account>" if base else "; webhooks off"
    if base and base != runtime.webhook_base_url:
        where += f" (listening on {runtime.webhook_base_url})"
    if runtime.status_page_url is not None:
        where += f"; status page at {runtime.status_page_url}"
    print_note(f"omnisdk running: {len(accounts)} accounts{where} (Ctrl+C to stop)")


async def _run(
    state: CliState,
    *,
    host: str | None,
    port: int | None,
    webhooks: bool,
    grace: float,
    json_output: bool,
    status_page: str | bool = True,
    quiet: bool = False,
) -> dict[str, Any]:
    from omnisdk.runtime.local import LocalRuntime

    async with open_engine(state) as engine:
        runtime = LocalRuntime(
            engine,
            webhooks=webhooks,
            host=host,
            port=port,
            grace=grace,
            status_page=status_page,
        )
        console = Console(stderr=True)
        progress: BackfillProgress | None = None
        if console.is_terminal and not json_output:
            progress = BackfillProgress(list(engine.channels), console)
            state.plugins.register(progress, name=f"omnisdk.cli.backfill.{id(progress)}")
            progress.progress.start()
        events: EventLines | None = None
        if not quiet and not json_output:
            events = EventLines()
            state.plugins.register(events, name=f"omnisdk.cli.events.{id(events)}")

        async def finish_progress() -> None:
            await runtime.initial_sync_done.wait()
            if progress is not None:
                progress.progress.stop()
                state.plugins.unregister(progress)
            if events is not None:
                events.orders_live = True

        watcher: asyncio.Task[None] | None = None
        try:
            with runtime.signal_handlers():
                await runtime.start()
                _announce(runtime, json_output)
                watcher = asyncio.create_task(finish_progress())
                try:
                    await runtime.wait()
                finally:
                    await asyncio.shield(runtime.stop())
            if runtime.run_lock_lost is not None:
                raise runtime.run_lock_lost
        finally:
            if watcher is not None:
                watcher.cancel()
            if progress is not None and state.plugins.pm.is_registered(progress):
                progress.progress.stop()
                state.plugins.unregister(progress)
            if events is not None and state.plugins.pm.is_registered(events):
                state.plugins.unregister(events)
        return {
            "event": "stopped",
            "accounts": {
                account: {
                    "polls": activity.polls,
                    "pushes": activity.pushes,
                    "reconciles": activity.reconciles,
                    "webhook_batches": activity.webhook_batches,
                    "errors": activity.errors,
                    "last_error": activity.last_error,
                }
                for account, activity in runtime.stats.accounts.items()
            },
        }


def run(
    ctx: typer.Context,
    webhook_port: Annotated[
        int | None,
        typer.Option(
            "--webhook-port",
            min=0,
            max=65535,
            metavar="PORT",
            help="Port of the webhook receiver (default: [engine] webhook_port; 0 picks one).",
        ),
    ] = None,
    webhook_host: Annotated[
        str | None,
        typer.Option(
            "--webhook-host",
            metavar="HOST",
            help="Address the receiver listens on (default: [engine] webhook_host, 127.0.0.1).",
        ),
    ] = None,
    no_webhooks: Annotated[
        bool, typer.Option("--no-webhooks", help="Do not start the webhook receiver.")
    ] = False,
    status_page: Annotated[
        str | None,
        typer.Option(
            "--status-page",
            metavar="HOST:PORT",
            help="Serve the read-only status page there (default: [engine] status_page; "
            "off when unset), e.g. 127.0.0.1:8790.",
        ),
    ] = None,
    no_status_page: Annotated[
        bool, typer.Option("--no-status-page", help="Do not serve the status page.")
    ] = False,
    grace: Annotated[
        float,
        typer.Option(
            min=0,
            metavar="SECONDS",
            help="On Ctrl+C/SIGTERM, let in-flight work finish this long before abandoning it.",
        ),
    ] = 10.0,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print a JSON line when started and one with per-account counters when stopped.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No line per event (orders in, stock pushed, quotas moved)."
        ),
    ] = False,
) -> None:
    """Run the sync engine until Ctrl+C or SIGTERM, in this one process.

    Polls every channel account's orders on its [channels.poll] interval, receives webhooks
    at POST /webhooks/ACCOUNT, pushes stock the moment it changes, and reconciles listed
    stock on its interval; with --status-page (or [engine] status_page) it also serves the
    read-only status page. Stopping finishes (or safely abandons) in-flight work first.
    Prints a line on stderr per event worth seeing (an order in, stock pushed, a quota
    moved, a push failed, an account needing re-authorisation) unless --quiet.
    """
    state = get_state(ctx)
    result = asyncio.run(
        _run(
            state,
            host=webhook_host,
            port=webhook_port,
            webhooks=not no_webhooks,
            grace=grace,
            json_output=json_output,
            status_page=False if no_status_page else (status_page or True),
            quiet=quiet,
        )
    )
    if json_output:
        typer.echo(json.dumps(result, ensure_ascii=False))
    errors = sum(activity["errors"] for activity in result["accounts"].values())
    if errors:
        print_warning(f"{errors} operations failed while running (see the log above)")
    print_note("omnisdk stopped")


def sync(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run one full cycle (poll, push, reconcile), then exit."),
    ] = False,
    no_reconcile: Annotated[
        bool, typer.Option("--no-reconcile", help="Skip the reconciliation step.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """One full sync cycle: poll every account's orders, push stock, reconcile; then exit.

    Exits with 1 when a step failed for some account (the others still ran). For continuous
    syncing use `omnisdk run`.
    """
    if not once:
        raise typer.BadParameter(
            "continuous syncing is `omnisdk run`; pass --once for a single cycle",
            param_hint="--once",
        )
    from omnisdk.cli.engine_session import run_with_engine

    state = get_state(ctx)
    cycle = run_with_engine(state, lambda engine: engine.sync_once(reconcile=not no_reconcile))
    if json_output:
        emit_result(cycle)
    else:
        from omnisdk.cli.engine_render import print_cycle

        print_cycle(cycle)
    for account, error in cycle.errors.items():
        print_warning(f"{account}: {error}")
    if cycle.errors:
        raise typer.Exit(1)
