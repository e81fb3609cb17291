"""``omnisdk report sales``: revenue per channel, account, store, SKU or day.

``--json`` prints JSON lines (one :class:`~omnisdk.sync.sales.SalesLine` per row) and ``--csv``
a CSV table, both streamed from the store's cursor as the rows come; the default is one table
per currency with its total (amounts in two currencies are never added).
"""

from __future__ import annotations

import asyncio
import csv
import sys
from contextlib import closing
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from omnisdk.cli.output import emit_json_line, print_note, silence_stdout, stdout_console
from omnisdk.cli.state import CliState, get_state
from omnisdk.errors import UsageError
from omnisdk.models import Money

if TYPE_CHECKING:
    from omnisdk.sync.engine import Engine
    from omnisdk.sync.sales import SalesLine, SalesReport

__all__ = ["report_app", "sales_table"]

report_app = typer.Typer(
    name="report", help="Reports over the one order book.", no_args_is_help=True
)

_GROUPS = ("channel", "account", "location", "sku", "day", "currency")
_HEADERS = {
    "channel": "Channel",
    "account": "Account",
    "location": "Store",
    "sku": "SKU",
    "day": "Day",
    "currency": "Currency",
}
_CSV_FIELDS = ("currency", "orders", "units", "gross", "discounts", "refunds", "net")


def _bound(value: str | None, option: str) -> date | datetime | None:
    """``2024-07-01`` (a day, in the shop's time zone) or an ISO 8601 date and time."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (2024-07-01) or an ISO 8601 time (2024-07-01T09:00+07:00)",
            param_hint=option,
        ) from None


def _amount(money: Money) -> str:
    return f"{money.amount:,}"


def sales_table(report: SalesReport, currency: str) -> Table:
    """The rows of ``report`` in ``currency`` and their total, as a table (fits 80 columns
    for figures up to hundreds of millions)."""
    table = Table(
        _HEADERS[report.by.value],
        "Orders",
        "Units",
        "Gross",
        "Discounts",
        "Refunds",
        "Net",
        title=f"Sales by {report.by.value}, {currency}",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for column in table.columns[1:]:
        column.justify = "right"
    lines = [row for row in report.rows if row.currency == currency]
    totals = [row for row in report.totals if row.currency == currency]
    for row in lines:
        table.add_row(*_cells(row, report.by.value))
    for index, row in enumerate(totals):
        table.add_row(*_cells(row, report.by.value), style="bold", end_section=index == 0)
    if lines:
        table.rows[len(lines) - 1].end_section = True
    return table


def _cells(row: SalesLine, by: str) -> list[str | Text]:
    key = row.key or ("(shipped)" if by == "location" else "-")
    return [
        key,
        f"{row.orders:,}",
        f"{row.units:,}",
        _amount(row.gross),
        _amount(row.discounts),
        _amount(row.refunds),
        _amount(row.net),
    ]


@report_app.command("sales")
def sales(
    ctx: typer.Context,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            metavar="GROUP",
            help="channel, account, location (store), sku, day or currency.",
        ),
    ] = "channel",
    since: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="From this day (in [engine] timezone) or time."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Up to this day or time (not included)."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON lines, one row each.")
    ] = False,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV, one row each.")] = False,
) -> None:
    """Orders, units, gross, discounts, refunds and net per group and currency (cancelled
    orders left out; shipping and tax too)."""
    if by not in _GROUPS:
        raise typer.BadParameter(
            f"{by!r} is not a grouping; one of {', '.join(_GROUPS)}", param_hint="--by"
        )
    if json_output and csv_output:
        raise UsageError("choose one of --json and --csv")
    start, end = _bound(since, "--since"), _bound(until, "--until")
    state = get_state(ctx)

    if json_output or csv_output:
        _stream(state, by, start, end, csv_output=csv_output)
        return

    async def work(engine: Engine) -> SalesReport:
        return await engine.sales_report(by, since=start, until=end)

    from omnisdk.cli.engine_session import run_with_engine

    report = run_with_engine(state, work)
    if not report.rows:
        print_note("no sales in that period")
        return
    console = stdout_console()
    for index, total in enumerate(report.totals):
        if index:
            console.print()
        console.print(sales_table(report, total.currency))


def _stream(
    state: CliState,
    by: str,
    start: date | datetime | None,
    end: date | datetime | None,
    *,
    csv_output: bool,
) -> None:
    from omnisdk.cli.engine_session import run_with_engine
    from omnisdk.sync.sales import iter_sales_lines, when

    async def work(engine: Engine) -> int:
        zone = engine.config.engine.zone

        def write() -> int:
            writer = csv.writer(sys.stdout, lineterminator="\n") if csv_output else None
            if writer is not None:
                writer.writerow((by, *_CSV_FIELDS))
            count = 0
            rows = iter_sales_lines(
                engine.store, by, since=when(start, zone), until=when(end, zone), zone=zone
            )
            with closing(rows):
                for row in rows:
                    if writer is None:
                        emit_json_line(row)
                    else:
                        writer.writerow(
                            (
                                row.key,
                                row.currency,
                                row.orders,
                                row.units,
                                *(
                                    str(money.amount)
                                    for money in (row.gross, row.discounts, row.refunds, row.net)
                                ),
                            )
                        )
                    count += 1
            sys.stdout.flush()
            return count

        return await asyncio.to_thread(write)

    try:
        run_with_engine(state, work)
    except BrokenPipeError:
        silence_stdout()
