"""Reconciliation: each channel's listed stock against what it should list, and oversells.

:func:`reconcile` reads every listing's stock back from each channel account and compares it
with what the engine says the account may sell: the allocation hook's answer, holding back the
units the channel has sold that the engine has not ingested yet (what it believes the channel
shows, less what the channel shows now). A listing that shows more is an oversell waiting to
happen; one that shows less loses sales. Either is repaired at once from the figure just
read, in the channel's strongest push mode (a compare-and-swap from that figure, so a sale
made meanwhile is never overwritten: the channel refuses, the account's new orders are
ingested and the listing is set again). The repair is recorded in the listing state the
pusher works from. The pusher alone could not do it: it pushes only when the figure it
predicts differs from the target, and a listing changed on the channel's side does not
change that prediction. Fields a channel owns are never repaired: an account whose price
rule does not own ``stock`` is only reported.

It also reports oversells that already happened: SKUs whose orders hold more than is on hand
at a location (``on hand - reserved < 0``), with the orders involved, oldest first, and which
of them were accepted beyond the stock.
"""

from __future__ import annotations

import asyncio
import enum
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection, func, select

from omnisdk.channel import Capability, Channel, WriteResult
from omnisdk.errors import OmnisdkError, ReauthorisationRequired
from omnisdk.models import StockPushMode
from omnisdk.store.records import BindingKind
from omnisdk.store.schema import stock_ledger, stock_levels
from omnisdk.sync.catalog import ListedStock, stock_update
from omnisdk.sync.status import read_only

if TYPE_CHECKING:
    from omnisdk.sync.engine import Engine

__all__ = [
    "AccountReconcile",
    "DriftKind",
    "Expectation",
    "Oversell",
    "OversoldOrder",
    "ReconcileReport",
    "SetResult",
    "StockDrift",
    "StockSetting",
    "expected_stock",
    "find_oversells",
    "reconcile",
    "set_listed_stock",
]

logger = logging.getLogger("omnisdk.sync.reconcile")

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
    and in the master catalogue but not bound to the account (import it to bind them),
    ``unknown`` ones are not in the master catalogue, ``missing`` ones are bound but the
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
        for account in self.accounts:
            if account.account == name:
                return account
        raise KeyError(name)

    def table(self) -> Table:
        """One row per account, then one per drifted listing."""
        table = Table(title="Reconciliation", expand=False)
        for column in ("Account", "Checked", "In sync", "Drift", "Repaired", "Untracked", "Note"):
            table.add_column(column, overflow="fold")
        for account in self.accounts:
            notes = []
            if account.error:
                notes.append(account.error)
            if account.unbound:
                notes.append(f"{len(account.unbound)} listed SKUs not bound (import the account)")
            if account.missing:
                notes.append(f"{len(account.missing)} bound SKUs not listed")
            if account.unknown:
                notes.append(f"{len(account.unknown)} SKUs not in the master catalogue")
            table.add_row(
                account.account,
                str(account.checked),
                str(account.in_sync),
                Text(str(len(account.drift)), style="red" if account.drift else ""),
                str(account.repaired),
                str(account.untracked),
                Text("; ".join(notes)),
            )
        return table

    def drift_table(self) -> Table | None:
        """The drifted listings (None when there are none)."""
        if not self.drift:
            return None
        table = Table(title="Drift", expand=False)
        for column in ("Account", "SKU", "Listed", "Should be", "Unseen", "Repair"):
            table.add_column(column, overflow="fold")
        for item in self.drift:
            repair = ("set" if item.repaired else "not repaired") + (
                f": {item.note}" if item.note else ""
            )
            table.add_row(
                item.account,
                Text(item.sku),
                str(item.listed),
                str(item.expected),
                str(item.unseen),
                Text(repair),
            )
        return table

    def oversell_table(self) -> Table | None:
        """The oversold SKUs and their orders (None when nothing is oversold)."""
        if not self.oversells:
            return None
        table = Table(title="Oversold", expand=False)
        for column in ("SKU", "Location", "On hand", "Reserved", "Short", "Orders beyond stock"):
            table.add_column(column, overflow="fold")
        for oversell in self.oversells:
            beyond = [
                f"{o.account}:{o.number or o.external_id}" if o.account else o.reference
                for o in oversell.orders
                if o.beyond_stock
            ]
            table.add_row(
                Text(oversell.sku),
                oversell.location,
                str(oversell.on_hand),
                str(oversell.reserved),
                Text(str(oversell.shortfall), style="red"),
                Text(", ".join(beyond)),
            )
        return table

    def __rich__(self) -> RenderableType:
        """The report's tables, for ``rich.print``."""
        parts: list[RenderableType] = [self.table()]
        for extra in (self.drift_table(), self.oversell_table()):
            if extra is not None:
                parts.append(extra)
        return Group(*parts)

    def render(self, width: int = 120) -> str:
        """The report as plain text, ``width`` characters wide."""
        buffer = io.StringIO()
        Console(file=buffer, width=width, color_system=None, highlight=False).print(self)
        return buffer.getvalue()


# -- one account -----------------------------------------------------------------------------


def _known_skus(engine: Engine, account: str) -> tuple[set[str], set[str]]:
    """(SKUs the engine considers listed on ``account``, SKUs in the master catalogue)."""
    store = engine.store
    bound = set(store.bindings_of(account, BindingKind.VARIANT))
    listed = {state.sku for state in store.list_listings(account=account)}
    master = {variant.sku for variant in store.iter_variants()}
    return bound | listed, master


@dataclass(frozen=True)
class Expectation:
    """What one listing should show, as the pusher would decide it now.

    ``quantity`` is the figure, ``unseen`` the units held back as sold by the channel but not
    ingested yet, ``seen_accounted`` the account's own ingested units since the last push that
    the figure already takes into account (the pusher's bookkeeping, see ``record_push``).
    """

    quantity: int
    unseen: int
    seen_accounted: int


def expected_stock(
    engine: Engine, account: str, sku: str, listed: int | None
) -> Expectation | None:
    """What ``account`` should list of ``sku`` now, or None when no stock is recorded for it.

    It is what the pusher would push: the allocation, holding back the channel's unseen sales
    (pending ones from the last push, and, within ``[engine] unseen_hold`` of that push, what
    the channel shows (``listed``) less than the engine predicted). Synchronous: run it in a
    worker thread.
    """
    from omnisdk.sync import pusher

    store = engine.store
    if not store.stock_levels(sku):
        return None
    state = store.get_listing(account, sku)
    now = engine.now()
    predicted = pusher.predicted_listed(state)
    extra = 0
    if (
        predicted is not None
        and listed is not None
        and state is not None
        and state.pushed_at is not None
        and now - state.pushed_at <= engine.config.engine.unseen_hold
    ):
        # Shortly after a push, a channel showing less has sold units whose orders are on
        # their way; later the gap is drift (the orders had time to arrive). Repairing it is
        # safe even then: the write starts from the figure read, a sale made meanwhile makes
        # the channel refuse it, and the account's new orders are ingested first.
        extra = max(predicted - listed, 0)
    unseen = pusher.pending_unseen(engine, state, now) + extra
    return Expectation(
        quantity=pusher.allocate(engine, account, sku, unseen),
        unseen=unseen,
        seen_accounted=state.seen_since_push if state is not None else 0,
    )


def _expectations(
    engine: Engine, account: str, listed: dict[str, int]
) -> tuple[dict[str, Expectation | None], set[str]]:
    """Record the figures read back; say what each listing should show; which wait in the
    outbox (one worker thread: many small reads)."""
    store = engine.store
    pending = {item.sku for item in store.pending_pushes(account=account, limit=100_000)}
    with store.session() as session:
        for sku, quantity in sorted(listed.items()):
            store.record_listed(account, sku, quantity, session=session)
    expected = {
        sku: expected_stock(engine, account, sku, quantity)
        for sku, quantity in sorted(listed.items())
    }
    return expected, pending


class SetResult(enum.StrEnum):
    """How :func:`set_listed_stock` left one listing."""

    SET = "set"
    """The channel took the figure."""
    IN_STEP = "in_step"
    """Nothing to send: the listing shows what it should (perhaps once new orders were in)."""
    UNTRACKED = "untracked"
    """No stock is recorded for the SKU: nothing is sent."""
    LOST = "lost"
    """The channel kept selling while it was set (twice): try again later."""
    FAILED = "failed"
    """The write failed and may pass later."""
    REFUSED = "refused"
    """The channel refused the write (recorded like a failed push)."""


@dataclass
class StockSetting:
    """What :func:`set_listed_stock` did for one SKU: ``listed`` is the channel's last known
    figure, ``quantity`` what it should show; ``error``/``code`` when it did not work."""

    sku: str
    listed: int | None
    quantity: int | None = None
    result: SetResult = SetResult.SET
    error: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        """True when the listing shows (or was just set to) what it should."""
        return self.result in (SetResult.SET, SetResult.IN_STEP)


def _settle(
    engine: Engine,
    account: str,
    done: list[tuple[str, Expectation]],
    exact: bool,
    refused: list[StockSetting],
) -> None:
    """Record in one transaction: figures set (the pusher's new baseline), refusals (shown
    by ``status`` like any failed push)."""
    from omnisdk.sync.stock import in_transaction

    store = engine.store

    def work(session: Connection) -> None:
        for sku, expectation in done:
            store.record_push(
                account,
                sku,
                quantity=expectation.quantity,
                pending_unseen=expectation.unseen,
                seen_accounted=expectation.seen_accounted,
                listed=expectation.quantity if exact else None,
                session=session,
            )
        for item in refused:
            store.record_push_failure(
                account, item.sku, item.error or "refused", code=item.code, session=session
            )

    in_transaction(store, work)


def _recheck(
    engine: Engine, account: str, listed: dict[str, int | None]
) -> dict[str, Expectation | None]:
    """Record the figures read (those known) and say what each listing should show."""
    with engine.store.session() as session:
        for sku, quantity in listed.items():
            if quantity is not None:
                engine.store.record_listed(account, sku, quantity, session=session)
    return {sku: expected_stock(engine, account, sku, quantity) for sku, quantity in listed.items()}


async def set_listed_stock(
    engine: Engine, channel: Channel, listed: Mapping[str, int | None]
) -> dict[str, StockSetting]:
    """Set each SKU's listing to what the account should sell, starting from ``listed``,
    the figure just read from the channel (None: unknown, read here when the channel can).

    The write starts from that figure in the channel's strongest mode (compare-and-swap
    ``expected``, or the delta from it), so a sale made meanwhile is never overwritten: the
    channel refuses, the account's new orders are ingested and the listing is set again from
    the channel's actual figure (once). Successes become the pusher's new baseline; refusals
    are recorded like failed pushes and fire ``omnisdk_push_failed``.

    This is what a drifted listing needs: the pusher pushes only when the figure it predicts
    differs from the target, and a listing changed on the channel's side does not change
    that prediction.
    """
    account = channel.account
    mode = channel.limits.stock_push_mode
    figures: dict[str, int | None] = dict(listed)
    unknown = [sku for sku, quantity in figures.items() if quantity is None]
    if unknown and Capability.READ_STOCK in channel.capabilities:
        async for level in channel.stream_stock(unknown):
            figures[level.sku] = (figures.get(level.sku) or 0) + level.on_hand
    settings = {sku: StockSetting(sku=sku, listed=quantity) for sku, quantity in figures.items()}
    expected = await engine.db(_recheck, engine, account, figures)
    done: list[tuple[str, Expectation]] = []
    pending = list(settings.values())
    for attempt in (1, 2):
        sending: list[tuple[StockSetting, Expectation]] = []
        for item in pending:
            expectation = expected[item.sku]
            if expectation is None:
                item.result = SetResult.UNTRACKED
            elif expectation.quantity == item.listed:
                item.quantity, item.result = expectation.quantity, SetResult.IN_STEP
            elif item.listed is None and mode is StockPushMode.DELTA:
                item.result, item.error = SetResult.FAILED, "no listed figure to apply a delta to"
            else:
                item.quantity = expectation.quantity
                sending.append((item, expectation))
        if not sending:
            break
        updates = [
            stock_update(
                item.sku,
                expectation.quantity,
                ListedStock(item.listed) if item.listed is not None else None,
                mode,
            )
            for item, expectation in sending
        ]
        try:
            results = await channel.write_stock(updates)
        except ReauthorisationRequired:
            raise
        except OmnisdkError as exc:
            results = [WriteResult.failure(item.sku, exc, retryable=True) for item, _ in sending]
        lost: list[StockSetting] = []
        for (item, expectation), result in zip(sending, results, strict=True):
            if result.ok:
                item.result = SetResult.SET
                done.append((item.sku, expectation))
            elif result.actual is not None:
                item.listed = result.actual
                item.result, item.error = SetResult.LOST, result.error
                lost.append(item)
            else:
                item.result = SetResult.FAILED if result.retryable else SetResult.REFUSED
                item.error, item.code = result.error or "refused", result.code
        if not lost or attempt == 2:
            break
        # The channel sold something the engine has not seen: ingest it, then start again
        # from the channel's actual figure.
        if Capability.READ_ORDERS in channel.capabilities:
            try:
                await engine.poll_orders(account)
            except ReauthorisationRequired:
                raise
            except OmnisdkError as exc:
                logger.warning("%s: polling orders after a lost swap failed: %s", account, exc)
        expected.update(await engine.db(_recheck, engine, account, {i.sku: i.listed for i in lost}))
        pending = lost
    refused = [item for item in settings.values() if item.result is SetResult.REFUSED]
    await engine.db(_settle, engine, account, done, mode is not StockPushMode.DELTA, refused)
    for item in refused:
        engine.fire(
            "omnisdk_push_failed",
            account=account,
            key=item.sku,
            error=item.error or "refused",
            retryable=False,
        )
    return settings


async def _repair(engine: Engine, channel: Channel, drifts: list[StockDrift]) -> None:
    """Set the drifted listings from the figures just read; say how each went."""
    settings = await set_listed_stock(engine, channel, {d.sku: d.listed for d in drifts})
    for drift in drifts:
        item = settings[drift.sku]
        drift.repaired = item.ok
        if item.result is SetResult.IN_STEP:
            drift.note = "in step once the channel's new orders were ingested"
        elif item.result is SetResult.LOST:
            drift.note = (
                f"the channel kept selling meanwhile (shows {item.listed}); the next "
                "reconciliation tries again"
            )
        elif item.result is SetResult.FAILED:
            drift.note = f"not repaired: {item.error}; the next reconciliation tries again"
        elif item.result is SetResult.REFUSED:
            drift.note = f"refused: {item.error}"
        elif item.result is SetResult.UNTRACKED:
            drift.note = "no stock is recorded for the SKU any more"
        if item.listed is not None:
            drift.listed = item.listed


async def _reconcile_account(engine: Engine, account: str, *, repair: bool) -> AccountReconcile:
    try:
        channel = engine.channel(account)
    except OmnisdkError as exc:
        return AccountReconcile(account=account, channel="?", error=str(exc))
    result = AccountReconcile(account=account, channel=channel.name)
    if await engine.is_stopped(account):
        status = await engine.account_status(account)
        result.error = f"account is {status.value}: not reconciled"
        return result
    if Capability.READ_STOCK not in channel.capabilities:
        result.error = "the channel cannot read its listed stock (no read_stock)"
        return result
    try:
        listed: dict[str, int] = {}
        async for level in channel.stream_stock(None):
            listed[level.sku] = listed.get(level.sku, 0) + level.on_hand
        known, master = await engine.db(_known_skus, engine, account)
        result.unbound = sorted(s for s in listed if s not in known and s in master)
        result.unknown = sorted(s for s in listed if s not in known and s not in master)
        result.missing = sorted(s for s in known if s not in listed)
        for name in ("unbound", "unknown", "missing"):
            setattr(result, name, getattr(result, name)[:MAX_LISTED])
        ours = {sku: quantity for sku, quantity in listed.items() if sku in known}
        expected, pending = await engine.db(_expectations, engine, account, ours)
        why_not = _why_not_repaired(engine, channel, repair)
        for sku, quantity in sorted(ours.items()):
            expectation = expected[sku]
            if expectation is None:
                result.untracked += 1
                continue
            result.checked += 1
            if quantity == expectation.quantity:
                result.in_sync += 1
                continue
            result.drift.append(
                StockDrift(
                    account=account,
                    sku=sku,
                    listed=quantity,
                    expected=expectation.quantity,
                    unseen=expectation.unseen,
                    queued=sku in pending,
                    note=why_not,
                    kind=DriftKind.OVER if quantity > expectation.quantity else DriftKind.UNDER,
                )
            )
        if result.drift and why_not is None:
            await _repair(engine, channel, result.drift)
    except OmnisdkError as exc:
        if isinstance(exc, ReauthorisationRequired):
            await engine.lost_authorisation(account, exc)
        result.error = str(exc) or type(exc).__name__
        return result
    engine.fire(
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


def _why_not_repaired(engine: Engine, channel: Channel, repair: bool) -> str | None:
    if not repair:
        return "repair not asked for"
    if "stock" not in engine.account_config(channel.account).pricing.owns:
        return "the account's stock belongs to the channel (pricing.owns)"
    if Capability.WRITE_STOCK not in channel.capabilities:
        return "the channel cannot write stock (no write_stock)"
    return None


# -- oversells ---------------------------------------------------------------------------------


def _parse_reference(reference: str) -> tuple[str | None, str | None]:
    """(account, external id) of an order's ledger reference ``order:<account>:<id>``."""
    from omnisdk.sync.stock import MAX_KEY

    kind, _, rest = reference.partition(":")
    account, _, external_id = rest.partition(":")
    shortened = len(reference) >= MAX_KEY and "~" in reference  # see stock.bounded_key
    if kind != "order" or not account or not external_id or shortened:
        return None, None
    return account, external_id


def find_oversells(engine: Engine) -> list[Oversell]:
    """Every (SKU, location) whose orders hold more than is on hand, with those orders.

    Synchronous (run it in a worker thread). Orders are listed oldest first; the ones that no
    longer fit in what is on hand are marked ``beyond_stock``.
    """
    store = engine.store
    with read_only(store) as connection:
        short = connection.execute(
            select(
                stock_levels.c.sku,
                stock_levels.c.location,
                stock_levels.c.on_hand,
                stock_levels.c.reserved,
            )
            .where(stock_levels.c.on_hand < stock_levels.c.reserved)
            .order_by(stock_levels.c.sku, stock_levels.c.location)
        ).all()
        holders: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for row in short:
            held = func.sum(stock_ledger.c.reserved_delta)
            holders[(row.sku, row.location)] = [
                (str(reference), int(units))
                for reference, units in connection.execute(
                    select(stock_ledger.c.reference, held)
                    .where(
                        stock_ledger.c.sku == row.sku,
                        stock_ledger.c.location == row.location,
                        stock_ledger.c.reference.is_not(None),
                    )
                    .group_by(stock_ledger.c.reference)
                    .having(held > 0)
                    .order_by(func.min(stock_ledger.c.id))
                    .limit(MAX_ORDERS)
                )
            ]
    result = []
    for row in short:
        orders = []
        for reference, units in holders[(row.sku, row.location)]:
            account, external_id = _parse_reference(reference)
            stored = (
                store.get_order(account, external_id)
                if account is not None and external_id is not None
                else None
            )
            orders.append(
                OversoldOrder(
                    account=account,
                    external_id=external_id,
                    reference=reference,
                    reserved=units,
                    number=stored.order.number if stored else None,
                    status=stored.order.status.value if stored else None,
                    placed_at=stored.order.created_at if stored else None,
                )
            )
        orders.sort(key=lambda o: (o.placed_at is None, o.placed_at or datetime.max))
        room = max(row.on_hand, 0)
        for order in orders:
            order.beyond_stock = order.reserved > room
            room = max(room - order.reserved, 0)
        result.append(
            Oversell(
                sku=row.sku,
                location=row.location,
                on_hand=row.on_hand,
                reserved=row.reserved,
                orders=orders,
            )
        )
    return result


# -- the whole pass ------------------------------------------------------------------------------


async def reconcile(
    engine: Engine,
    accounts: Sequence[str] | None = None,
    *,
    repair: bool = True,
) -> ReconcileReport:
    """Compare every listing's stock on ``accounts`` (default: all configured) with what it
    should be; set each one that drifted (``repair``) from the figure just read; report
    oversells.

    An account that cannot be read gets an ``error`` in the report; the others go on.
    """
    report = ReconcileReport(started_at=engine.now())
    names = (
        list(dict.fromkeys(accounts))
        if accounts is not None
        else [entry.name for entry in engine.config.channels]
    )
    # Accounts are independent (each has its own rate budget): read them side by side.
    results = await asyncio.gather(
        *(_reconcile_account(engine, name, repair=repair) for name in names)
    )
    report.accounts.extend(results)
    report.oversells = await engine.db(find_oversells, engine)
    return report
