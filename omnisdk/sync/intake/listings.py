"""Listings an account shows (the products stream): each listed variant whose SKU the master
catalog knows is bound to the account and queued for a stock push. Unknown SKUs are
reported, never added to the master (that is ``omnisdk catalog import``'s job). The first pass
reads everything, as binding moves no stock."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from omnisdk.channel import Capability
from omnisdk.errors import ReauthorisationRequired
from omnisdk.models import Product
from omnisdk.sync.accounts import is_stopped, lose_authorisation
from omnisdk.sync.catalog.binding import bind_product, bind_variant
from omnisdk.sync.context import SyncContext
from omnisdk.sync.intake.polling import (
    PRODUCTS_STREAM,
    RECORD_ERRORS,
    SyncStats,
    check_account,
    finish_pass,
    quarantine_record,
    start_pass,
)

__all__ = ["poll_products"]

logger = logging.getLogger("omnisdk.sync.intake")


@dataclass
class _Bound:
    """What binding one listing did (filled in the store thread)."""

    new: int = 0
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)


def _bind_listed(
    context: SyncContext, account: str, listing: Product, claimed: dict[str, str | None]
) -> _Bound:
    """Bind the variants of ``listing`` whose SKU the master knows; one transaction.

    A new binding is queued for a stock push (when the account takes stock). The master
    catalog is only read. A SKU another listing of this pass claimed is left to that one.
    """
    store = context.store
    pushing = account in context.stock_accounts()
    external_id = listing.channel_ref.external_id if listing.channel_ref is not None else None
    bound = _Bound()
    with store.session() as session:
        product_id: str | None = None
        for variant in listing.variants:
            if variant.sku in claimed and claimed[variant.sku] != external_id:
                logger.warning(
                    "%s: SKU %s is listed by %s and %s; only the first is bound",
                    account,
                    variant.sku,
                    claimed[variant.sku],
                    external_id,
                )
                continue
            claimed[variant.sku] = external_id
            master = store.get_variant(variant.sku, session=session)
            if master is None:
                bound.unknown.append(variant.sku)
                continue
            product_id = product_id or master.product_id
            if bind_variant(store, account, variant.sku, variant, session):
                bound.new += 1
                if pushing:
                    store.mark_dirty(session, account, variant.sku)
            else:
                bound.unchanged += 1
        if product_id is not None and external_id is not None:
            outcome = bind_product(store, account, product_id, external_id, session)
            if isinstance(outcome, str):
                logger.warning("%s: %s", account, outcome)
    return bound


async def poll_products(context: SyncContext, account: str) -> SyncStats:
    """See :meth:`Engine.poll_products`."""
    if await is_stopped(context, account):
        return SyncStats(account=account, stream=PRODUCTS_STREAM, stopped=True)
    channel = context.channel(account)
    channel.require(Capability.READ_PRODUCTS)
    await context.run(context.store.ensure_account, account, channel.name)
    done, since = await start_pass(context, account, PRODUCTS_STREAM)
    claimed: dict[str, str | None] = {}
    try:
        async for listing in channel.stream_products(updated_since=since):
            done.seen += 1
            ref = listing.channel_ref
            external_id = ref.external_id if ref is not None else None
            try:
                check_account(listing, account, "product", f"{channel.name}/{account}")
                bound = await context.run(_bind_listed, context, account, listing, claimed)
            except RECORD_ERRORS as exc:
                done.quarantined += 1
                await quarantine_record(context, account, "product", external_id, listing, exc)
            else:
                done.new += bound.new
                done.unchanged += bound.unchanged
                done.unknown_skus.extend(bound.unknown)
            done.saw(listing.updated_at)
    except ReauthorisationRequired as exc:
        await lose_authorisation(context, account, exc)
        return await finish_pass(context, done, stopped=True)
    if done.unknown_skus:
        logger.info(
            "%s: %d listed SKUs are not in the master catalog (run `omnisdk catalog import` "
            "to add them): %s",
            account,
            len(done.unknown_skus),
            ", ".join(done.unknown_skus[:10]),
        )
    return await finish_pass(context, done)
