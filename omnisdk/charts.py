"""Inline SVG bar charts: server-side, no JavaScript, no dependency.

:func:`bar_chart` draws labelled horizontal bars as one ``<svg>`` element to embed in an HTML
page; :func:`sales_chart` draws one currency of a sales report (net per group). Every text
is escaped, so product names and account labels cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnisdk.sync.sales import SalesReport

__all__ = ["bar_chart", "sales_chart"]

_ROW = 22
_LABEL = 150
_VALUE = 130
_BAR_COLOUR = "#2f6f9f"
_NEGATIVE_COLOUR = "#b34a3c"


def _amount(value: Decimal) -> str:
    return f"{value:,}"


def bar_chart(
    bars: Sequence[tuple[str, Decimal]], *, title: str, width: int = 640, unit: str = ""
) -> str:
    """One horizontal bar per ``(label, value)``, longest bar = largest absolute value.

    Negative values (a day of refunds) are drawn in another colour from the same origin.
    ``unit`` follows each value (``"VND"``). Returns the ``<svg>`` element as text.
    """
    if width < _LABEL + _VALUE + 50:
        raise ValueError(f"a chart needs at least {_LABEL + _VALUE + 50} pixels of width")
    track = width - _LABEL - _VALUE - 20
    largest = max((abs(value) for _, value in bars), default=Decimal(0)) or Decimal(1)
    height = _ROW * (len(bars) + 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(bars):
        y = _ROW * (index + 1) + 4
        length = int(track * abs(value) / largest)
        colour = _NEGATIVE_COLOUR if value < 0 else _BAR_COLOUR
        shown = f"{_amount(value)} {unit}".strip()
        parts += [
            f'<text x="{_LABEL - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{_LABEL}" y="{y + 2}" width="{max(length, 1)}" height="{_ROW - 6}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(shown)}</title></rect>',
            f'<text x="{_LABEL + length + 6}" y="{y + 13}">{escape(shown)}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def sales_chart(report: SalesReport, currency: str, *, width: int = 640) -> str:
    """The net of each group of ``report`` in ``currency``, as :func:`bar_chart`."""
    bars = [
        (line.key or "(shipped)", line.net.amount)
        for line in report.rows
        if line.currency == currency
    ]
    return bar_chart(bars, title=f"Net sales by {report.by.value}, {currency}", width=width,
                     unit=currency)
