"""Bindings between the master catalog and an account's listings, made by SKU."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from omnisdk.models import Variant
from omnisdk.store import Store, Transaction
from omnisdk.store.records import BindingKind
from omnisdk.sync.catalog.view import ChannelListings
from omnisdk.sync.context import SyncContext

__all__ = ["bind_listing", "bind_product", "bind_variant"]

logger = logging.getLogger("omnisdk.sync.catalog")


def bind_variant(
    store: Store, account: str, sku: str, listed: Variant, session: Transaction
) -> bool:
    """Bind master variant ``sku`` to its listing; True when the binding is new.

    The listing's id wins over an older binding (a listing re-created on the channel).
    """
    external_id = listed.channel_ref.external_id if listed.channel_ref is not None else sku
    return store.bind(account, BindingKind.VARIANT, sku, external_id, replace=True, session=session)


def bind_product(
    store: Store, account: str, product_id: str, external_id: str, session: Transaction
) -> bool | str:
    """Bind master product ``product_id`` to channel product ``external_id``.

    Returns whether the binding is new, or a reason when either side is bound elsewhere
    (a channel splitting one master product over two listings, say): nothing is replaced.
    """
    bound = store.external_id_for(account, BindingKind.PRODUCT, product_id, session=session)
    owner = store.canonical_id_for(account, BindingKind.PRODUCT, external_id, session=session)
    if bound not in (None, external_id):
        return f"master product {product_id} is already bound to listing {bound}"
    if owner not in (None, product_id):
        return f"listing {external_id} is already bound to master product {owner}"
    return store.bind(account, BindingKind.PRODUCT, product_id, external_id, session=session)


def bind_listing(
    context: SyncContext,
    account: str,
    product_id: str | None,
    external_id: str | None,
    skus: Sequence[str],
    listings: ChannelListings,
) -> None:
    """Bind the listing just written for master product ``product_id`` (``external_id``, as
    the write answered) and its ``skus``, as ``listings`` (read back) show them.

    A product binding that conflicts is logged, not forced (see :func:`bind_product`).
    """
    store = context.store
    with store.session() as session:
        for sku in skus:
            found = listings.get(sku)
            if found is None:
                continue
            bind_variant(store, account, sku, found.variant, session)
            if found.product.channel_ref is not None:
                external_id = found.product.channel_ref.external_id
        if product_id and external_id:
            outcome = bind_product(store, account, product_id, external_id, session)
            if isinstance(outcome, str):
                logger.warning("%s: %s", account, outcome)
