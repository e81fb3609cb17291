"""``omnisdk channels``: retire an account (``remove``), or authorise one again
(``reauthorise``) with the credentials now in omnisdk.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from omnisdk.cli.engine_session import JsonOption, emit_result, run_with_engine
from omnisdk.cli.output import print_note, print_warning, stdout_console
from omnisdk.cli.state import get_state
from omnisdk.cli.tables import cli_table

if TYPE_CHECKING:
    from omnisdk.sync.removal import RemovalReport

__all__ = ["channels_app", "reauthorise", "remove"]

channels_app = typer.Typer(
    name="channels",
    help="The channel accounts: authorise one again, retire one.",
    no_args_is_help=True,
)


def _print(report: RemovalReport) -> None:
    console = stdout_console()
    verb = "would drop" if report.dry_run else "dropped"
    table = cli_table(
        "SKU",
        "Location",
        "Listed",
        "Now",
        title=f"{report.account}: listings {verb} to 0",
        wrap=("Now",),
    )
    for listing in report.listings:
        now = (
            Text("(dry run)", style="dim")
            if report.dry_run
            else Text("0")
            if listing.zeroed
            else Text(listing.error or "not changed", style="red")
        )
        table.add_row(Text(listing.sku), listing.location or "-", str(listing.listed), now)
    if report.listings:
        console.print(table)
    else:
        print_note(f"{report.account} lists no SKU the engine manages")


@channels_app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", show_default=False, help="The account to retire.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be done; change nothing.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Retire a channel account: its listings drop to 0, its webhooks are unregistered, the
    account and its bindings are archived (their quotas go to the other channels).

    Its orders, customers and stock history stay. If a listing cannot be zeroed the account
    stays active and the command exits with 1 (run it again). Remove its [[channels]]
    entry from omnisdk.toml afterwards.
    """
    state = get_state(ctx)
    state.config().channel(name)
    report = run_with_engine(state, lambda engine: engine.remove_account(name, dry_run=dry_run))
    if json_output:
        emit_result(report)
    else:
        _print(report)
        if report.dry_run:
            hooks = (
                f"; unregister its webhooks at {report.webhook_url}" if report.webhook_url else ""
            )
            print_note(
                f"dry run: would drop {len(report.listings)} listings to 0{hooks}; archive "
                f"{name} (its orders and customers stay)"
            )
        for error in report.errors:
            print_warning(error)
        if report.complete:
            hooks = "webhooks unregistered, " if report.webhooks_removed else ""
            print_note(
                f"{name} retired: {len(report.listings)} listings at 0, {hooks}archived; "
                f"{report.others_queued} pushes queued to the other channels. Its orders "
                f"and customers stay. Next: remove its [[channels]] entry from omnisdk.toml"
            )
    if not report.dry_run and not report.complete:
        raise typer.Exit(1)


@channels_app.command("reauthorise")
def reauthorise(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", show_default=False, help="The account.")],
    json_output: JsonOption = False,
) -> None:
    """Authorise an account again with the credentials omnisdk.toml gives it now.

    After `status` says an account needs re-authorisation: put the new token (or token
    pair) in its [[channels]] entry, then run this. The credentials are checked against the
    platform; when they work they replace the stored token (which otherwise wins over the
    config) and the engine, a running `omnisdk run` too, talks to the account again. When
    they do not, the command says why, exits with 1 and changes nothing.
    """
    state = get_state(ctx)
    state.config().channel(name)
    info = run_with_engine(state, lambda engine: engine.reauthorise(name))
    if json_output:
        emit_result(info)
        return
    shop = f" ({info.name})" if info.name else ""
    print_note(f"{name} authorised again{shop}: the engine talks to it again")
