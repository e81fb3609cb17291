"""One compact, human line per canonical object, for ``omnisdk pull`` without ``--json``."""

from __future__ import annotations

from pydantic import BaseModel
from rich.text import Text

from omnisdk.models import Customer, Location, Money, Order, Product

__all__ = ["object_line"]


def _price_range(prices: list[Money]) -> str:
    low, high = min(prices), max(prices)
    return str(low) if low == high else f"{low.amount:,} - {high}"


def _product(product: Product) -> Text:
    ref = product.channel_ref.external_id if product.channel_ref else "-"
    count = len(product.variants)
    line = Text()
    line.append(f"{ref:<16} ", style="dim")
    line.append(product.title, style="bold")
    line.append(f"  {count} variant{'s' if count != 1 else ''}")
    line.append(f"  {', '.join(product.skus)}", style="cyan")
    line.append(f"  {_price_range([v.price for v in product.variants])}", style="green")
    return line


def _order(order: Order) -> Text:
    line = Text()
    line.append(f"{order.number or order.channel_ref.external_id:<16} ", style="dim")
    line.append(f"{order.status.value:<14}", style="bold")
    line.append(f" {order.created_at:%Y-%m-%d %H:%M}")
    units = sum(order_line.quantity for order_line in order.lines)
    line.append(f"  {units} unit{'s' if units != 1 else ''}")
    line.append(f"  {order.total}", style="green")
    if order.customer and order.customer.full_name:
        line.append(f"  {order.customer.full_name}")
    return line


def _customer(customer: Customer) -> Text:
    ref = customer.channel_ref.external_id if customer.channel_ref else (customer.id or "-")
    line = Text()
    line.append(f"{ref:<16} ", style="dim")
    line.append(customer.full_name or "(no name)", style="bold")
    contacts = [str(phone) for phone in customer.phones] + [
        email.address or email.raw for email in customer.emails
    ]
    if contacts:
        line.append(f"  {', '.join(contacts)}")
    return line


def _location(location: Location) -> Text:
    line = Text()
    line.append(f"{location.code:<16} ", style="dim")
    line.append(location.name, style="bold")
    line.append(f"  {location.kind.value}")
    if location.pickup:
        line.append("  pickup", style="cyan")
    if not location.active:
        line.append("  inactive", style="red")
    return line


def object_line(item: BaseModel) -> Text:
    """A one-line summary of a Product, Order, Customer or Location (its repr otherwise)."""
    if isinstance(item, Product):
        return _product(item)
    if isinstance(item, Order):
        return _order(item)
    if isinstance(item, Customer):
        return _customer(item)
    if isinstance(item, Location):
        return _location(item)
    return Text(repr(item))
