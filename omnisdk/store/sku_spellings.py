"""Stored SKUs spelled otherwise than their canonical form, found and renamed.

New reads take every SKU through :func:`omnisdk.models.canonical_sku` (zero-width and other
format characters removed, NFC, other spaces plain). Rows stored before that rule keep the
spelling they had: a master SKU ``ÁO-ĐỎ\u200b-M`` looks like ``ÁO-ĐỎ-M`` and is another key.
:func:`find_sku_spellings` lists them, :func:`rename_sku` rewrites one in every table that
holds SKUs, in one transaction (``omnisdk catalog skus``, docs/operations.md).

A rename is refused when the canonical SKU is already stored (:class:`SkuMergeRefused`):
the two are then two master SKUs with stock, listings and history of their own, and which
count is right is the merchant's call, not something to add up blindly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Connection, Table, func, select, update

from omnisdk.errors import UsageError
from omnisdk.models import canonical_sku
from omnisdk.store.records import BindingKind
from omnisdk.store.schema import (
    bindings,
    order_lines,
    outbox,
    products,
    promotion_listings,
    sales_days,
    stock_ledger,
    stock_levels,
    variants,
)
from omnisdk.store.schema import listings as listings_table
from omnisdk.store.store import Store

__all__ = ["SkuMergeRefused", "SkuSpelling", "find_sku_spellings", "rename_all", "rename_sku"]

_TABLES: tuple[Table, ...] = (
    variants,
    stock_levels,
    stock_ledger,
    listings_table,
    outbox,
    order_lines,
    sales_days,
    promotion_listings,
)
"""Every table with a ``sku`` column (``test_every_sku_column_is_renamed`` holds it so)."""


class SkuMergeRefused(UsageError):
    """The canonical SKU is stored already: renaming would merge two master SKUs."""


@dataclass(frozen=True)
class SkuSpelling:
    """A stored SKU and what it should be: ``canonical`` (None: no valid SKU at all, e.g.
    only invisible characters); ``rows`` per table; ``merge`` when ``canonical`` is stored
    too (a rename is refused then)."""

    stored: str
    canonical: str | None
    rows: dict[str, int] = field(default_factory=dict)
    merge: bool = False


def _sku_column(table: Table) -> Column[Any]:
    return table.c.sku


def _variant_bindings(connection: Connection, sku: str) -> Any:
    return connection.execute(
        select(func.count())
        .select_from(bindings)
        .where(bindings.c.kind == BindingKind.VARIANT.value, bindings.c.canonical_id == sku)
    ).scalar_one()


def _stored_skus(connection: Connection) -> set[str]:
    found: set[str] = set()
    for table in _TABLES:
        found.update(connection.execute(select(_sku_column(table)).distinct()).scalars())
    found.update(
        connection.execute(
            select(bindings.c.canonical_id)
            .where(bindings.c.kind == BindingKind.VARIANT.value)
            .distinct()
        ).scalars()
    )
    return found


def _rows(connection: Connection, sku: str) -> dict[str, int]:
    rows = {}
    for table in _TABLES:
        count = connection.execute(
            select(func.count()).select_from(table).where(_sku_column(table) == sku)
        ).scalar_one()
        if count:
            rows[table.name] = int(count)
    bound = int(_variant_bindings(connection, sku))
    if bound:
        rows[bindings.name] = bound
    return rows


def find_sku_spellings(store: Store) -> list[SkuSpelling]:
    """Every stored SKU that is not its own canonical form, by stored spelling."""
    with store.engine.connect() as connection:
        stored = _stored_skus(connection)
        found = []
        for sku in sorted(stored):
            canonical = canonical_sku(sku)
            if canonical == sku:
                continue
            found.append(
                SkuSpelling(
                    stored=sku,
                    canonical=canonical,
                    rows=_rows(connection, sku),
                    merge=canonical is not None and canonical in stored,
                )
            )
        return found


def _renamed_document(document: Any, old: str, new: str) -> Any:
    """``document`` with every ``"sku"`` value ``old`` made ``new`` (at any depth)."""
    if isinstance(document, dict):
        return {
            key: new
            if key == "sku" and value == old
            else _renamed_document(value, old, new)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [_renamed_document(item, old, new) for item in document]
    return document


def rename_sku(store: Store, stored: str, canonical: str | None = None) -> dict[str, int]:
    """Rename ``stored`` to ``canonical`` (default: its canonical form) in every table that
    holds SKUs, in one transaction; returns the rows changed per table.

    Ledger idempotency keys that name the SKU are rewritten too: an order read again later
    maps to the canonical SKU, and its movements must find the keys they were stored
    under, or they would be applied a second time. Product and variant documents keep the
    new spelling. Raises :class:`SkuMergeRefused` when ``canonical`` is stored already, and
    :class:`~omnisdk.errors.UsageError` when ``stored`` cannot be made a valid SKU.
    """
    target = canonical if canonical is not None else canonical_sku(stored)
    if target is None:
        raise UsageError(f"{stored!r} has no valid canonical SKU; rename it by hand")
    if target == stored:
        return {}
    changed: dict[str, int] = {}
    with store.engine.begin() as connection:
        if _rows(connection, target):
            raise SkuMergeRefused(
                f"{target!r} is stored already: renaming {stored!r} would merge two master "
                f"SKUs, which is the merchant's call (no command merges them yet)"
            )
        for row in connection.execute(
            select(variants.c.sku, variants.c.document, variants.c.product_id).where(
                variants.c.sku == stored
            )
        ).all():
            product = connection.execute(
                select(products.c.document).where(products.c.id == row.product_id)
            ).scalar_one_or_none()
            if product is not None:
                connection.execute(
                    update(products)
                    .where(products.c.id == row.product_id)
                    .values(document=_renamed_document(product, stored, target))
                )
                changed[products.name] = changed.get(products.name, 0) + 1
            connection.execute(
                update(variants)
                .where(variants.c.sku == stored)
                .values(document=_renamed_document(row.document, stored, target))
            )
        connection.execute(
            update(stock_ledger)
            .where(stock_ledger.c.sku == stored)
            .values(idempotency_key=func.replace(stock_ledger.c.idempotency_key, stored, target))
        )
        for table in _TABLES:
            done = connection.execute(
                update(table).where(_sku_column(table) == stored).values(sku=target)
            )
            if done.rowcount:
                changed[table.name] = int(done.rowcount)
        done = connection.execute(
            update(bindings)
            .where(bindings.c.kind == BindingKind.VARIANT.value, bindings.c.canonical_id == stored)
            .values(canonical_id=target)
        )
        if done.rowcount:
            changed[bindings.name] = int(done.rowcount)
    return changed


def rename_all(store: Store, spellings: Iterable[SkuSpelling]) -> dict[str, str]:
    """:func:`rename_sku` each of ``spellings`` that can be renamed; returns, per stored
    spelling, what happened (``renamed``, or why not)."""
    outcome = {}
    for spelling in spellings:
        if spelling.canonical is None:
            outcome[spelling.stored] = "no valid canonical SKU: rename it by hand"
        elif spelling.merge:
            outcome[spelling.stored] = f"{spelling.canonical!r} is stored already (a merge)"
        else:
            try:
                rename_sku(store, spelling.stored, spelling.canonical)
            except SkuMergeRefused as exc:
                outcome[spelling.stored] = str(exc)
            else:
                outcome[spelling.stored] = "renamed"
    return outcome
