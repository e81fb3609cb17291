"""Engine commands: ``status``, ``plan``, ``apply``, ``reconcile``, ``push``, ``catalog import``.

Each opens the engine for the config, runs one engine operation and prints its result:
a table for people, or with ``--json`` exactly the result model's JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import unicodedata
from typing import TYPE_CHECKING, Annotated, Any

import typer

from omnisdk.cli.engine_render import print_result
from omnisdk.cli.engine_session import JsonOption, emit_result, run_with_engine
from omnisdk.cli.import_progress import ImportProgress
from omnisdk.cli.output import print_note, print_warning, stderr_console, stdout_console
from omnisdk.cli.state import get_state
from omnisdk.config import reserve_location

if TYPE_CHECKING:
    from omnisdk.sync.catalog import ApplyStats, ImportStats, Plan
    from omnisdk.sync.engine import Engine
    from omnisdk.sync.first_count import FirstCountStats
    from omnisdk.sync.promotions import PromotionPlan, PromotionRun
    from omnisdk.sync.pusher import PushStats

__all__ = [
    "apply",
    "catalog_app",
    "catalog_skus",
    "import_catalog",
    "plan",
    "push",
    "reconcile",
    "status",
]

ChannelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--channel",
        "-C",
        metavar="NAME",
        show_default=False,
        help="Only this account (a channel name in the config); repeat for several.",
    ),
]


def _known(names: list[str] | None, ctx: typer.Context) -> list[str] | None:
    """The ``--channel`` names, each checked against the config (a clear error if unknown)."""
    if not names:
        return None
    config = get_state(ctx).config()
    for name in names:
        config.channel(name)
    return list(names)


def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show every channel account's health: authorisation, lag, outbox, failures, quarantine.

    Reads the store only (no channel is called). Exits with 1 when some account is unhealthy.
    """
    report = run_with_engine(get_state(ctx), lambda engine: engine.status())
    if json_output:
        emit_result(report)
    else:
        print_result(report)
    if not report.healthy:
        raise typer.Exit(1)


def plan(
    ctx: typer.Context, channel: ChannelsOption = None, json_output: JsonOption = False
) -> None:
    """Preview what a catalog sync would send to each account (nothing is sent).

    `omnisdk apply` sends it.
    """
    accounts = _known(channel, ctx)

    async def work(engine: Engine) -> tuple[Plan, PromotionPlan]:
        return await engine.plan(accounts), await engine.plan_promotions()

    result, promotions = run_with_engine(get_state(ctx), work)
    if json_output:
        emit_result(result)
        return
    if result.is_empty:
        print_note("nothing to send: every account is up to date")
    else:
        print_result(result)
    if promotions.steps or promotions.ending:
        _print_promotion_plan(ctx, promotions)


def _print_promotion_plan(ctx: typer.Context, plan: PromotionPlan) -> None:
    from omnisdk.cli.promotions import plan_tables

    console = stdout_console()
    for table in plan_tables(plan, get_state(ctx).config().engine.zone):
        console.print(table)
    print_note(
        f"promotions: {len(plan.to_write())} to write now, {len(plan.ending)} to restore, "
        f"{len(plan.unsupported())} the channel cannot show (omnisdk promotions plan)"
    )


def apply(
    ctx: typer.Context, channel: ChannelsOption = None, json_output: JsonOption = False
) -> None:
    """Send the catalog sync: a fresh plan for the accounts, then every change in it.

    Each change is checked against the account's current state first, so applying twice
    sends nothing the second time. Exits with 1 when a channel refused something.
    """
    accounts = _known(channel, ctx)

    async def work(engine: Engine) -> tuple[ApplyStats, PromotionRun | None]:
        stats = await engine.apply(await engine.plan(accounts))
        # The promotions due (or ended) go with the catalog: their prices are the catalog's.
        promoted = None if json_output else await engine.run_promotions()
        return stats, promoted

    stats, promoted = run_with_engine(get_state(ctx), work)
    if json_output:
        emit_result(stats)
    else:
        print_result(stats, title="Applied")
        print_note(
            f"{stats.sent} sent ({stats.succeeded} ok, {stats.failed} refused), "
            f"{stats.unchanged} already in place"
        )
        if promoted is not None and promoted.outcomes:
            from omnisdk.cli.promotions import run_sentence, run_table

            stdout_console().print(run_table(promoted))
            print_note(f"promotions: {run_sentence(promoted)}")
    refused = promoted is not None and promoted.failed
    if stats.failed or refused or any(account.error for account in stats.accounts):
        raise typer.Exit(1)


def reconcile(
    ctx: typer.Context, channel: ChannelsOption = None, json_output: JsonOption = False
) -> None:
    """Compare every account's listed stock with what it should list; repair drift.

    Reports oversells (a channel that sold more than the pool held).
    """
    accounts = _known(channel, ctx)
    report = run_with_engine(get_state(ctx), lambda engine: engine.reconcile(accounts))
    if json_output:
        emit_result(report)
    else:
        print_result(report, title="Reconciliation")


def push(
    ctx: typer.Context,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel", "-C", metavar="NAME", help="Only this account (default: every account)."
        ),
    ] = None,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="First queue again every push that failed for good (after fixing the cause).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Push due stock figures to the channels now (drain the outbox)."""
    if channel is not None:
        get_state(ctx).config().channel(channel)

    async def work(engine: Engine) -> PushStats:
        if retry_failed:
            queued = await engine.retry_failed_pushes(channel)
            print_note(f"{queued} failed pushes queued again")
        return await engine.push(channel)

    stats = run_with_engine(get_state(ctx), work)
    if json_output:
        emit_result(stats)
    else:
        print_result(stats, title="Stock push")


catalog_app = typer.Typer(
    name="catalog",
    help="The master catalog: import it from a channel (then `plan` / `apply`).",
    no_args_is_help=True,
)


@catalog_app.command("import")
def import_catalog(
    ctx: typer.Context,
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            "-C",
            metavar="NAME",
            show_default=False,
            help="The account whose listings to import (a channel name in the config).",
        ),
    ],
    with_stock: Annotated[
        bool,
        typer.Option(
            "--with-stock",
            help="Take what the account lists now as the first stock count of every SKU "
            "that has none yet (counted SKUs keep their count).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Build (or extend) the master catalog from one account's listings, binding by SKU.

    SKUs already in the master catalog keep the master's data; disagreements are reported.
    The engine holds no stock for new SKUs until they are counted (`omnisdk stock set`), or
    --with-stock takes the listed figures as the first count.
    """
    state = get_state(ctx)
    state.config().channel(channel)

    console = stderr_console()
    bar = ImportProgress(channel, console) if console.is_terminal else None

    async def work(engine: Engine) -> tuple[ImportStats, FirstCountStats | None]:
        stats = await engine.import_catalog(
            channel, progress=bar.update if bar is not None else None
        )
        counted = await engine.count_listed_stock(channel) if with_stock else None
        return stats, counted

    with bar if bar is not None else contextlib.nullcontext():
        stats, counted = run_with_engine(state, work)
    if json_output:
        emit_result(stats if counted is None else {"import": stats, "stock": counted})
        return
    print_result(stats, title=f"Imported from {channel}")
    if stats.failures:
        print_warning(f"{len(stats.failures)} listings could not be imported")
    if counted is not None:
        kept = (
            f"; {len(counted.kept)} SKUs already counted kept their count" if counted.kept else ""
        )
        print_note(
            f"stock: {counted.counted} SKUs counted at {counted.location} from what {channel} "
            f"lists ({counted.units} units){kept}"
        )
        if counted.counted:
            print_note("next: `omnisdk push` (or `omnisdk run`) lists them on every channel")
    elif stats.variants_created:
        config = state.config()
        location = reserve_location(config.channel(channel), config.engine)
        print_note(
            f"next: the engine holds no stock for the {stats.variants_created} new SKUs yet, "
            f"so it lists 0 of them: count each with `omnisdk stock set SKU N --location "
            f"{location}`, or take what {channel} lists now with `omnisdk catalog import "
            f"--channel {channel} --with-stock`"
        )


@catalog_app.command("skus")
def catalog_skus(
    ctx: typer.Context,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Rename each stored SKU to its canonical form in every table (refused "
            "while `omnisdk run` holds the store, and for SKUs whose canonical form is "
            "stored too: those are two master SKUs to merge by hand).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List stored SKUs spelled otherwise than their canonical form (zero-width or other
    invisible characters, decomposed accents, odd spaces), stored before SKUs were
    normalised; --fix renames them."""
    from omnisdk.store.sku_spellings import find_sku_spellings, rename_all

    state = get_state(ctx)

    async def work(engine: Engine) -> tuple[list[Any], dict[str, str]]:
        store = engine.store
        spellings = await asyncio.to_thread(find_sku_spellings, store)
        if not fix or not spellings:
            return spellings, {}

        def renamed() -> dict[str, str]:
            with store.acquire_run_lock():  # not while `omnisdk run` writes these rows
                return rename_all(store, spellings)

        return spellings, await asyncio.to_thread(renamed)

    spellings, outcome = run_with_engine(state, work)
    if json_output:
        emit_result(
            [
                {
                    "stored": s.stored,
                    "canonical": s.canonical,
                    "rows": s.rows,
                    "merge": s.merge,
                    **({"outcome": outcome[s.stored]} if s.stored in outcome else {}),
                }
                for s in spellings
            ]
        )
        return
    console = stdout_console()
    if not spellings:
        console.print("Every stored SKU is in its canonical form.")
        return
    for spelling in spellings:
        shown = _visible(spelling.stored)
        rows = ", ".join(
            f"{table.removeprefix('omnisdk_')} {n}" for table, n in spelling.rows.items()
        )
        target = spelling.canonical if spelling.canonical is not None else "(none)"
        what = outcome.get(spelling.stored) or ("merge by hand" if spelling.merge else "--fix")
        console.print(f"{shown} -> {target}: {rows}; {what}", highlight=False, soft_wrap=True)
    if not fix:
        print_note("next: `omnisdk catalog skus --fix` renames those that are not merges")


def _visible(sku: str) -> str:
    """``sku`` with its invisible, control, odd space and combining characters shown as
    ``\\uXXXX`` (the letters a merchant typed stay as they are)."""
    shown = []
    for char in sku:
        category = unicodedata.category(char)
        hidden = category[0] in "CM" or (category[0] == "Z" and char != " ")
        shown.append(f"\\u{ord(char):04x}" if hidden else char)
    return "".join(shown)
