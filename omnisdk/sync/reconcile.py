"""Reconciliation: each channel's listed stock against what it should list, and oversells.

:func:`reconcile` reads every listing's stock back from each channel account and compares it
with what the pusher would set it to now: the allocation hook's answer, holding back the
units the channel has sold that the engine has not ingested yet. A listing that shows more is
an oversell waiting to happen; one that shows less loses sales. The figures read are recorded
on the listings, and a drifted listing is repaired by the pusher, like any other push: it is
queued and the account's outbox drained at once (:func:`omnisdk.sync.pusher.push_listings`).
The pusher starts from the figure read after its last push, writes in the channel's strongest
mode with its intent recorded first, ingests the account's new orders when a swap is lost and
never overwrites a sale. A listing the pusher mispredicts without drifting yet (the channel
sold units the engine has not seen) is queued too, so the pusher holds them back from then
on and releases them when no order came within ``[engine] unseen_hold``. Fields a channel
owns are never repaired: an account whose price rule does not own ``stock`` is only reported.

It also reports oversells that already happened: SKUs whose orders hold more than is on hand
at a location (``on hand - reserved < 0``), with the orders involved, oldest first, and which
of them were accepted beyond the stock.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.channel import Capability, Channel
from omnisdk.errors import OmnisdkError
from omnisdk.store import BindingKind, OversoldLevel, StoredOrder
from omnisdk.sync.accounts import (
    account_names,
    error_text,
    note_lost_authorisation,
    stopped_reason,
)
from omnisdk.sync.catalog import read_stock
from omnisdk.sync.context import SyncContext
from omnisdk.sync.pusher import PushOutcome, SkuPush, push_listings
from omnisdk.sync.reports import by_account
from omnisdk.sync.sellable import Target, listing_target, record_listed
from omnisdk.sync.stock import MAX_KEY
from omnisdk.sync.transactions import in_transaction

__all__ = [
    "AccountReconcile",
    "DriftKind",
    "Oversell",
    "OversoldOrder",
    "ReconcileReport",
    "StockDrift",
    "find_oversells",
    "reconcile",
]

MAX_LISTED = 50
"""How many SKUs per account the report names in its unknown/unbound/missing lists."""
MAX_ORDERS = 100
"""How many orders an oversell names at most (the oldest first)."""


class DriftKind(enum.StrEnum):
    """How a listing's stock differs from what it should be."""

    OVER = "over"
    """The channel shows more than the account may sell: an oversell waiting to happen."""
    UNDER = "under"
    """The channel shows less than the account may sell: sales lost."""


class StockDrift(BaseModel):
    """One listing whose stock differs from what it should show.

    ``listed`` is what the channel shows, ``expected`` what the account may sell now,
    ``unseen`` the units the channel sold that the engine has not ingested (held back from
    ``expected``). ``repaired`` is True when the listing was set right; ``note`` says why
    not (or how).
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    sku: str
    kind: DriftKind
    listed: int
    expected: int
    unseen: int = 0
    queued: bool = False
    """A push of this listing was waiting in the outbox when it was read."""
    repaired: bool = False
    note: str | None = None


class AccountReconcile(BaseModel):
    """What reconciling one account found.

    ``checked`` listings were compared, ``in_sync`` of them matched; ``untracked`` listings
    have no stock recorded in the engine (they are left alone). ``unbound`` SKUs are listed
    and in the master catalog but not bound to the account (import it to bind them),
    ``unknown`` ones are not in the master catalog, ``missing`` ones are bound but the
    channel no longer shows them. ``error`` is set when the account could not be read.
    """

    model_config = ConfigDict(extra="forbid")

    account: str
    channel: str
    checked: int = 0
    in_sync: int = 0
    untracked: int = 0
    drift: list[StockDrift] = Field(default_factory=list)
    unbound: list[str] = Field(default_factory=list)
    unknown: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    error: str | None = None

    @property
    def repaired(self) -> int:
        """How many drifted listings were set right."""
        return sum(1 for item in self.drift if item.repaired)


class OversoldOrder(BaseModel):
    """An order holding units of an oversold SKU at the location.

    ``beyond_stock`` is True for the orders that, taken oldest first, no longer fit in what
    is on hand: the ones that cannot be fulfilled from there.
    """

    model_config = ConfigDict(extra="forbid")

    account: str | None
    external_id: str | None
    reference: str
    reserved: int
    number: str | None = None
    status: str | None = None
    placed_at: datetime | None = None
    beyond_stock: bool = False


class Oversell(BaseModel):
    """A SKU whose orders hold more than is on hand at a location."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    location: str
    on_hand: int
    reserved: int
    orders: list[OversoldOrder] = Field(default_factory=list)

    @property
    def shortfall(self) -> int:
        """Units promised that are not there."""
        return self.reserved - self.on_hand


class ReconcileReport(BaseModel):
    """What :func:`reconcile` found and repaired, per account, and the oversells."""

    model_config = ConfigDict(extra="forbid")

    started_at: datetime
    accounts: list[AccountReconcile] = Field(default_factory=list)
    oversells: list[Oversell] = Field(default_factory=list)

    @property
    def drift(self) -> list[StockDrift]:
        """Every drifted listing, account by account."""
        return [item for account in self.accounts for item in account.drift]

    @property
    def repaired(self) -> int:
        """How many drifted listings were set right."""
        return sum(account.repaired for account in self.accounts)

    @property
    def in_sync(self) -> bool:
        """True when nothing drifted, nothing is oversold and every account was read."""
        return (
            not self.drift
            and not self.oversells
            and not any(account.error for account in self.accounts)
        )

    def account(self, name: str) -> AccountReconcile:
        """The result of account ``name``; ``KeyError`` when it was not reconciled."""
        return by_account(self.accounts, name)


# -- one account -----------------------------------------------------------------------------


def _known_skus(context: SyncContext, account: str) -> tuple[set[str], set[str]]:
    """(SKUs the engine considers listed on ``account``, SKUs in the master catalog)."""
    store = context.store
    bound = set(store.bindings_of(account, BindingKind.VARIANT))
    listed = {state.sku for state in store.list_listings(account=account)}
    master = {variant.sku for variant in store.iter_variants()}
    return bound | listed, master


def _targets(
    context: SyncContext, account: str, listed: dict[str, int]
) -> tuple[dict[str, Target | None], set[str]]:
    """Record the figures read back (the pusher starts from them); say what each listing
    should show (None: no stock recorded) and which wait in the outbox. One worker thread:
    many small reads."""
    store = context.store
    pending = {item.sku for item in store.pending_pushes(account=account, limit=100_000)}
    in_transaction(store, partial(record_listed, context, account=account, figures=listed))
    targets = {
        sku: listing_target(context, account, sku, quantity)
        for sku, quantity in sorted(listed.items())
    }
    return targets, pending


def _settle(drift: StockDrift, pushed: SkuPush | None) -> None:
    """Say how the pusher left a drifted listing."""
    if pushed is None:
        drift.note = "queued: the pusher sets it when its push is due"
        return
    if pushed.listed is not None:
        drift.listed = pushed.listed  # the channel's figure the write started from
    if pushed.outcome is PushOutcome.PUSHED:
        drift.repaired = True
    elif pushed.outcome is PushOutcome.UNCHANGED:
        drift.repaired = True
        drift.note = "in step when the pusher read it again"
    elif pushed.outcome is PushOutcome.RETRYING:
        drift.note = f"not repaired yet: {pushed.error}; the pusher tries again"
    else:
        drift.note = f"refused: {pushed.error}"


def _compare(
    result: AccountReconcile,
    listed: dict[str, int],
    targets: dict[str, Target | None],
    pending: set[str],
    why_not: str | None,
) -> list[str]:
    """Count each listing in ``result`` and report those that drifted; return the SKUs the
    pusher must look at: the drifted ones, and those whose figure it mispredicts (units sold
    unseen are held back from the moment it learns of them)."""
    queue: list[str] = []
    for sku, quantity in sorted(listed.items()):
        target = targets[sku]
        if target is None:
            result.untracked += 1
            continue
        result.checked += 1
        if quantity != target.predicted or quantity != target.quantity:
            queue.append(sku)
        if quantity == target.quantity:
            result.in_sync += 1
            continue
        result.drift.append(
            StockDrift(
                account=result.account,
                sku=sku,
                listed=quantity,
                expected=target.quantity,
                unseen=target.unseen,
                queued=sku in pending,
                note=why_not,
                kind=DriftKind.OVER if quantity > target.quantity else DriftKind.UNDER,
            )
        )
    return queue


async def _reconcile_account(
    context: SyncContext, account: str, *, repair: bool
) -> AccountReconcile:
    try:
        channel = context.channel(account)
    except OmnisdkError as exc:
        return AccountReconcile(account=account, channel="?", error=error_text(exc))
    result = AccountReconcile(account=account, channel=channel.name)
    result.error = await stopped_reason(context, account)
    if result.error is not None:
        return result
    if Capability.READ_STOCK not in channel.capabilities:
        result.error = "the channel cannot read its listed stock (no read_stock)"
        return result
    try:
        figures = await read_stock(channel, None) or {}
        listed = {sku: stock.quantity for sku, stock in figures.items()}
        known, master = await context.run(_known_skus, context, account)
        result.unbound = sorted(s for s in listed if s not in known and s in master)
        result.unknown = sorted(s for s in listed if s not in known and s not in master)
        result.missing = sorted(s for s in known if s not in listed)
        for name in ("unbound", "unknown", "missing"):
            setattr(result, name, getattr(result, name)[:MAX_LISTED])
        ours = {sku: quantity for sku, quantity in listed.items() if sku in known}
        targets, pending = await context.run(_targets, context, account, ours)
        why_not = _why_not_repaired(context, channel, repair)
        queue = _compare(result, ours, targets, pending, why_not)
        if queue and why_not is None:
            pushed = await push_listings(context, account, queue)
            for drift in result.drift:
                _settle(drift, pushed.get(drift.sku))
    except OmnisdkError as exc:
        await note_lost_authorisation(context, account, exc)
        result.error = error_text(exc)
        return result
    context.fire(
        "omnisdk_sync_finished",
        account=account,
        stream="reconcile",
        stats={
            "checked": result.checked,
            "in_sync": result.in_sync,
            "drift": len(result.drift),
            "repaired": result.repaired,
            "untracked": result.untracked,
        },
    )
    return result


def _why_not_repaired(context: SyncContext, channel: Channel, repair: bool) -> str | None:
    if not repair:
        return "repair not asked for"
    if "stock" not in context.account_config(channel.account).pricing.owns:
        return "the account's stock belongs to the channel (pricing.owns)"
    if Capability.WRITE_STOCK not in channel.capabilities:
        return "the channel cannot write stock (no write_stock)"
    return None


# -- oversells ---------------------------------------------------------------------------------


def _parse_reference(reference: str) -> tuple[str | None, str | None]:
    """(account, external id) of an order's ledger reference ``order:<account>:<id>``."""
    kind, _, rest = reference.partition(":")
    account, _, external_id = rest.partition(":")
    shortened = len(reference) >= MAX_KEY and "~" in reference  # see stock.bounded_key
    if kind != "order" or not account or not external_id or shortened:
        return None, None
    return account, external_id


def find_oversells(context: SyncContext) -> list[Oversell]:
    """Every (SKU, location) whose orders hold more than is on hand, with those orders.

    Synchronous (run it in a worker thread). Orders are listed oldest first; the ones that no
    longer fit in what is on hand are marked ``beyond_stock``.
    """
    store = context.store
    levels = store.oversold_levels(max_holders=MAX_ORDERS)
    refs = {
        reference: _parse_reference(reference) for level in levels for reference, _ in level.holders
    }
    stored = store.get_orders(
        (account, external_id)
        for account, external_id in refs.values()
        if account is not None and external_id is not None
    )
    return [_oversell(level, refs, stored) for level in levels]


def _oversell(
    level: OversoldLevel,
    refs: Mapping[str, tuple[str | None, str | None]],
    stored: Mapping[tuple[str, str], StoredOrder],
) -> Oversell:
    """The oversell of one level: its holders as orders, oldest first, those beyond stock
    marked."""
    orders = []
    for reference, units in level.holders:
        account, external_id = refs[reference]
        found = (
            stored.get((account, external_id))
            if account is not None and external_id is not None
            else None
        )
        orders.append(
            OversoldOrder(
                account=account,
                external_id=external_id,
                reference=reference,
                reserved=units,
                number=found.order.number if found else None,
                status=found.order.status.value if found else None,
                placed_at=found.order.created_at if found else None,
            )
        )
    orders.sort(key=lambda o: (o.placed_at is None, o.placed_at or datetime.max))
    room = max(level.on_hand, 0)
    for order in orders:
        order.beyond_stock = order.reserved > room
        room = max(room - order.reserved, 0)
    return Oversell(
        sku=level.sku,
        location=level.location,
        on_hand=level.on_hand,
        reserved=level.reserved,
        orders=orders,
    )


# -- the whole pass ------------------------------------------------------------------------------


async def reconcile(
    context: SyncContext,
    accounts: Sequence[str] | None = None,
    *,
    repair: bool = True,
) -> ReconcileReport:
    """Compare every listing's stock on ``accounts`` (default: all configured) with what it
    should be; set each one that drifted (``repair``) from the figure just read; report
    oversells.

    An account that cannot be read gets an ``error`` in the report; the others go on.
    """
    report = ReconcileReport(started_at=context.now())
    names = account_names(context, accounts)
    # Accounts are independent (each has its own rate budget): read them side by side.
    results = await asyncio.gather(
        *(_reconcile_account(context, name, repair=repair) for name in names)
    )
    report.accounts.extend(results)
    report.oversells = await context.run(find_oversells, context)
    return report
