"""The CLI's one table style, and the order table that ``orders list`` and ``customers show``
share.

Every table has its title on the left, a rule under the header and no vertical lines, so
that the columns a reader needs fit a default 80-column terminal; cells wrap between words,
never inside one (every figure and name is a single word or breaks at its spaces).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.table import Table
from rich.text import Text

from omnisdk.models import Order

__all__ = ["cli_table", "order_rows_table"]


def cli_table(*headers: str, title: str | None = None, wrap: Iterable[str] = ()) -> Table:
    """A table in the CLI's style with ``headers`` as its columns.

    Only the columns named in ``wrap`` (free text: names, reasons, dates) wrap; the others
    (codes, figures) keep each cell on one line, so a narrow terminal takes its room from
    the text, never from a SKU or a number.
    """
    wrapping = set(wrap)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, expand=False)
    for header in headers:
        table.add_column(header, no_wrap=header not in wrapping)
    return table


def order_rows_table(orders: Iterable[Order], *, header: bool = True) -> Table:
    """Orders as rows: channel, number, status, when placed, total, customer (the units are
    in ``--json``; a name needs the room more)."""
    table = cli_table(
        "Channel", "Order", "Status", "Placed", "Total", "Customer", wrap=("Customer",)
    )
    table.show_header = header
    table.columns[4].justify = "right"
    for order in orders:
        customer = order.customer.full_name if order.customer else None
        table.add_row(
            Text(order.channel_ref.account, style="magenta"),
            Text(order.number or order.channel_ref.external_id, style="dim"),
            Text(order.status.value.replace("_", " "), style="bold"),
            f"{order.created_at:%Y-%m-%d}\n{order.created_at:%H:%M}",
            Text(str(order.total), style="green"),
            Text(customer or "-"),
        )
    return table
