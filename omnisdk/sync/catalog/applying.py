"""Applying a plan: each account's changes, checked against what it shows now, then sent.

Listings go first (``write_products``), then prices (``write_prices``), then stock, which the
pusher sets (:func:`omnisdk.sync.pusher.push_listings`) from the figures just read. A change
already in place is not sent, a listing is rebuilt on what the channel shows now (a field the
channel owns is sent back unchanged), and a stock figure that moved since the plan is never
overwritten. New listings are bound to their master product and variants.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omnisdk.channel import Channel, WriteResult
from omnisdk.errors import OmnisdkError
from omnisdk.sync.accounts import error_text, note_lost_authorisation, stopped_reason
from omnisdk.sync.catalog.binding import bind_listing
from omnisdk.sync.catalog.changes import (
    CONTENT_FIELDS,
    content_value,
    price_update,
    updated_listing,
)
from omnisdk.sync.catalog.models import (
    AccountApplyStats,
    AccountPlan,
    ApplyFailure,
    ApplyStats,
    ChangeKind,
    Plan,
    PlannedChange,
    SkippedItem,
)
from omnisdk.sync.catalog.planning import plan as make_plan
from omnisdk.sync.catalog.view import ChannelListings, ListedStock, read_listings, read_stock
from omnisdk.sync.context import SyncContext
from omnisdk.sync.pusher import PushOutcome, push_listings
from omnisdk.sync.sellable import counted

__all__ = ["apply"]


@dataclass
class _Batch:
    """Changes of one kind to send together, each with the payload decided at apply time."""

    kind: ChangeKind
    changes: list[PlannedChange] = field(default_factory=list)
    payloads: list[Any] = field(default_factory=list)

    def add(self, change: PlannedChange, payload: Any) -> None:
        self.changes.append(change)
        self.payloads.append(payload)


@dataclass
class _AccountApply:
    """Sends one account's part of a plan (see :func:`apply`)."""

    context: SyncContext
    channel: Channel
    part: AccountPlan
    stats: AccountApplyStats

    def unchanged(self) -> None:
        self.stats.unchanged += 1

    def stale(self, sku: str, reason: str) -> None:
        self.stats.stale += 1
        self.stats.notes.append(SkippedItem(sku=sku, reason=reason))

    async def run(self) -> None:
        changes = self.part.changes
        needs_listings = any(c.kind is not ChangeKind.STOCK for c in changes)
        listings = await read_listings(self.channel) if needs_listings else None
        stock_skus = [c.sku for c in changes if c.kind is ChangeKind.STOCK]
        stock = await read_stock(self.channel, stock_skus)

        products = _Batch(ChangeKind.CREATE)
        prices = _Batch(ChangeKind.PRICE)
        stocks = _Batch(ChangeKind.STOCK)
        for change in changes:
            if change.kind in (ChangeKind.CREATE, ChangeKind.UPDATE):
                self.decide_product(change, listings, products)
            elif change.kind is ChangeKind.PRICE:
                self.decide_price(change, listings, prices)
            else:
                self.decide_stock(change, stock, stocks)

        written = await self.send(products, self.channel.write_products)
        await self.bind_new_listings(products, written)
        await self.send(prices, self.channel.write_prices)
        await self.send_stock(stocks)

    def decide_product(
        self, change: PlannedChange, listings: ChannelListings | None, batch: _Batch
    ) -> None:
        planned = change.product
        if planned is None:
            self.stale(change.sku, "the planned change carries no listing")
            return
        if change.kind is ChangeKind.CREATE:
            if listings is not None and any(sku in listings for sku in planned.skus):
                self.unchanged()
            else:
                batch.add(change, planned)
            return
        found = listings.get(change.sku) if listings is not None else None
        if found is None:
            self.stale(
                change.sku,
                "the listing to update is no longer on the channel (or is listed twice): re-plan",
            )
            return
        holder = found.product
        fields = [
            f
            for f in change.fields
            if f.field in CONTENT_FIELDS and content_value(holder, f.field) != f.after
        ]
        variants = change.field_change("variants")
        new_skus: set[str] = set()
        if variants is not None and isinstance(variants.after, list):
            before = variants.before if isinstance(variants.before, list) else []
            new_skus = set(variants.after) - set(before)
        added = [v for v in planned.variants if v.sku in new_skus and v.sku not in holder.skus]
        if not fields and not added:
            self.unchanged()
            return
        # Rebuilt on the listing as it is now: what the channel owns stays as it is now.
        batch.add(change, updated_listing(holder, fields, added))

    def decide_price(
        self, change: PlannedChange, listings: ChannelListings | None, batch: _Batch
    ) -> None:
        found = listings.get(change.sku) if listings is not None else None
        if found is None:
            self.stale(
                change.sku, "the listing is no longer on the channel (or is listed twice): re-plan"
            )
            return
        listed = found.variant
        now = {"price": listed.price, "compare_at_price": listed.compare_at_price}
        fields = [f for f in change.fields if f.field in now and now[f.field] != f.after]
        if not fields:
            self.unchanged()
            return
        batch.add(change, price_update(change.sku, fields, listed))

    def decide_stock(
        self, change: PlannedChange, stock: Mapping[str, ListedStock] | None, batch: _Batch
    ) -> None:
        planned = change.stock
        if planned is None:
            self.stale(change.sku, "the planned change carries no stock figure")
            return
        current = stock.get(change.sku) if stock is not None else None
        before = change.field_change("stock")
        was = before.before if before is not None else None
        if current is not None and current.quantity == planned.quantity:
            self.unchanged()
            return
        if isinstance(was, int) and (current is None or current.quantity != was):
            now = current.quantity if current is not None else "nothing"
            self.stale(
                change.sku,
                f"listed stock moved from {was} to {now} since the plan "
                "(a sale the core has not seen?): re-plan, never overwrite",
            )
            return
        batch.add(change, current.quantity if current is not None else None)

    async def send(self, batch: _Batch, write: Any) -> list[tuple[PlannedChange, WriteResult]]:
        if not batch.changes:
            return []
        try:
            results: list[WriteResult] = await write(batch.payloads)
        except OmnisdkError as exc:
            await note_lost_authorisation(self.context, self.part.account, exc)
            results = [WriteResult.failure(c.sku, exc) for c in batch.changes]
        done = list(zip(batch.changes, results, strict=True))
        for change, result in done:
            failure = (
                None
                if result.ok
                else _failure(
                    self.part.account, change.kind, result.model_copy(update={"key": change.sku})
                )
            )
            self.count(change, failure)
            if failure is not None:
                self.context.fire(
                    "omnisdk_push_failed",
                    account=self.part.account,
                    key=change.sku,
                    error=failure.error,
                    retryable=failure.retryable,
                )
        return done

    def count(self, change: PlannedChange, failure: ApplyFailure | None) -> None:
        self.stats.sent += 1
        self.stats.sent_by_kind[change.kind] = self.stats.sent_by_kind.get(change.kind, 0) + 1
        if failure is None:
            self.stats.succeeded += 1
        else:
            self.stats.failed += 1
            self.stats.failures.append(failure)

    async def send_stock(self, batch: _Batch) -> None:
        """Have the pusher set the listings, starting from the figures just read: in the
        channel's strongest mode with its intent recorded first, a sale made meanwhile
        ingested rather than overwritten, the result kept as its baseline. The figure is what
        the account may sell now (the plan's, unless stock moved since)."""
        if not batch.changes:
            return
        account = self.part.account
        listed = {c.sku: p for c, p in zip(batch.changes, batch.payloads, strict=True)}
        tracked = await self.context.run(_record_listed, self.context, account, listed)
        pushed = await push_listings(
            self.context, account, [c.sku for c in batch.changes if c.sku in tracked]
        )
        for change in batch.changes:
            result = pushed.get(change.sku)
            if change.sku not in tracked:
                self.stale(change.sku, "no stock is recorded for the SKU any more")
            elif result is None:
                self.stats.notes.append(
                    SkippedItem(
                        sku=change.sku, reason="queued: the pusher sets it when its push is due"
                    )
                )
            elif result.outcome is PushOutcome.PUSHED:
                self.count(change, None)
            elif result.outcome is PushOutcome.UNCHANGED:
                self.unchanged()
            else:
                retrying = result.outcome is PushOutcome.RETRYING
                self.count(
                    change,
                    ApplyFailure(
                        account=account,
                        kind=ChangeKind.STOCK,
                        sku=change.sku,
                        error=result.error or result.outcome.value,
                        code=result.code,
                        retryable=retrying,
                        actual=result.listed if retrying else None,
                    ),
                )

    async def bind_new_listings(
        self, batch: _Batch, written: list[tuple[PlannedChange, WriteResult]]
    ) -> None:
        """Bind the listings just created or extended to their master product and variants."""
        done = [(c, r) for c, r in written if r.ok]
        if not done:
            return
        try:
            listings = await read_listings(self.channel)
        except OmnisdkError as exc:
            self.stats.notes.append(
                SkippedItem(
                    sku="*",
                    reason=f"new listings were written but could not be read back to bind "
                    f"them ({error_text(exc)}); import the account to bind them",
                )
            )
            return
        if listings is None:
            return
        account = self.part.account
        for change, result in done:
            skus = change.product.skus if change.product is not None else []
            await self.context.run(
                bind_listing,
                self.context,
                account,
                change.product_id,
                result.external_id,
                skus,
                listings,
            )


async def apply(context: SyncContext, plan: Plan | None = None) -> ApplyStats:
    """Send ``plan`` (a fresh plan of every account when None).

    Each account's current state is read first and a change already in place is not sent
    (so a second apply of the same plan sends nothing); a listing is rebuilt on what the
    channel shows now, so a field the channel owns is never overwritten; a stock figure that
    moved since the plan is not overwritten (re-plan). Listings go first, then prices, then
    stock; one refused item never stops the others, and new listings are bound to their
    master product and variants.
    """
    if plan is None:
        plan = await make_plan(context, None)
    stats = ApplyStats(accounts=[AccountApplyStats(account=part.account) for part in plan.accounts])
    pairs = zip(plan.accounts, stats.accounts, strict=True)
    await asyncio.gather(*(_apply_account(context, part, done) for part, done in pairs))
    return stats


async def _apply_account(context: SyncContext, part: AccountPlan, stats: AccountApplyStats) -> None:
    if not part.changes:
        return
    try:
        channel = context.channel(part.account)
        stopped = await stopped_reason(context, part.account)
        if stopped is not None:
            stats.error = stopped
            return
        await _AccountApply(context, channel, part, stats).run()
    except OmnisdkError as exc:
        await note_lost_authorisation(context, part.account, exc)
        stats.error = error_text(exc)
    context.fire(
        "omnisdk_sync_finished",
        account=part.account,
        stream="catalog",
        stats={
            "sent": stats.sent,
            "succeeded": stats.succeeded,
            "failed": stats.failed,
            "unchanged": stats.unchanged,
            "stale": stats.stale,
        },
    )


def _failure(account: str, kind: ChangeKind, result: WriteResult) -> ApplyFailure:
    return ApplyFailure(
        account=account,
        kind=kind,
        sku=result.key,
        error=result.error or "refused",
        code=result.code,
        retryable=result.retryable,
        actual=result.actual,
    )


def _record_listed(
    context: SyncContext, account: str, listed: Mapping[str, int | None]
) -> set[str]:
    """Record the figures just read (the pusher starts from them); return the SKUs that have
    been counted (the others are never pushed: a listing is not zeroed for want of a count).
    """
    store = context.store
    with store.session() as session:
        for sku, quantity in listed.items():
            if quantity is not None:
                store.record_listed(account, sku, quantity, session=session)
    return counted(context, list(listed))
