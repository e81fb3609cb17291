"""Inline SVG bar charts for the sales report: well-formed, scaled, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from decimal import Decimal

import pytest

from omnisdk.charts import bar_chart, sales_chart
from omnisdk.models import Money
from omnisdk.sync.sales import SalesGroup, SalesLine, SalesReport

SVG = "{http://www.w3.org/2000/svg}"


def _line(key: str, net: int, currency: str = "VND") -> SalesLine:
    money = Money.of(net, currency)
    zero = Money.zero(currency)
    return SalesLine(key=key, currency=currency, orders=1, units=1, gross=money,
                     discounts=zero, refunds=zero, net=money)


def test_bars_are_scaled_to_the_largest_and_text_is_escaped() -> None:
    svg = bar_chart(
        [("<script>alert(1)</script>", Decimal(100)), ("Áo thun & quần", Decimal(-50))],
        title="Net <sales>",
        width=640,
    )
    root = ElementTree.fromstring(svg)  # well-formed XML: nothing was injected
    rects = root.findall(f"{SVG}rect")
    widths = [int(rect.get("width", "0")) for rect in rects]
    assert widths[0] == 2 * widths[1]
    assert rects[1].get("fill") != rects[0].get("fill")  # the negative bar
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_a_sales_chart_draws_one_currency() -> None:
    report = SalesReport(
        by=SalesGroup.CHANNEL,
        timezone="Asia/Ho_Chi_Minh",
        rows=[_line("lazada", 450000), _line("shopify", 25, "USD"), _line("shopee", 240000)],
    )
    root = ElementTree.fromstring(sales_chart(report, "VND"))
    labels = [text.text for text in root.findall(f"{SVG}text")]
    assert "lazada" in labels and "shopee" in labels and "shopify" not in labels
    assert "450,000 VND" in labels


def test_too_narrow_a_chart_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        bar_chart([("a", Decimal(1))], title="t", width=100)
