"""Importing: build or extend the master catalog from one account's listings, by SKU.

A listing whose SKUs are new becomes a master product, its prices taken back through the
account's price rule; SKUs already in the master are bound to the account without changing
the master, and a disagreement (price, currency, a SKU listed twice, a binding taken) is
reported. Titles are never used to match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from omnisdk.channel import Capability
from omnisdk.errors import OmnisdkError, StoreError, UsageError
from omnisdk.models import Money, Product, Variant, minor_units
from omnisdk.pricing import PricingRule
from omnisdk.sync.accounts import error_text, note_lost_authorisation, stopped_reason
from omnisdk.sync.catalog.binding import bind_product, bind_variant
from omnisdk.sync.catalog.models import ConflictKind, ImportConflict, ImportStats, ItemFailure
from omnisdk.sync.context import SyncContext

__all__ = ["base_price", "import_catalog", "master_copy"]


def base_price(rule: PricingRule, listed: Money) -> tuple[Money, bool]:
    """The master price a listing at ``listed`` implies under ``rule``.

    Returns the price and whether ``rule`` turns it back into exactly ``listed`` (a rounded
    rule maps many bases onto one price; the nearest base is chosen).
    """
    if rule.is_identity:
        return listed, True
    quantum = Decimal(1).scaleb(-minor_units(listed.currency))
    amount = ((listed.amount - rule.add) / rule.multiplier).quantize(quantum, ROUND_HALF_UP)
    candidate = Money.of(max(amount, Decimal(0)), listed.currency)
    return candidate, rule.apply(candidate) == listed


def master_copy(product: Product) -> Product:
    """A channel's product as a master catalog product: no channel references, no raw
    payload, no platform timestamps."""
    variants = [v.model_copy(update={"channel_ref": None}) for v in product.variants]
    return product.model_copy(
        update={
            "channel_ref": None,
            "raw": None,
            "created_at": None,
            "updated_at": None,
            "variants": variants,
        }
    )


@dataclass
class _Imported:
    """What importing one listing did (filled in the store thread)."""

    product_created: bool = False
    variants_created: int = 0
    variants_matched: int = 0
    bindings_created: int = 0
    conflicts: list[ImportConflict] = field(default_factory=list)


def _import_listing(
    context: SyncContext,
    account: str,
    listing: Product,
    variants: Sequence[Variant],
    rule: PricingRule,
) -> _Imported:
    """Match ``variants`` of one listing to the master catalog by SKU, add the new ones,
    bind them all; one transaction, so a failure leaves nothing half done."""
    store = context.store
    done = _Imported()
    external_id = listing.channel_ref.external_id if listing.channel_ref else None
    with store.session() as session:
        known = {v.sku: store.get_variant(v.sku, session=session) for v in variants}
        new: list[Variant] = []
        owners: list[str] = []
        for variant in variants:
            stored = known[variant.sku]
            if stored is None:
                new.append(_master_variant(variant, rule, done, external_id))
                continue
            done.variants_matched += 1
            owners.append(stored.product_id)
            conflict = _price_conflict(stored.variant, variant, rule, external_id)
            if conflict is not None:
                done.conflicts.append(conflict)
        product_id = owners[0] if owners else None
        if new:
            if product_id is None:
                master = master_copy(listing).model_copy(update={"variants": new})
                product_id = store.upsert_product(master, session=session).product_id
                done.product_created = True
            else:
                # New SKUs of a listing whose other SKUs are known join that master product;
                # its own fields (title, ...) stay as the master has them.
                current = store.get_product(product_id, session=session)
                if current is None:  # pragma: no cover - the variant row pins its product
                    raise StoreError(f"master product {product_id} vanished during import")
                extended = current.product.model_copy(
                    update={"variants": [*current.product.variants, *new]}
                )
                store.upsert_product(extended, product_id=product_id, session=session)
            done.variants_created = len(new)
        for variant in variants:
            if bind_variant(store, account, variant.sku, variant, session):
                done.bindings_created += 1
        if product_id is not None and external_id is not None:
            outcome = bind_product(store, account, product_id, external_id, session)
            if isinstance(outcome, str):
                done.conflicts.append(
                    ImportConflict(
                        kind=ConflictKind.BINDING,
                        sku=variants[0].sku,
                        external_id=external_id,
                        detail=f"{outcome}; the listing's variants are bound, the product is not",
                    )
                )
            elif outcome:
                done.bindings_created += 1
    return done


def _master_variant(
    listed: Variant, rule: PricingRule, done: _Imported, external_id: str | None
) -> Variant:
    """A listed variant new to the master: its price taken back through the account's rule."""
    price, exact = base_price(rule, listed.price)
    if not exact:
        done.conflicts.append(
            ImportConflict(
                kind=ConflictKind.UNREPRODUCIBLE_PRICE,
                sku=listed.sku,
                external_id=external_id,
                master_price=price,
                expected_price=rule.apply(price),
                listed_price=listed.price,
                detail=f"no master price gives {listed.price} under the account's price rule; "
                f"the master price is set to {price}",
            )
        )
    compare_at = listed.compare_at_price
    return listed.model_copy(
        update={
            "price": price,
            "compare_at_price": base_price(rule, compare_at)[0] if compare_at is not None else None,
            "channel_ref": None,
        }
    )


def _price_conflict(
    master: Variant, listed: Variant, rule: PricingRule, external_id: str | None
) -> ImportConflict | None:
    """How a listing's price disagrees with its master variant's (None: it agrees)."""
    expected = rule.apply(master.price)
    if expected.currency != listed.price.currency:
        kind = ConflictKind.CURRENCY
        detail = (
            f"listed in {listed.price.currency}, the master price is in "
            f"{master.price.currency}; prices are not converted"
        )
    elif expected == listed.price:
        return None
    else:
        kind = ConflictKind.PRICE
        detail = (
            f"listed at {listed.price} but the master price {master.price} gives {expected} "
            "on this account; the master wins (plan/apply will send it)"
        )
    return ImportConflict(
        kind=kind,
        sku=listed.sku,
        external_id=external_id,
        master_price=master.price,
        expected_price=expected,
        listed_price=listed.price,
        detail=detail,
    )


async def import_catalog(
    context: SyncContext,
    account: str,
    *,
    progress: Callable[[ImportStats], None] | None = None,
) -> ImportStats:
    """Build or extend the master catalog from ``account``'s listings, binding by SKU.

    ``progress`` is called with the running figures after each listing (for a progress bar).

    A listing whose SKUs are new becomes a master product (its price taken back through the
    account's price rule); SKUs already in the master are bound to the account without
    changing the master, and a price that disagrees is reported (the master wins). Titles are
    never used to match. A listing that cannot be imported is quarantined and reported; the
    others go on. Stock is not imported: record it with ``Engine.set_stock``.
    """
    channel = context.channel(account)
    rule = context.account_config(account).pricing
    channel.require(Capability.READ_PRODUCTS)
    stopped = await stopped_reason(context, account)
    if stopped is not None:
        raise UsageError(stopped)
    await context.run(context.store.ensure_account, account, channel.name)
    stats = ImportStats(account=account)
    claimed: dict[str, str | None] = {}
    try:
        async for listing in channel.stream_products():
            await _import_one(context, account, listing, rule, claimed, stats)
            if progress is not None:
                progress(stats)
    except OmnisdkError as exc:
        await note_lost_authorisation(context, account, exc)
        raise
    context.fire(
        "omnisdk_sync_finished",
        account=account,
        stream="catalog_import",
        stats={
            "seen": stats.products_seen,
            "new": stats.products_created,
            "variants_new": stats.variants_created,
            "matched": stats.variants_matched,
            "conflicts": len(stats.conflicts),
            "failed": len(stats.failures),
        },
    )
    return stats


async def _import_one(
    context: SyncContext,
    account: str,
    listing: Product,
    rule: PricingRule,
    claimed: dict[str, str | None],
    stats: ImportStats,
) -> None:
    external_id = listing.channel_ref.external_id if listing.channel_ref else None
    stats.products_seen += 1
    stats.variants_seen += len(listing.variants)
    fresh: list[Variant] = []
    for variant in listing.variants:
        if variant.sku in claimed:
            stats.conflicts.append(
                ImportConflict(
                    kind=ConflictKind.DUPLICATE_SKU,
                    sku=variant.sku,
                    external_id=external_id,
                    detail=f"also listed by {claimed[variant.sku] or 'another listing'}; only the "
                    "first listing is bound",
                )
            )
        else:
            claimed[variant.sku] = external_id
            fresh.append(variant)
    if not fresh:
        return
    try:
        done = await context.run(_import_listing, context, account, listing, fresh, rule)
    except OmnisdkError as exc:
        reason = f"catalog import failed: {error_text(exc)}"
        stats.failures.append(ItemFailure(key=external_id or fresh[0].sku, error=reason))
        payload = listing.raw if listing.raw is not None else listing.model_dump(mode="json")
        await context.run(
            context.store.quarantine, account, "product", external_id, reason, payload
        )
        return
    stats.products_created += int(done.product_created)
    stats.variants_created += done.variants_created
    stats.variants_matched += done.variants_matched
    stats.bindings_created += done.bindings_created
    stats.conflicts.extend(done.conflicts)
