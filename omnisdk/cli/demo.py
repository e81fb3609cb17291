"""``omnisdk demo``: every installed channel's sandbox, one engine, buyers on every channel.

The live view (rich) shows, per SKU, the units sold everywhere against the starting stock,
the one stock pool, and what each channel lists right now: watch a scarce item sell out on
every channel at once. ``--no-live`` prints plain progress lines instead (CI, logs) and
``--json`` prints the final summary as JSON. The exit status is 0 only when every invariant
held: nothing oversold, every order in the one book, every channel's listing converged.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live

from omnisdk.cli.demo_render import snapshot_table, summary_tables
from omnisdk.cli.output import emit_json, print_note, stdout_console
from omnisdk.cli.state import get_state

if TYPE_CHECKING:
    from omnisdk.demo.report import DemoSummary

__all__ = ["demo"]


def demo(
    ctx: typer.Context,
    duration: Annotated[
        float, typer.Option(min=0.5, metavar="SECONDS", help="How long the buyers shop.")
    ] = 8.0,
    buyers: Annotated[
        int, typer.Option(min=1, metavar="N", help="Buyers shopping at once, spread over channels.")
    ] = 4,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the buyers' choices.")] = 0,
    safety_buffer: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="UNITS",
            help="Units of every SKU held back from every channel.",
        ),
    ] = 1,
    keep: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            file_okay=False,
            help="Keep the demo's omnisdk.toml and database in DIR (default: a temporary dir).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the final summary as JSON on stdout.")
    ] = False,
    no_live: Annotated[
        bool, typer.Option("--no-live", help="Plain progress lines instead of the live view.")
    ] = False,
) -> None:
    """Run every installed channel's sandbox, one engine, and buyers on every channel at once.

    Shows live that no channel oversells and that every order lands in one book, then prints
    a summary. Exits 0 when every invariant held.
    """
    from omnisdk.demo.run import run_demo

    state = get_state(ctx)
    console = Console(stderr=True)
    live_view = not no_live and console.is_terminal
    http_logger = logging.getLogger("omnisdk.http")
    http_level = http_logger.level
    if not state.verbose:
        # The demo's own lines say what happens; per-request warnings would drown them.
        http_logger.setLevel(logging.ERROR)

    def phase(text: str) -> None:
        if not live_view:
            print_note(text)

    async def main() -> DemoSummary:
        if not live_view:
            return await run_demo(
                state.plugins,
                duration=duration,
                buyers=buyers,
                seed=seed,
                safety_buffer=safety_buffer,
                on_phase=phase,
                keep_dir=keep,
            )
        with Live(console=console, refresh_per_second=8, transient=False) as live:
            return await run_demo(
                state.plugins,
                duration=duration,
                buyers=buyers,
                seed=seed,
                safety_buffer=safety_buffer,
                on_snapshot=lambda snapshot: live.update(snapshot_table(snapshot)),
                keep_dir=keep,
            )

    try:
        summary = asyncio.run(main())
    finally:
        http_logger.setLevel(http_level)  # in-process callers (tests, apps) keep their logging
    if json_output:
        emit_json(summary.model_dump(mode="json"))
    else:
        stdout_console().print(summary_tables(summary))
    if keep is not None:
        print_note(f"config and database kept in {keep}")
    if not summary.ok:
        raise typer.Exit(1)
