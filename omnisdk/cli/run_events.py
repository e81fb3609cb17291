"""The lines ``omnisdk run`` prints while it runs: one per event worth a person's attention.

:class:`EventLines` implements the engine's own event hooks (an order came in or changed
status, a channel accepted a stock figure, units moved between channels' quotas, a push
failed for good, an account lost its authorisation) and writes one short line on stderr for
each, in the merchant's words. Registered by ``omnisdk run`` unless ``--quiet``; order lines
wait until the first poll of every account is done (a backfill of a month of orders is a
progress bar, not ten thousand lines).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text

from omnisdk.cli.output import stderr_console
from omnisdk.hookspecs import hookimpl
from omnisdk.models import Order, OrderStatus

__all__ = ["EventLines"]


def _order_name(order: Order) -> str:
    return f"{order.channel_ref.account} {order.number or order.channel_ref.external_id}"


class EventLines:
    """Event hooks that print one line per event (see the module doc).

    ``write`` receives each line (stderr by default); ``clock`` stamps it.
    """

    def __init__(
        self,
        write: Callable[[Text], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._write = write or (lambda line: stderr_console().print(line))
        self._clock = clock or (lambda: datetime.now(UTC))
        self.orders_live = False
        """False while the first polls run: their orders are the backfill, not news."""

    def _line(self, message: str, style: str = "") -> None:
        line = Text(f"{self._clock().astimezone():%H:%M:%S} ", style="dim")
        line.append(message, style=style)
        self._write(line)

    @hookimpl
    def omnisdk_order_received(self, order: Order, is_new: bool) -> None:
        """``order in: hanoi #1001, 2 units, 170,000 VND, Nguyễn Văn An``."""
        if not is_new or not self.orders_live:
            return
        units = sum(line.quantity for line in order.lines)
        parts = [_order_name(order), f"{units} unit{'' if units == 1 else 's'}", str(order.total)]
        if order.customer and order.customer.full_name:
            parts.append(order.customer.full_name)
        self._line("order in: " + ", ".join(parts), "green")

    @hookimpl
    def omnisdk_order_status_changed(self, order: Order, previous: OrderStatus | None) -> None:
        """``order hanoi #1001: confirmed -> cancelled``."""
        if previous is None or not self.orders_live:
            return
        now = order.status.value.replace("_", " ")
        self._line(f"order {_order_name(order)}: {previous.value.replace('_', ' ')} -> {now}")

    @hookimpl
    def omnisdk_stock_pushed(self, account: str, sku: str, quantity: int, rebalanced: bool) -> None:
        """``stock: hanoi now lists 10 of NON-LA-HUE`` (units moved away said so)."""
        if rebalanced:
            self._line(
                f"quota moved: {account} now lists {quantity} of {sku} (units went to the "
                "channel that sells them)",
                "cyan",
            )
        else:
            self._line(f"stock: {account} now lists {quantity} of {sku}")

    @hookimpl
    def omnisdk_push_failed(self, account: str, key: str, error: str, retryable: bool) -> None:
        """Only a push that failed for good: a retry is routine."""
        if not retryable:
            self._line(f"push failed: {account} {key}: {error} (`omnisdk status` lists it)", "red")

    @hookimpl
    def omnisdk_channel_needs_reauthorisation(
        self, channel: str, account: str, reason: str
    ) -> None:
        """The account stopped: a person must authorise it again."""
        self._line(
            f"{account} needs re-authorisation ({reason}): the engine stops calling it; the "
            "other channels go on",
            "bold red",
        )
