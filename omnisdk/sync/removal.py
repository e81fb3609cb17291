"""Retiring a channel account (``omnisdk channels remove``) without losing a unit or a record.

In this order, so no buyer can order what the engine no longer manages:

1. every listing of a SKU the engine manages on the account is written 0 (with the figure
   read just before as the compare-and-swap expectation and the delta, so each channel's
   strongest write applies; a lost compare-and-swap is retried from the figure the
   platform reports);
2. the account's webhook subscriptions are removed (channels that take webhooks);
3. the account is archived: its bindings stop counting as listings, so the quotas it held
   go back to the other accounts, which are queued a push of those SKUs.

Its orders, customers, ledger and bindings stay in the store (the history). If a listing
could not be zeroed the account is not archived (it would keep selling stock nobody
manages): the report says what failed and running again finishes the job. ``dry_run``
reads what would be done and changes nothing.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.channel import Capability, Channel
from omnisdk.errors import NotFound, OmnisdkError, UnsupportedOperation
from omnisdk.models import StockUpdate
from omnisdk.store import AccountStatus
from omnisdk.sync.catalog.view import listed_levels
from omnisdk.sync.context import SyncContext
from omnisdk.sync.stock import mark_dirty

__all__ = ["ListingToZero", "RemovalReport", "remove_account"]

_CAS_ATTEMPTS = 3


class ListingToZero(BaseModel):
    """One listing of the account: what it listed, and whether it is 0 now."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    location: str | None = None
    listed: int
    zeroed: bool = False
    error: str | None = None


class RemovalReport(BaseModel):
    """What removing ``account`` did (or, with ``dry_run``, would do)."""

    model_config = ConfigDict(extra="forbid")

    account: str
    dry_run: bool
    listings: list[ListingToZero] = Field(default_factory=list)
    webhook_url: str | None = None
    """The callback URL whose subscriptions are removed (None: the channel takes none)."""
    webhooks_removed: bool = False
    archived: bool = False
    others_queued: int = 0
    """Pushes queued to the other accounts listing the freed SKUs."""
    errors: list[str] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when the account is retired (every listing 0, archived)."""
        return self.archived and not self.errors


def _webhook_url(context: SyncContext, account: str) -> str:
    engine = context.config.engine
    base = engine.webhook_public_url or f"http://{engine.webhook_host}:{engine.webhook_port}"
    return f"{base}/webhooks/{account}"


async def _zero(channel: Channel, listing: ListingToZero) -> None:
    listed = listing.listed
    for _ in range(_CAS_ATTEMPTS):
        update = StockUpdate(
            sku=listing.sku, quantity=0, location=listing.location, expected=listed, delta=-listed
        )
        [result] = await channel.write_stock([update])
        if result.ok:
            listing.zeroed, listing.error = True, None
            return
        listing.error = result.error or "refused"
        if result.actual is None:
            return
        listed = result.actual  # sold meanwhile: take it from what the platform holds now
        if listed == 0:
            listing.zeroed, listing.error = True, None
            return


async def remove_account(
    context: SyncContext, account: str, *, dry_run: bool = False
) -> RemovalReport:
    """Retire ``account`` (see the module doc); nothing changes with ``dry_run``."""
    context.account_config(account)  # a clear error naming the accounts when unknown
    channel = context.channel(account)
    report = RemovalReport(account=account, dry_run=dry_run)
    store = context.store
    found: dict[tuple[str, str | None], int] = defaultdict(int)
    try:
        async for level in listed_levels(channel, None):
            found[(level.sku, level.location)] += level.on_hand
    except OmnisdkError as exc:
        report.errors.append(f"cannot read what {account} lists: {exc}")
        return report
    managed = await context.run(store.listing_accounts_many, {sku for sku, _ in found})
    report.listings = [
        ListingToZero(sku=sku, location=location, listed=listed)
        for (sku, location), listed in sorted(found.items(), key=lambda item: str(item[0]))
        if account in managed.get(sku, [])
    ]
    if Capability.WEBHOOKS in channel.capabilities:
        report.webhook_url = _webhook_url(context, account)
    if dry_run:
        return report

    for listing in report.listings:
        if listing.listed == 0:
            listing.zeroed = True
            continue
        try:
            await _zero(channel, listing)
        except OmnisdkError as exc:
            listing.error = str(exc)
    failed = [listing for listing in report.listings if not listing.zeroed]
    report.errors += [f"{item.sku}: still listed: {item.error}" for item in failed]
    if report.webhook_url is not None:
        try:
            await channel.unregister_webhooks(report.webhook_url)
            report.webhooks_removed = True
        except NotFound:  # never subscribed (the engine never ran with webhooks): none to remove
            report.webhooks_removed = True
        except UnsupportedOperation:
            report.webhook_url = None
        except OmnisdkError as exc:
            report.errors.append(f"webhooks not removed: {exc}")
    if failed:
        return report
    await context.run(store.set_account_status, account, AccountStatus.ARCHIVED)
    report.archived = True
    skus = sorted({listing.sku for listing in report.listings})
    if skus:
        report.others_queued = await mark_dirty(context, skus, None)
    return report
