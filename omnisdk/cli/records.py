"""What the store knows, and changing stock: ``stock``, ``orders``, ``customers``, ``quarantine``.

Lists print JSON lines with ``--json`` (one object per line, exactly its pydantic model's
JSON, like ``omnisdk pull``); single objects print one JSON document.
"""

from __future__ import annotations

import asyncio
from contextlib import closing
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from omnisdk.channel import Capability
from omnisdk.cli.engine_render import push_summary, scalar_text, when_text
from omnisdk.cli.engine_session import JsonOption, emit_result, run_with_engine
from omnisdk.cli.output import (
    emit_json_line,
    print_note,
    print_warning,
    silence_stdout,
    stdout_console,
)
from omnisdk.cli.state import get_state
from omnisdk.cli.tables import cli_table, order_rows_table
from omnisdk.errors import OmnisdkError, UnknownRecord, UsageError
from omnisdk.models import Order, OrderStatus

if TYPE_CHECKING:
    from omnisdk.cli.views import StockReport
    from omnisdk.store import QuarantineRow
    from omnisdk.sync.customer_view import CustomerView
    from omnisdk.sync.engine import Engine
    from omnisdk.sync.pusher import PushStats

__all__ = [
    "customers_app",
    "orders_app",
    "print_customer",
    "quarantine_app",
    "replay_quarantined",
    "stock_app",
]

ORDERS_PER_TABLE = 200
"""``orders list`` prints a table per this many orders (the columns are sized per table)."""

stock_app = typer.Typer(
    name="stock", help="The stock pool: show a SKU, count or adjust it.", no_args_is_help=True
)
orders_app = typer.Typer(name="orders", help="The one order book.", no_args_is_help=True)
customers_app = typer.Typer(
    name="customers", help="Customers across every channel.", no_args_is_help=True
)
quarantine_app = typer.Typer(
    name="quarantine",
    help="Payloads the engine set aside (with why), and replaying them.",
    no_args_is_help=True,
)

LocationOption = Annotated[
    str | None,
    typer.Option(
        "--location",
        "-l",
        metavar="CODE",
        help="The location (default: [engine] default_location).",
    ),
]


# -- stock ---------------------------------------------------------------------------------


async def _listed_now(engine: Engine, sku: str) -> tuple[dict[str, int | None], dict[str, str]]:
    listed: dict[str, int | None] = {}
    errors: dict[str, str] = {}

    from omnisdk.sync.catalog.view import listed_levels

    async def read(account: str) -> None:
        channel = engine.channels[account]
        try:
            levels = [level async for level in listed_levels(channel, [sku]) if level.sku == sku]
        except OmnisdkError as exc:
            errors[account] = str(exc)
            return
        listed[account] = sum(level.on_hand for level in levels) if levels else None

    readable = [
        name
        for name, channel in engine.channels.items()
        if Capability.READ_STOCK in channel.capabilities and not await engine.is_stopped(name)
    ]
    await asyncio.gather(*(read(account) for account in readable))
    return listed, errors


@stock_app.command("show")
def stock_show(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(metavar="SKU", show_default=False)],
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not ask the channels what they list now.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Show a SKU's stock: on hand and reserved per location; sellable and listed per channel."""

    async def work(engine: Engine) -> StockReport:
        from omnisdk.cli.views import StockReport

        view = await engine.stock_view(sku)
        listed, errors = ({}, {}) if offline else await _listed_now(engine, sku)
        return StockReport(**dict(view), listed_now=listed, listed_errors=errors)

    report = run_with_engine(get_state(ctx), work)
    if json_output:
        emit_result(report)
        return
    console = stdout_console()
    if not report.locations and not report.listings:
        print_note(f"{sku}: nothing known about this SKU")
        return
    places = cli_table("Location", "On hand", "Reserved", "Available", title=f"{sku}: stock pool")
    for level in report.locations:
        places.add_row(
            level.location, str(level.on_hand), str(level.reserved), str(level.available)
        )
    places.add_row(
        Text("total", style="bold"),
        str(report.on_hand),
        str(report.reserved),
        str(report.on_hand - report.reserved),
    )
    console.print(places)
    quota = report.allocation == "quota"
    channels = cli_table(
        "Channel",
        "Quota" if quota else "Sellable",
        *(["Share"] if quota else []),
        "Listed now",
        "Sold",
        "Unseen",
        "Pushed",
        title=f"{sku}: per channel ({report.allocation} allocation)",
    )
    errors: list[Text] = []
    for listing in report.listings:
        now = report.listed_now.get(listing.account)
        differs = now is not None and now != listing.sellable and not listing.pending
        pushed = Text(scalar_text(listing.last_pushed))
        if listing.pending:
            pushed.append(" (due)", style="yellow")
        channels.add_row(
            listing.account,
            str(listing.sellable),
            *([scalar_text(listing.share)] if quota else []),
            Text(
                scalar_text(now) if not offline else "not read", style="yellow" if differs else ""
            ),
            str(listing.sold),
            str(listing.unseen),
            pushed,
        )
        error = listing.error or report.listed_errors.get(listing.account)
        if error:
            errors.append(Text(f"{listing.account}: ", style="bold") + Text(error, style="red"))
    console.print(channels)
    for line in errors:
        console.print(line)
    if report.unconfigured:
        names = ", ".join(report.unconfigured)
        print_note(
            f"also listed by {names}, no longer in the config (not allocated); "
            f"`omnisdk channels remove ACCOUNT` forgets an account"
        )
    if not report.locations:
        print_note(
            f"next: no stock is counted for {sku}, so every channel lists 0: "
            f"`omnisdk stock set {sku} N --location LOCATION`"
        )


# "stock set SKU -1" must reach the engine (which refuses it in one line), not be an option.
@stock_app.command("set", context_settings={"ignore_unknown_options": True})
def stock_set(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(metavar="SKU", show_default=False)],
    quantity: Annotated[int, typer.Argument(metavar="QUANTITY", show_default=False)],
    location: LocationOption = None,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="Push the new figures to the channels now.")
    ] = True,
) -> None:
    """Record a stock count: on hand of SKU at the location becomes QUANTITY.

    Every channel listing the SKU is told its new sellable figure (now, unless --no-push;
    else by the running engine). The SKU must be in the master catalog and the location
    named in the config; QUANTITY is 0 to 1 000 000 000.
    """

    async def work(engine: Engine) -> PushStats | None:
        await engine.set_stock(sku, quantity, location=location, reason="count")
        return await engine.push() if push else None

    pushed = run_with_engine(get_state(ctx), work)
    where = location or get_state(ctx).config().engine.default_location
    print_note(f"{sku} at {where}: on hand set to {quantity}")
    if pushed is not None:
        print_note(f"pushed: {push_summary(pushed)}")


# A negative DELTA ("-5") must reach the argument, not be read as an unknown option.
@stock_app.command("adjust", context_settings={"ignore_unknown_options": True})
def stock_adjust(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(metavar="SKU", show_default=False)],
    delta: Annotated[int, typer.Argument(metavar="DELTA", show_default=False)],
    location: LocationOption = None,
    key: Annotated[
        str | None,
        typer.Option(metavar="KEY", help="Idempotency key (a delivery note number): once only."),
    ] = None,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="Push the new figures to the channels now.")
    ] = True,
) -> None:
    """Add DELTA units (negative to remove) to on hand of SKU (goods in, breakage).

    A removal that would take on hand below 0 is refused (count the stock with `stock set`).
    """

    async def work(engine: Engine) -> bool:
        applied = await engine.adjust_stock(sku, delta, location=location, key=key)
        if push and applied:
            await engine.push()
        return applied

    if run_with_engine(get_state(ctx), work):
        print_note(f"{sku}: on hand {delta:+d}")
    else:
        print_note(f"{sku}: adjustment {key!r} was already applied; nothing changed")


# -- orders --------------------------------------------------------------------------------


def _status(value: str | None) -> OrderStatus | None:
    if value is None:
        return None
    try:
        return OrderStatus(value.lower())
    except ValueError:
        known = ", ".join(status.value for status in OrderStatus)
        raise typer.BadParameter(
            f"{value!r} is not an order status; one of {known}", param_hint="--status"
        ) from None


@orders_app.command("list")
def orders_list(
    ctx: typer.Context,
    channel: Annotated[
        str | None,
        typer.Option("--channel", "-C", metavar="NAME", help="Only this account's orders."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(metavar="STATUS", help="Only orders in this canonical status (e.g. pending)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Stop after N orders.")
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print JSON lines: each order exactly as the Order model's JSON."
        ),
    ] = False,
) -> None:
    """List the orders of every channel, from the one order book, in the order they came in."""
    wanted = _status(status)
    state = get_state(ctx)
    if channel is not None:
        state.config().channel(channel)
    console = stdout_console()
    page: list[Order] = []
    pages = 0

    def flush() -> None:
        nonlocal pages
        if page:
            console.print(order_rows_table(page, header=pages == 0))
            pages += 1
            page.clear()

    def show(order: Order) -> None:
        if json_output:
            emit_json_line(order)
            return
        page.append(order)
        if len(page) >= ORDERS_PER_TABLE:
            flush()

    async def work(engine: Engine) -> int:
        def stream() -> int:
            """Print the orders as the store's cursor yields them (a table per page of
            orders, so memory stays flat)."""
            shown = 0
            with closing(engine.store.iter_orders(account=channel, status=wanted)) as found:
                for stored in found:
                    show(stored.order)
                    shown += 1
                    if limit is not None and shown >= limit:
                        break
            flush()
            return shown

        return await asyncio.to_thread(stream)

    try:
        count = run_with_engine(state, work)
    except BrokenPipeError:
        silence_stdout()
        return
    if not json_output and count == 0:
        print_note("no orders")


# -- customers -----------------------------------------------------------------------------


@customers_app.command("show")
def customers_show(
    ctx: typer.Context,
    ident: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            show_default=False,
            help="A customer id, or a phone number or email the customer is known by.",
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Show one customer across every channel: contacts, identities, merges (and why),
    every order, lifetime value per currency and the channel used last."""

    async def work(engine: Engine) -> CustomerView:
        if await asyncio.to_thread(engine.store.get_customer, ident) is not None:
            return await engine.customer_view(ident)
        found = await engine.find_customers(ident)
        if len(found) > 1:
            raise UsageError(
                f"{ident!r} belongs to {len(found)} customers: "
                + ", ".join(view.id for view in found)
            )
        if not found:
            raise UnknownRecord(f"there is no customer {ident!r}")
        return found[0]

    view = run_with_engine(get_state(ctx), work)
    if json_output:
        emit_result(view)
        return
    print_customer(view)


@customers_app.command("find")
def customers_find(
    ctx: typer.Context,
    contact: Annotated[
        str,
        typer.Argument(
            metavar="PHONE|EMAIL",
            show_default=False,
            help="A phone number in any written form (0912 345 678, +84 912 345 678) or email.",
        ),
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON lines, one customer view each.")
    ] = False,
) -> None:
    """Find the customers known by a phone number or email (masked values find no one)."""

    async def work(engine: Engine) -> list[CustomerView]:
        return await engine.find_customers(contact)

    found = run_with_engine(get_state(ctx), work)
    if json_output:
        for view in found:
            emit_json_line(view)
        return
    if not found:
        print_note(f"no customer is known by {contact!r}")
        return
    console = stdout_console()
    for view in found:  # one short block each: a 32-character id leaves no room for a table
        last = view.last_channel
        count = len(view.orders)
        used = f", last on {last.channel}/{last.account}" if last is not None else ""
        console.print(Text(view.display_name, style="bold") + Text(f"  {view.id}"))
        console.print(Text(f"  {count} order{'' if count == 1 else 's'}{used}", style="dim"))


def print_customer(view: CustomerView) -> None:
    """The text view of ``omnisdk customers show`` (narrow: one fact per line)."""
    console = stdout_console()
    console.print(Text(f"{view.display_name}  ({view.id})", style="bold"))
    contacts = [
        f"{point.value} (masked, never matched)" if point.masked else point.value
        for point in view.contacts
    ]
    for label, values in (
        ("contacts", contacts),
        ("known on", [f"{ref.channel}/{ref.account}#{ref.external_id}" for ref in view.identities]),
        ("value", [f"{money.amount:,} {money.currency}" for money in view.lifetime_value]),
    ):
        if values:
            console.print(Text(f"  {label}: ", style="dim") + Text(", ".join(values)))
    if view.last_channel is not None:
        last = view.last_channel
        used = Text(f"{last.channel}/{last.account}")
        console.print(Text("  last channel: ", style="dim") + used)
    for merge in view.merges:
        console.print(Text(f"  merged {merge.merged_id}: ", style="dim") + Text(merge.reason))
    count = len(view.orders)
    console.print(Text(f"  {count} order{'' if count == 1 else 's'}", style="dim"))
    for order in view.orders:
        where = f" @ {order.location}" if order.location else ""
        line = Text(f"  {order.channel_ref.account:<16} ", style="magenta")
        line.append(
            f"{order.placed_at:%Y-%m-%d} {order.number or order.channel_ref.external_id} "
            f"{order.status.value} {order.total.amount:,} {order.total.currency}{where}"
        )
        console.print(line, soft_wrap=True)


# -- quarantine ------------------------------------------------------------------------------


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    channel: Annotated[
        str | None,
        typer.Option("--channel", "-C", metavar="NAME", help="Only this account's entries."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option(metavar="KIND", help="Only this kind (order, product...).")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Resolved entries too.")] = False,
    payload: Annotated[
        bool, typer.Option("--payload", help="Include the raw payload (JSON output).")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON lines, one entry per line.")
    ] = False,
) -> None:
    """List the payloads the engine could not process, with the reason for each."""

    async def work(engine: Engine) -> list[QuarantineRow]:
        return await asyncio.to_thread(
            engine.store.list_quarantine, None if show_all else False, account=channel, kind=kind
        )

    rows = run_with_engine(get_state(ctx), work)
    from omnisdk.cli.views import QuarantineEntry

    entries = [QuarantineEntry.of(row, payload=payload) for row in rows]
    if json_output:
        for entry in entries:
            emit_json_line(entry)
        return
    if not entries:
        print_note("the quarantine is empty")
        return
    table = cli_table(
        "ID",
        "Account",
        "Kind",
        "Key",
        "Tries",
        "Since",
        "Reason",
        title="Quarantine",
        wrap=("Key", "Since", "Reason"),
    )
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.account,
            entry.kind,
            Text(entry.external_id or "-"),
            str(entry.attempts),
            when_text(entry.created_at),
            Text(
                entry.reason + (" (resolved)" if entry.resolved_at else ""),
                style="dim" if entry.resolved_at else "",
            ),
        )
    stdout_console().print(table)


async def replay_quarantined(engine: Engine, row: QuarantineRow) -> str:
    """Process one quarantined payload again with the current plugins; returns what was done.

    An order is mapped by its account's channel and ingested; a product or customer is
    mapped (so a fixed plugin or a new mapping hook is proven to read it), a product then
    re-imported with its account's catalog, a customer resolved into the customer book.
    Success marks the entry resolved; a failure records the new reason and raises.
    """
    try:
        channel = engine.channel(row.account)
        payload = row.payload if isinstance(row.payload, dict) else {}
        if row.kind == "order":
            order = channel.map_order(payload)
            await engine.ingest_order(order)
            done = f"order {order.channel_ref.external_id} ingested"
        elif row.kind == "product":
            product = channel.map_product(payload)
            await engine.import_catalog(row.account)
            done = f"product {product.title!r} readable; catalog of {row.account} re-imported"
        elif row.kind == "customer":
            customer = channel.map_customer(payload)
            save = engine.store.save_customer
            await asyncio.to_thread(save, customer, source_account=row.account)
            done = f"customer {customer.display_name!r} saved"
        else:
            raise UsageError(
                f"entry {row.id}: a {row.kind!r} payload cannot be replayed; the next poll of "
                f"{row.account} reads the truth (dismiss it with --dismiss)"
            )
    except OmnisdkError as exc:
        await asyncio.to_thread(engine.store.record_retry_failure, row.id, str(exc))
        raise
    await asyncio.to_thread(engine.store.mark_resolved, row.id)
    return done


@quarantine_app.command("retry")
def quarantine_retry(
    ctx: typer.Context,
    entry_id: Annotated[
        int | None,
        typer.Argument(metavar="[ID]", show_default=False, help="One entry (default: all open)."),
    ] = None,
    dismiss: Annotated[
        bool, typer.Option("--dismiss", help="Mark resolved without replaying.")
    ] = False,
) -> None:
    """Replay quarantined payloads (after fixing a plugin or adding a mapping hook).

    Exits with 1 when some entry failed again (its reason is updated).
    """

    async def work(engine: Engine) -> tuple[int, int]:
        if entry_id is not None:
            row = await asyncio.to_thread(engine.store.get_quarantined, entry_id)
            if row is None:
                raise UnknownRecord(f"there is no quarantine entry {entry_id}")
            if row.resolved_at is not None:
                raise UsageError(f"quarantine entry {entry_id} is already resolved")
            rows = [row]
        else:
            rows = await asyncio.to_thread(engine.store.list_quarantine, False)
        succeeded = failed = 0
        for row in rows:
            if dismiss:
                await asyncio.to_thread(engine.store.mark_resolved, row.id)
                print_note(f"{row.id}: dismissed")
                succeeded += 1
                continue
            try:
                done = await replay_quarantined(engine, row)
            except OmnisdkError as exc:
                failed += 1
                print_warning(f"{row.id} ({row.account} {row.kind}): still failing: {exc}")
            else:
                succeeded += 1
                print_note(f"{row.id}: {done}")
        return succeeded, failed

    succeeded, failed = run_with_engine(get_state(ctx), work)
    if succeeded + failed == 0:
        print_note("the quarantine is empty")
    elif entry_id is None:
        print_note(f"{succeeded} resolved, {failed} still failing")
    if failed:
        raise typer.Exit(1)
