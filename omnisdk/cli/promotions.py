"""``omnisdk promotions list|plan|apply|end``: one promotion, the same on every channel.

``list`` shows every promotion (``[[promotions]]`` and those added through the API) with its
state; ``plan`` what each account would show and how (or why it cannot); ``apply`` writes what
is due and restores what has ended (``omnisdk run`` does this by itself at each start and end);
``end`` ends one now, every channel back at its base price. Times are shown in the shop's
``[engine] timezone``. ``--json`` prints the result model's JSON instead of a table.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from omnisdk.cli.engine_session import JsonOption, emit_result, run_with_engine
from omnisdk.cli.output import print_note, stdout_console
from omnisdk.cli.state import get_state
from omnisdk.cli.tables import cli_table
from omnisdk.models import Promotion, PromotionKind

if TYPE_CHECKING:
    from omnisdk.store import StoredPromotion
    from omnisdk.sync.engine import Engine
    from omnisdk.sync.promotions import PromotionPlan, PromotionRun

__all__ = ["plan_tables", "promotions_app", "run_table"]

promotions_app = typer.Typer(
    name="promotions",
    help="Promotions: one price cut, applied the same on every channel.",
    no_args_is_help=True,
)

_ACTIONS = {
    "set": "promote",
    "unsupported": "cannot",
    "opted_out": "opted out",
    "conflict": "conflict",
}


def _local(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return f"{local:%Y-%m-%d}\n{local:%H:%M}"


def _off(promotion: Promotion) -> str:
    if promotion.kind is PromotionKind.PERCENTAGE:
        return f"{promotion.value} %"
    assert promotion.amount is not None
    return f"{promotion.amount.amount:,} {promotion.amount.currency}"


def _state(stored: StoredPromotion, now: datetime) -> Text:
    if stored.ended_at is not None or stored.promotion.ends_at <= now:
        return Text("ended", style="dim")
    if stored.promotion.starts_at <= now:
        return Text("running", style="bold green")
    return Text("scheduled", style="cyan")


def promotions_table(stored: list[StoredPromotion], now: datetime, zone: ZoneInfo) -> Table:
    """Every promotion: id, name, what it takes off, start, end and state."""
    table = cli_table("Promotion", "Name", "Off", "Starts", "Ends", "State", wrap=("Name",))
    table.columns[2].justify = "right"
    for entry in stored:
        promotion = entry.promotion
        table.add_row(
            Text(promotion.id, style="bold"),
            promotion.name,
            _off(promotion),
            _local(promotion.starts_at, zone),
            _local(promotion.ends_at, zone),
            _state(entry, now),
        )
    return table


def plan_tables(plan: PromotionPlan, zone: ZoneInfo) -> list[Table]:
    """One table per promotion of ``plan`` (account, SKU, what it does, base and promoted
    price, a note), and one of the items ended promotions still have to restore."""
    tables = []
    ids = list(dict.fromkeys(step.promotion for step in plan.steps))
    for promotion_id in ids:
        steps = [step for step in plan.steps if step.promotion == promotion_id]
        first = steps[0]
        table = cli_table(
            "Account", "SKU", "Action", "Base", "Promoted", "Note",
            title=(
                f"Promotion {promotion_id}, {_local(first.starts_at, zone).replace(chr(10), ' ')}"
                f" to {_local(first.ends_at, zone).replace(chr(10), ' ')}"
            ),
            wrap=("Note",),
        )
        table.columns[3].justify = table.columns[4].justify = "right"
        for step in steps:
            if step.in_place:
                note = "in place"
            elif step.reason:
                note = step.reason
            elif step.due:
                note = "written now"
            elif step.action.value == "set":
                note = "written at the start"
            else:
                note = ""
            table.add_row(
                Text(step.account, style="magenta"),
                step.sku,
                Text(_ACTIONS[step.action.value], style="bold"),
                f"{step.base.amount:,}",
                f"{step.promoted.amount:,}",
                note,
            )
        tables.append(table)
    if plan.ending:
        table = cli_table("Promotion", "Account", "SKU", "Back to", title="To restore")
        table.columns[3].justify = "right"
        for step in plan.ending:
            table.add_row(
                step.promotion,
                Text(step.account, style="magenta"),
                step.sku,
                f"{step.base.amount:,} {step.base.currency}",
            )
        tables.append(table)
    return tables


def run_table(run: PromotionRun) -> Table:
    """What a run wrote: per account and SKU, promoted or restored (or why it failed)."""
    table = cli_table("Promotion", "Account", "SKU", "Done", "Price", wrap=("Done",))
    table.columns[4].justify = "right"
    for outcome in run.outcomes:
        done = (
            Text(outcome.operation, style="green")
            if outcome.ok
            else Text(f"refused: {outcome.error}", style="red")
        )
        table.add_row(
            outcome.promotion,
            Text(outcome.account, style="magenta"),
            outcome.sku,
            done,
            f"{outcome.price.amount:,}",
        )
    return table


def run_sentence(run: PromotionRun) -> str:
    """One sentence for a run: promoted, restored, refused and promotions finished."""
    text = f"{run.applied} promoted, {run.ended} restored, {run.failed} refused"
    if run.finished:
        text += f"; ended on every channel: {', '.join(run.finished)}"
    return text


def _zone(ctx: typer.Context) -> ZoneInfo:
    return get_state(ctx).config().engine.zone


@promotions_app.command("list")
def list_promotions(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Every promotion ([[promotions]] and those added through the API) and its state."""

    async def work(engine: Engine) -> tuple[list[StoredPromotion], datetime]:
        return await engine.promotions(), engine.now()

    stored, now = run_with_engine(get_state(ctx), work)
    if json_output:
        emit_result(
            [
                {
                    "promotion": s.promotion.model_dump(mode="json"),
                    "origin": s.origin,
                    "ended_at": s.ended_at.isoformat() if s.ended_at else None,
                }
                for s in stored
            ]
        )
        return
    if not stored:
        print_note("no promotions: add [[promotions]] to the config, or engine.add_promotion()")
        return
    stdout_console().print(promotions_table(stored, now, _zone(ctx)))


@promotions_app.command("plan")
def plan(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """What every account would show of each promotion, and how; nothing is written.

    An account whose channel cannot express a promotion is shown as "cannot", with why.
    """
    result = run_with_engine(get_state(ctx), lambda engine: engine.plan_promotions())
    if json_output:
        emit_result(result)
        return
    if not result.steps and not result.ending:
        print_note("no promotion to come or to restore")
        return
    console = stdout_console()
    console.print(Group(*plan_tables(result, _zone(ctx))))
    print_note(
        f"{len(result.to_write())} to write now, {len(result.ending)} to restore, "
        f"{len(result.unsupported())} the channel cannot show"
    )


@promotions_app.command("apply")
def apply(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Write what is due and restore what has ended; twice writes nothing the second time.

    Exits with 1 when a channel refused something (it is tried again at the next run).
    """
    result = run_with_engine(get_state(ctx), lambda engine: engine.run_promotions())
    _print_run(result, json_output)


@promotions_app.command("end")
def end(
    ctx: typer.Context,
    promotion: Annotated[str, typer.Argument(metavar="ID", help="The promotion's id.")],
    json_output: JsonOption = False,
) -> None:
    """End a promotion now, every channel back at its base price."""
    result = run_with_engine(get_state(ctx), lambda engine: engine.end_promotion(promotion))
    _print_run(result, json_output)


def _print_run(result: PromotionRun, json_output: bool) -> None:
    if json_output:
        emit_result(result)
    else:
        if result.outcomes:
            stdout_console().print(run_table(result))
        print_note(run_sentence(result))
    if result.failed:
        raise typer.Exit(1)
