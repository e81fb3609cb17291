"""Turning the status page's data into HTML: Jinja2 templates, everything escaped.

The templates live in ``omnisdk/statuspage/templates``; autoescaping is on for every one of
them, so a product called ``<script>…`` shows as that text. A page is a set of *sections*
(each a template of its own, rendered into an element with the section's id): the full page
puts them in its layout, the live stream sends one again when its HTML changed. Sections
never depend on the time they are rendered at (times are absolute, ``<time>`` elements the
page's script shows as "… ago"), so an unchanged store gives unchanged sections.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from omnisdk.charts import sales_chart
from omnisdk.models import Money
from omnisdk.sync.sales import SalesReport
from omnisdk.sync.status import CursorState

__all__ = ["OVERVIEW_SECTIONS", "SALES_SECTIONS", "SKU_SECTIONS", "PageRenderer", "Rendered"]

OVERVIEW_SECTIONS = ("summary", "channels", "pushes", "quarantine", "quotas", "orders")
"""The overview's sections, top to bottom."""
SKU_SECTIONS = ("stock",)
SALES_SECTIONS = ("sales",)
"""A SKU page's sections."""


@dataclass(frozen=True)
class Rendered:
    """One page's sections as HTML, by section id, with a digest of each."""

    sections: dict[str, str]
    digests: dict[str, str]


def _when(moment: datetime | None) -> Markup:
    """``<time>`` of an aware UTC moment, shown as UTC (the page's script adds "… ago")."""
    if moment is None:
        return Markup("—")
    at = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return Markup('<time datetime="{}" data-age>{}</time>').format(
        at.isoformat(timespec="seconds"), at.strftime("%Y-%m-%d %H:%M:%S UTC")
    )


def _cursor(cursor: CursorState) -> Markup:
    """Where a polling stream stands: a time (how far behind) or an opaque page token."""
    if cursor.lag_seconds is None:
        return Markup("page token")
    try:
        at = datetime.fromisoformat(cursor.value)
    except ValueError:
        return Markup("page token")
    return _when(at)


def _money(minor: int, currency: str) -> str:
    """An amount given in the smallest unit of ``currency`` (VND has none below the dong)."""
    try:
        return str(Money.from_minor(minor, currency))
    except ValueError:
        return f"{minor} {currency} (minor units)"


def _figure(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _chart(report: SalesReport, currency: str) -> Markup:
    # charts.py escapes every text it draws: its SVG is markup, not text to escape again.
    return Markup(sales_chart(report, currency))  # noqa: S704


class PageRenderer:
    """Renders the status page's sections and pages (thread-safe: it keeps no state)."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("omnisdk.statuspage", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(when=_when, cursor=_cursor, money=_money, figure=_figure)
        self.env.globals.update(sku_path=lambda sku: quote(sku, safe=""), sales_chart=_chart)

    def sections(self, names: tuple[str, ...], context: Mapping[str, Any]) -> Rendered:
        """Each of ``names`` (``sections/NAME.html``) rendered with ``context``."""
        html = {
            name: _nfc(self.env.get_template(f"sections/{name}.html").render(context))
            for name in names
        }
        return Rendered(
            sections=html,
            digests={
                name: hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
                for name, text in html.items()
            },
        )

    def page(self, template: str, context: Mapping[str, Any]) -> str:
        """A whole page: ``template`` with ``context`` (which holds its rendered sections)."""
        return _nfc(self.env.get_template(template).render(context))


def _nfc(text: str) -> str:
    """Text in Unicode NFC: one form for every Vietnamese letter, whatever the source had."""
    return unicodedata.normalize("NFC", text)
