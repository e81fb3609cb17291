"""Promotions: planned, applied through each channel's own mechanism, and ended on time.

The promotions are the config's ``[[promotions]]`` (copied into the store at every plan, so
the store is the one list) plus those added through :meth:`Engine.add_promotion`. For every
promotion and every account that lists a covered SKU, the plan says the account's base price
(its ``[channels.pricing]`` rule over the master price), the promoted price (the same
:meth:`~omnisdk.models.Promotion.price` for every channel, so no two channels can differ by
rounding) and how the channel expresses it (its declared
:class:`~omnisdk.models.PromotionMechanism`). A channel that cannot express a promotion is
planned as ``unsupported`` (with the reason), an account that opted out as ``opted_out``, and
two promotions covering the same SKU at overlapping times as ``conflict``: the plan says so
instead of a channel silently showing another price than the others.

:func:`run_promotions` carries the plan out and is what the scheduled job calls:

- a step that is due is written with ``Channel.write_promotion``: at once for a mechanism
  the platform switches on and off at its dates, from the start time for the others;
- a promotion that has ended (its ``ends_at`` passed, or ended early through the API), and an
  item no longer planned (an account that opted out later, a SKU no longer covered), is ended
  with ``Channel.end_promotion``, which shows the base price again;
- what each account shows is recorded per (promotion, account, SKU), so a run repeated, or
  repeated after a crash half-way, writes only what is not recorded as done (and the channel
  contract makes a repeated write or end a no-op on the platform).
"""

from __future__ import annotations

import enum
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.channel import Capability, WriteResult
from omnisdk.errors import OmnisdkError, UsageError
from omnisdk.models import Money, Promotion, PromotionItem, PromotionMechanism, PromotionWrite
from omnisdk.store import (
    BindingKind,
    PromotionListing,
    PromotionListingState,
    StoredPromotion,
)
from omnisdk.sync.context import SyncContext

__all__ = [
    "PromotionAction",
    "PromotionPlan",
    "PromotionRun",
    "PromotionStep",
    "PromotionWriteOutcome",
    "add_promotion",
    "end_promotion",
    "held_prices",
    "list_promotions",
    "next_change",
    "plan_promotions",
    "run_promotions",
]

logger = logging.getLogger("omnisdk.sync.promotions")


class PromotionAction(enum.StrEnum):
    """What the plan does for one account and SKU."""

    SET = "set"
    """Show the promoted price through the channel's mechanism."""
    UNSUPPORTED = "unsupported"
    """The channel cannot express a promotion: its price would differ from the others'."""
    OPTED_OUT = "opted_out"
    """The account opted out: it keeps its base price."""
    CONFLICT = "conflict"
    """Another promotion covers the same SKU on this account at an overlapping time: neither
    is applied there until one is changed (the plan names the other)."""


class PromotionStep(BaseModel):
    """One account and SKU of a promotion plan.

    ``due`` is True when :func:`run_promotions` at the plan's time would write it now (it has
    started, or the platform switches it on itself at its start); ``shown`` is what the
    store records the account shows of it (None: nothing yet). ``reason`` explains an
    ``unsupported`` or ``conflict`` step.
    """

    model_config = ConfigDict(frozen=True)

    promotion: str
    account: str
    sku: str
    action: PromotionAction
    base: Money
    promoted: Money
    mechanism: PromotionMechanism | None = None
    starts_at: datetime
    ends_at: datetime
    due: bool = False
    shown: PromotionListingState | None = None
    reason: str | None = None

    @property
    def in_place(self) -> bool:
        """True when the account already shows this step as planned."""
        return self.shown is PromotionListingState.APPLIED


class PromotionPlan(BaseModel):
    """Every promotion that has not ended at ``at``, planned per account and SKU, and the
    items of ended promotions a run would end (``ending``)."""

    at: datetime
    steps: list[PromotionStep] = Field(default_factory=list)
    ending: list[PromotionStep] = Field(default_factory=list)

    def unsupported(self) -> list[PromotionStep]:
        """The steps no channel mechanism can carry out."""
        return [step for step in self.steps if step.action is PromotionAction.UNSUPPORTED]

    def to_write(self) -> list[PromotionStep]:
        """The steps a run at ``at`` would write (due, and not in place yet)."""
        return [
            step
            for step in self.steps
            if step.action is PromotionAction.SET and step.due and not step.in_place
        ]

    @property
    def is_empty(self) -> bool:
        """True when a run would write nothing."""
        return not self.to_write() and not self.ending


class PromotionWriteOutcome(BaseModel):
    """One item a run wrote (``applied``) or ended (``ended``), and how it went."""

    promotion: str
    account: str
    sku: str
    operation: str
    ok: bool
    price: Money
    error: str | None = None


class PromotionRun(BaseModel):
    """What :func:`run_promotions` did."""

    at: datetime
    outcomes: list[PromotionWriteOutcome] = Field(default_factory=list)
    finished: list[str] = Field(default_factory=list)
    """Promotions ended with every account's base price back (``ended_at`` set now)."""

    @property
    def applied(self) -> int:
        """Items whose promoted price was written."""
        return sum(1 for o in self.outcomes if o.ok and o.operation == "applied")

    @property
    def ended(self) -> int:
        """Items whose base price was written back."""
        return sum(1 for o in self.outcomes if o.ok and o.operation == "ended")

    @property
    def failed(self) -> int:
        """Items a channel refused (tried again at the next run)."""
        return sum(1 for o in self.outcomes if not o.ok)

    def log(self) -> None:
        """Log what the run did: a warning per item a channel refused, a line for the
        prices written and for each promotion that finished (the runtimes' promotions job)."""
        for outcome in self.outcomes:
            if not outcome.ok:
                logger.warning(
                    "promotion %s on %s (%s): %s",
                    outcome.promotion, outcome.account, outcome.sku, outcome.error,
                )
        if self.applied or self.ended:
            logger.info("promotions: %d prices promoted, %d restored", self.applied, self.ended)
        for promotion in self.finished:
            logger.info("promotion %s ended on every channel", promotion)


# -- the list of promotions ------------------------------------------------------------------


def _sync_config(context: SyncContext) -> None:
    """Copy the config's promotions into the store (a changed entry replaces its copy); a
    promotion taken out of the config ends now (its prices are restored like any end)."""
    stored = {s.promotion.id: s for s in context.store.promotions()}
    configured = {promotion.id for promotion in context.config.promotions}
    for entry in stored.values():
        dropped = entry.origin == "config" and entry.promotion.id not in configured
        if dropped and entry.ended_at is None:
            context.store.mark_promotion_ended(entry.promotion.id, context.now())
    for promotion in context.config.promotions:
        known = stored.get(promotion.id)
        if known is not None and known.origin == "api":
            raise UsageError(
                f"promotion {promotion.id!r} is in [[promotions]] and was also added through "
                "the API: give one of them another id"
            )
        if known is None or known.promotion != promotion:
            context.store.save_promotion(promotion, origin="config")


async def list_promotions(
    context: SyncContext, *, include_ended: bool = True
) -> list[StoredPromotion]:
    """See :meth:`Engine.promotions`."""

    def read() -> list[StoredPromotion]:
        _sync_config(context)
        return context.store.promotions(include_ended=include_ended)

    return await context.run(read)


async def add_promotion(context: SyncContext, promotion: Promotion) -> None:
    """See :meth:`Engine.add_promotion`."""

    def save() -> None:
        _sync_config(context)
        known = context.store.promotion(promotion.id)
        if known is not None and known.origin == "config":
            raise UsageError(
                f"promotion {promotion.id!r} comes from [[promotions]] in the config: change "
                "it there"
            )
        if known is not None and known.ended_at is not None:
            raise UsageError(f"promotion {promotion.id!r} has ended: give a new one a new id")
        context.store.save_promotion(promotion, origin="api")

    await context.run(save)


async def end_promotion(context: SyncContext, promotion_id: str) -> PromotionRun:
    """See :meth:`Engine.end_promotion`."""
    moment = context.now()

    def mark() -> None:
        _sync_config(context)
        if context.store.promotion(promotion_id) is None:
            known = ", ".join(s.promotion.id for s in context.store.promotions()) or "none"
            raise UsageError(f"no promotion {promotion_id!r} (known: {known})")
        context.store.mark_promotion_ended(promotion_id, moment)

    await context.run(mark)
    return await run_promotions(context, moment)


def _is_over(stored: StoredPromotion, at: datetime) -> bool:
    return stored.ended_at is not None or stored.promotion.ends_at <= at


# -- planning -------------------------------------------------------------------------------


def _covered(context: SyncContext, promotions: list[Promotion]) -> dict[str, dict[str, Money]]:
    """Promotion id -> SKU -> master price of every variant it covers."""
    covered: dict[str, dict[str, Money]] = {p.id: {} for p in promotions}
    for stored in context.store.iter_products():
        tags = stored.product.tags
        for variant in stored.product.variants:
            for promotion in promotions:
                if promotion.covers(variant.sku, tags):
                    covered[promotion.id][variant.sku] = variant.price
    return covered


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _overlap(a: Promotion, b: Promotion) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _plan(context: SyncContext, moment: datetime) -> PromotionPlan:
    _sync_config(context)
    everything = context.store.promotions()
    running = [s.promotion for s in everything if not _is_over(s, moment)]
    shown = {
        (row.promotion_id, row.account, row.sku): row
        for row in context.store.promotion_listings()
    }
    covered = _covered(context, running)
    steps: list[PromotionStep] = []
    for promotion in running:
        for entry in context.config.channels:
            channel = context.channels.get(entry.name)
            if channel is None or Capability.WRITE_PRICES not in channel.capabilities:
                continue
            listed = context.store.bindings_of(entry.name, BindingKind.VARIANT)
            mechanism = channel.limits.promotion_mechanism
            unsupported = channel.promotion_support()
            for sku in sorted(set(covered[promotion.id]) & set(listed)):
                base = entry.pricing.apply(covered[promotion.id][sku])
                reason: str | None = None
                try:
                    promoted = promotion.price(base)
                except ValueError as exc:
                    action, promoted, reason = PromotionAction.UNSUPPORTED, base, str(exc)
                else:
                    if not promotion.applies_to(entry.name):
                        action, promoted = PromotionAction.OPTED_OUT, base
                    elif unsupported is not None:
                        action, promoted, reason = PromotionAction.UNSUPPORTED, base, unsupported
                    else:
                        action = PromotionAction.SET
                        lead = channel.limits.promotion_lead_time
                        if lead is not None and promotion.starts_at < moment + lead:
                            reason = (
                                f"starts here {_minutes(lead)} after it is written at the "
                                f"earliest (the platform needs that notice)"
                            )
                row = shown.get((promotion.id, entry.name, sku))
                state = row.state if row is not None else None
                if (
                    row is not None
                    and state is PromotionListingState.APPLIED
                    and (row.promoted != promoted or row.base != base)
                ):
                    state = None  # the prices moved since: written again
                due = action is PromotionAction.SET and (
                    promotion.is_running(moment)
                    or (mechanism is not None and mechanism.platform_dated)
                )
                steps.append(
                    PromotionStep(
                        promotion=promotion.id,
                        account=entry.name,
                        sku=sku,
                        action=action,
                        base=base,
                        promoted=promoted,
                        mechanism=mechanism,
                        starts_at=promotion.starts_at,
                        ends_at=promotion.ends_at,
                        due=due,
                        shown=state,
                        reason=reason,
                    )
                )
    steps = _mark_conflicts(steps, {p.id: p for p in running})
    steps = _hold_ahead(steps, {p.id: p for p in running}, moment, shown)
    planned = {(s.promotion, s.account, s.sku) for s in steps if s.action is PromotionAction.SET}
    by_id = {s.promotion.id: s.promotion for s in everything}
    ending = [
        PromotionStep(
            promotion=row.promotion_id,
            account=row.account,
            sku=row.sku,
            action=PromotionAction.SET,
            base=row.base,
            promoted=row.promoted,
            mechanism=_mechanism(context, row.account),
            starts_at=by_id[row.promotion_id].starts_at,
            ends_at=by_id[row.promotion_id].ends_at,
            due=True,
            shown=row.state,
        )
        for row in shown.values()
        if row.state is not PromotionListingState.ENDED
        and row.promotion_id in by_id
        and (row.promotion_id, row.account, row.sku) not in planned
    ]
    return PromotionPlan(at=moment, steps=steps, ending=ending)


def _mechanism(context: SyncContext, account: str) -> PromotionMechanism | None:
    channel = context.channels.get(account)
    return channel.limits.promotion_mechanism if channel is not None else None


def _hold_ahead(
    steps: list[PromotionStep],
    promotions: dict[str, Promotion],
    moment: datetime,
    shown: dict[tuple[str, str, str], PromotionListing],
) -> list[PromotionStep]:
    """A step written ahead of its start on a listing that holds one promoted price at a
    time waits while another promotion shows there (or is about to): written ahead, it
    would replace that one's price before its end. It is written at the hand-over instead."""
    showing: dict[tuple[str, str], str] = {}
    for step in steps:
        key = (step.account, step.sku)
        row = shown.get((step.promotion, step.account, step.sku))
        applied = row is not None and row.state is PromotionListingState.APPLIED
        if step.action is PromotionAction.SET and (
            promotions[step.promotion].is_running(moment) or applied
        ):
            showing.setdefault(key, step.promotion)
    held = []
    for step in steps:
        other = showing.get((step.account, step.sku))
        mechanism = step.mechanism
        ahead = step.due and not promotions[step.promotion].is_running(moment)
        if (
            ahead
            and other is not None
            and other != step.promotion
            and mechanism is not None
            and mechanism.one_at_a_time
        ):
            step = step.model_copy(
                update={
                    "due": False,
                    "reason": f"written once promotion {other} has ended (the channel "
                    "holds one promoted price per item)",
                }
            )
        held.append(step)
    return held


def _mark_conflicts(
    steps: list[PromotionStep], promotions: dict[str, Promotion]
) -> list[PromotionStep]:
    """Steps of two overlapping promotions on the same account and SKU become conflicts."""
    by_listing: dict[tuple[str, str], list[PromotionStep]] = defaultdict(list)
    for step in steps:
        if step.action is PromotionAction.SET:
            by_listing[(step.account, step.sku)].append(step)
    clash: dict[tuple[str, str, str], str] = {}
    for group in by_listing.values():
        for i, one in enumerate(group):
            for other in group[i + 1:]:
                if _overlap(promotions[one.promotion], promotions[other.promotion]):
                    clash[(one.promotion, one.account, one.sku)] = other.promotion
                    clash[(other.promotion, other.account, other.sku)] = one.promotion
    if not clash:
        return steps
    marked = []
    for step in steps:
        rival = clash.get((step.promotion, step.account, step.sku))
        if rival is None:
            marked.append(step)
        else:
            marked.append(
                step.model_copy(
                    update={
                        "action": PromotionAction.CONFLICT,
                        "promoted": step.base,
                        "due": False,
                        "reason": f"promotion {rival} covers it at an overlapping time",
                    }
                )
            )
    return marked


async def plan_promotions(context: SyncContext, at: datetime | None = None) -> PromotionPlan:
    """See :meth:`Engine.plan_promotions`."""
    moment = at or context.now()
    return await context.run(_plan, context, moment)


def held_prices(context: SyncContext, account: str) -> dict[str, str]:
    """SKU -> promotion id of ``account``'s listings that show a promotion now: a catalog
    sync leaves their price alone (a channel may read the promoted price back as the price,
    as a compare-at mechanism or a sale price does), and the promotion's end restores it."""
    return {
        row.sku: row.promotion_id
        for row in context.store.promotion_listings()
        if row.account == account and row.state is PromotionListingState.APPLIED
    }


async def next_change(context: SyncContext) -> datetime | None:
    """See :meth:`Engine.next_promotion_change`."""
    moment = context.now()

    def read() -> datetime | None:
        _sync_config(context)
        times = [
            when
            for stored in context.store.promotions(include_ended=False)
            for when in (stored.promotion.starts_at, stored.promotion.ends_at)
            if when > moment
        ]
        return min(times, default=None)

    return await context.run(read)


# -- running --------------------------------------------------------------------------------


def _write(promotion: Promotion, items: list[PromotionItem]) -> PromotionWrite:
    return PromotionWrite(
        id=promotion.id,
        name=promotion.name,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
        items=tuple(items),
    )


async def _call(
    context: SyncContext, account: str, operation: str, write: PromotionWrite
) -> list[WriteResult]:
    channel = context.channels[account]
    try:
        if operation == "applied":
            results = await channel.write_promotion(write)
        else:
            results = await channel.end_promotion(write)
    except OmnisdkError as exc:
        logger.warning("%s: %s of promotion %s failed: %s", account, operation, write.id, exc)
        return [WriteResult.failure(item.sku, exc) for item in write.items]
    if len(results) != len(write.items):
        return [
            WriteResult.failure(item.sku, "the channel answered a different number of items")
            for item in write.items
        ]
    return results


async def run_promotions(context: SyncContext, at: datetime | None = None) -> PromotionRun:
    """See :meth:`Engine.run_promotions`."""
    moment = at or context.now()
    plan = await context.run(_plan, context, moment)
    promotions = {s.promotion.id: s.promotion for s in await context.run(context.store.promotions)}
    previous = {
        (row.promotion_id, row.account, row.sku): row
        for row in await context.run(context.store.promotion_listings)
    }
    run = PromotionRun(at=moment)
    groups: dict[tuple[str, str, str], list[PromotionStep]] = defaultdict(list)
    # Ends first: a promotion that follows another on the same listing is written after the
    # earlier one's base price is back, not overwritten by it.
    for step in plan.ending:
        if step.account in context.channels:
            groups[("ended", step.account, step.promotion)].append(step)
    for step in plan.to_write():
        groups[("applied", step.account, step.promotion)].append(step)
    for (operation, account, promotion_id), steps in groups.items():
        items = [
            PromotionItem(
                sku=step.sku,
                base=step.base,
                promoted=step.promoted,
                external_id=(
                    previous[key].external_id
                    if (key := (promotion_id, account, step.sku)) in previous
                    else None
                ),
            )
            for step in steps
        ]
        results = await _call(context, account, operation, _write(promotions[promotion_id], items))
        rows = []
        now = context.now()
        for item, result in zip(items, results, strict=True):
            if result.ok:
                state = (
                    PromotionListingState.APPLIED
                    if operation == "applied"
                    else PromotionListingState.ENDED
                )
            else:
                # A failed end stays applied (the promoted price may still show): retried.
                state = (
                    PromotionListingState.FAILED
                    if operation == "applied"
                    else PromotionListingState.APPLIED
                )
            rows.append(
                PromotionListing(
                    promotion_id=promotion_id,
                    account=account,
                    sku=item.sku,
                    state=state,
                    base=item.base,
                    promoted=item.promoted,
                    external_id=result.external_id or item.external_id,
                    error=None if result.ok else result.error,
                    updated_at=now,
                )
            )
            run.outcomes.append(
                PromotionWriteOutcome(
                    promotion=promotion_id,
                    account=account,
                    sku=item.sku,
                    operation=operation,
                    ok=result.ok,
                    price=item.promoted if operation == "applied" else item.base,
                    error=result.error,
                )
            )
        await context.run(context.store.record_promotion_listings, rows)

    def finish() -> list[str]:
        listings = context.store.promotion_listings()
        finished = []
        for stored in context.store.promotions(include_ended=True):
            promotion = stored.promotion
            if stored.ended_at is None and promotion.ends_at > moment:
                continue
            open_rows = [
                row
                for row in listings
                if row.promotion_id == promotion.id
                and row.state is not PromotionListingState.ENDED
                and row.account in context.channels
            ]
            if open_rows:
                continue
            if context.store.mark_promotion_ended(promotion.id, min(moment, promotion.ends_at)):
                finished.append(promotion.id)
        return finished

    run.finished = await context.run(finish)
    return run
