"""Planning: read every account, compare it with the master catalog, say what would change."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from omnisdk.errors import OmnisdkError
from omnisdk.models import Product
from omnisdk.sync.accounts import (
    account_names,
    error_text,
    note_lost_authorisation,
    stopped_reason,
)
from omnisdk.sync.catalog.diff import diff_account
from omnisdk.sync.catalog.models import AccountPlan, Plan
from omnisdk.sync.catalog.view import AccountView, read_listings, read_stock
from omnisdk.sync.context import SyncContext
from omnisdk.sync.promotions import held_prices
from omnisdk.sync.sellable import listing_target

__all__ = ["plan", "stock_targets"]


async def plan(context: SyncContext, accounts: Sequence[str] | None = None) -> Plan:
    """What a catalog sync would send to ``accounts`` (default: every configured account).

    Nothing is written anywhere. An account that cannot be read gets an ``error`` in its
    part of the plan; the others are planned regardless.
    """
    master = await context.run(_load_master, context)
    result = Plan(created_at=context.now())
    names = account_names(context, accounts)
    # Accounts are independent (each has its own rate budget): read them side by side.
    parts = await asyncio.gather(*(_plan_account(context, name, master) for name in names))
    result.accounts.extend(parts)
    return result


def _load_master(context: SyncContext) -> dict[str, Product]:
    return {stored.id: stored.product for stored in context.store.iter_products()}


def _targets(
    context: SyncContext, account: str, listed: Mapping[str, int | None]
) -> dict[str, int]:
    targets = {}
    for sku, quantity in listed.items():
        found = listing_target(context, account, sku, quantity)
        if found is not None:
            targets[sku] = found.quantity
    return targets


async def stock_targets(
    context: SyncContext, account: str, listed: Mapping[str, int | None]
) -> dict[str, int]:
    """What ``account`` should list of each SKU of ``listed`` (SKU -> what the channel shows,
    None when unknown): what the pusher would push now. A SKU with no stock recorded is left
    out, so it is never pushed as zero by mistake."""
    return await context.run(_targets, context, account, dict(listed))


async def _plan_account(
    context: SyncContext, account: str, master: Mapping[str, Product]
) -> AccountPlan:
    try:
        channel = context.channel(account)
        rule = context.account_config(account).pricing
    except OmnisdkError as exc:
        return AccountPlan(account=account, channel="?", error=error_text(exc))
    stopped = await stopped_reason(context, account)
    if stopped is not None:
        return AccountPlan(account=account, channel=channel.name, error=stopped)
    master_skus = [variant.sku for product in master.values() for variant in product.variants]
    try:
        listings = await read_listings(channel)
        if listings is None:
            stock = await read_stock(channel, None)
            relevant = [sku for sku in master_skus if stock is not None and sku in stock]
        else:
            stock = await read_stock(channel, [sku for sku in master_skus if sku in listings])
            relevant = master_skus
        shown = {sku: (stock[sku].quantity if stock and sku in stock else None) for sku in relevant}
        targets = await stock_targets(context, account, shown) if "stock" in rule.owns else {}
    except OmnisdkError as exc:
        await note_lost_authorisation(context, account, exc)
        return AccountPlan(account=account, channel=channel.name, error=error_text(exc))
    view = AccountView(listings, stock)
    held = await context.run(held_prices, context, account)
    return diff_account(account, channel, rule, master, view, targets, held)
