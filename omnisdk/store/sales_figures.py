"""What one order adds to the sales report, kept on its row so the report is one GROUP BY.

Every figure is merchandise only (shipping and tax left out), in the order's currency's minor
units (VND has none, so a đồng is one unit):

- ``units``: the units of every line;
- ``gross``: list price times units, before any discount;
- ``discounts``: gross less what the buyer pays for the goods (total - shipping - tax), so
  line discounts, order vouchers and seller promotions all count once, however the platform
  splits them;
- ``refunds``: what the buyer paid for the goods when the order came back or was refunded
  in full (status ``returned`` or payment ``refunded``); partial refunds count as none,
  because the canonical order does not carry their amount yet;
- ``location``: the store the sale was made or collected at (a counter sale or a pick-up
  order; the order's ``pickup_location``), None for orders shipped from online channels.

Net (gross - discounts - refunds) is derived in the report, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnisdk.models import Money, Order, OrderStatus, PaymentStatus

__all__ = ["SalesFigures", "sales_figures"]


@dataclass(frozen=True, slots=True)
class SalesFigures:
    """One order's figures (minor units of its currency); see the module docstring."""

    units: int
    gross_minor: int
    discount_minor: int
    refund_minor: int
    location: str | None


def _is_refunded(order: Order) -> bool:
    return order.status is OrderStatus.RETURNED or order.payment_status is PaymentStatus.REFUNDED


def sales_figures(order: Order) -> SalesFigures:
    """The figures ``order`` adds to the sales report."""
    currency = order.currency
    zero = Money.zero(currency)
    gross = sum((line.unit_price * line.quantity for line in order.lines), zero)
    goods = order.total - (order.shipping_total or zero) - (order.tax_total or zero)
    return SalesFigures(
        units=sum(line.quantity for line in order.lines),
        gross_minor=gross.to_minor(),
        discount_minor=(gross - goods).to_minor(),
        refund_minor=goods.to_minor() if _is_refunded(order) else 0,
        location=order.pickup_location,
    )
