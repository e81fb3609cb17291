"""What one order adds to the sales report, kept on its row so the report is one GROUP BY.

Every figure is merchandise only (shipping and tax left out), in the order's currency's minor
units (VND has none, so a đồng is one unit):

- ``units``: the units of every line;
- ``gross``: list price times units, before any discount;
- ``discounts``: gross less what the buyer pays for the goods (total - shipping - tax), so
  line discounts, order vouchers and seller promotions all count once, however the platform
  splits them;
- ``refunds``: what the buyer paid for the goods when the order came back or was refunded
  in full (status ``returned`` or payment ``refunded``); otherwise the order's
  ``refund_total`` (partial refunds added up), never more than the goods;
- ``location``: the store the sale was made or collected at (a counter sale or a pick-up
  order; the order's ``pickup_location``), None for orders shipped from online channels.

Net (gross - discounts - refunds) is derived in the report, never stored.

By SKU, each line carries its share of the refund (:func:`line_refunds`): a line's whole
total when the order was refunded in full, else the order's refund split over the lines in
proportion to their totals (largest remainder, so the shares add up to the order's refund).
When the platform says which units came back (``OrderLine.returned``), the refund is split
over those units only: in proportion to what the returned units of each line cost (over
every line again when more was given back than they cost).
"""

from __future__ import annotations

from dataclasses import dataclass

from omnisdk.models import Money, Order, OrderStatus, PaymentStatus

__all__ = ["SalesFigures", "line_refunds", "sales_figures"]


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


def _goods(order: Order) -> Money:
    zero = Money.zero(order.currency)
    return order.total - (order.shipping_total or zero) - (order.tax_total or zero)


def _refund_minor(order: Order) -> int:
    goods = _goods(order).to_minor()
    if _is_refunded(order):
        return goods
    if order.refund_total is None:
        return 0
    return max(0, min(order.refund_total.to_minor(), goods))


def sales_figures(order: Order) -> SalesFigures:
    """The figures ``order`` adds to the sales report."""
    zero = Money.zero(order.currency)
    gross = sum((line.unit_price * line.quantity for line in order.lines), zero)
    return SalesFigures(
        units=sum(line.quantity for line in order.lines),
        gross_minor=gross.to_minor(),
        discount_minor=(gross - _goods(order)).to_minor(),
        refund_minor=_refund_minor(order),
        location=order.pickup_location,
    )


def _weights(order: Order, totals: list[int]) -> list[int]:
    """What each line's units that came back cost (minor units), or its whole total when
    the order says of no unit that it came back."""
    if not any(line.returned for line in order.lines):
        return totals
    return [
        total * (line.returned or 0) // line.quantity
        for line, total in zip(order.lines, totals, strict=True)
    ]


def line_refunds(order: Order) -> list[int]:
    """Each line's share of the order's refund, in minor units (see the module docstring)."""
    totals = [max(line.total.to_minor(), 0) for line in order.lines]
    if _is_refunded(order):
        return totals
    refund = _refund_minor(order)
    weights = _weights(order, totals)
    if sum(weights) < refund:  # more was given back than the returned units cost
        weights = totals
    whole = sum(weights)
    if refund == 0 or whole == 0:
        return [0] * len(totals)
    refund = min(refund, sum(totals))
    shares = [refund * weight // whole for weight in weights]
    # Largest remainder: the units lost to rounding go to the lines that lost the most.
    left = refund - sum(shares)
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (-(refund * weights[i] % whole), i)
    )
    for index in by_remainder[:left]:
        shares[index] += 1
    return shares
