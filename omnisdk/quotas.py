"""Quotas: share a SKU's free stock between the accounts listing it so no burst can oversell.

This is the demarcation protocol (Barbará and Garcia-Molina, 1991) applied to listings. Every
account *holds* units of the SKU: the figure its channel may still sell, plus what it sold
that the engine has not ingested yet. A channel sells from what it holds without asking
anyone (marketplaces refuse a buyer once the listed figure is 0), so the one rule that keeps
any interleaving of buyers from overselling is::

    sum of what every account holds  <=  free stock (on hand - reserved)

Selling moves a unit from "may sell" to "sold unseen" (the sum stays); ingesting the order
takes it off both sides. So an account may be set to at most its *headroom*: the free stock
less what every other account holds less its own unseen sales. What the others hold is
always an upper bound (a write not confirmed yet counts at the larger of its old and new
figure; a listing never pushed holds "everything"), so a unit is taken from one account
before it is given to another.

Within that bound each account gets its *share* of the units left to sell, in proportion to
its weight times its recent sales (plus a little, so an account that has not sold yet still
gets some): scarce units go where they sell. This module is pure arithmetic; the engine
(:mod:`omnisdk.sync.sellable`) feeds it from the store.

*Turns.* The engine never hears of the buyers a channel refused, so when a SKU has fewer
units than the accounts that may list it, sales velocity alone would leave the last units on
whichever accounts the ties gave them to, forever if their buyers do not want them. So the
units the *idle* accounts get (those that sold none of it lately: velocity 0, nothing sold
unseen) go round them in turns (:class:`Rotation`): an account keeps its unit for
``rotate_after`` after it began to hold it; then it gives it up to an idle account that holds
none, the one that has waited longest first, and an account that just gave one up waits
``rotate_after`` before it is given one again. An account that sells is no longer idle: its
velocity keeps the units with it. Turns change only shares, never headroom, so the unit is
still taken from the one account (confirmed) before it is given to the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

__all__ = ["SMOOTHING", "Claimant", "Quota", "Rotation", "plan_shares", "plan_turns", "quota_for"]

SMOOTHING = Decimal("0.25")
"""Units of velocity every account is credited with, so one that never sold gets a share."""


@dataclass(frozen=True)
class Claimant:
    """One account's side of a SKU, as the planner sees it.

    ``holds``: the units it may still sell plus those it sold unseen (an upper bound; None
    when unknown, which holds everything). ``unseen``: sold on the channel, not ingested yet.
    ``cap``: the most it may list (its allocation rule, or the allocation hook's answer).
    ``weight`` and ``velocity`` (units sold lately) set its share; ``zero_below``: a share
    smaller than this is 0 (the units go to the others). ``listing`` is True when its last
    confirmed figure is above 0, ``turn_at`` when it began holding units (``listing``) or
    last stopped (None: it never held any): see :class:`Rotation`.
    """

    account: str
    holds: int | None
    unseen: int = 0
    cap: int = 0
    weight: Decimal = Decimal(1)
    velocity: int = 0
    zero_below: int = 0
    listing: bool = False
    turn_at: datetime | None = None

    def score(self) -> Decimal:
        """The account's claim to a share: weight x (velocity + smoothing)."""
        return self.weight * (max(self.velocity, 0) + SMOOTHING)


@dataclass(frozen=True)
class Rotation:
    """The turns of scarce units among idle accounts, seen at ``now``.

    ``every`` is ``[engine] rotate_after``: how long an idle account keeps a scarce unit it
    does not sell, and how long one that gave a unit up waits before it is given one again.
    """

    now: datetime
    every: timedelta


@dataclass(frozen=True)
class Turns:
    """What :func:`plan_turns` decided: every account's share, and when that changes next.

    ``rotate_at`` is the next instant the turns change (an idle holder's turn ends, or one
    that gave a unit up may have one again); None when none is running. ``active`` is True
    when some of the units are in turns.
    """

    shares: Mapping[str, int]
    rotate_at: datetime | None = None
    active: bool = False


@dataclass(frozen=True)
class Quota:
    """What the planner allows one account to list.

    ``figure`` is the quantity to list: the smallest of its ``cap``, its ``share`` and its
    ``headroom``. ``starved`` is True when the headroom cut it below its share (the units
    still sit on other accounts, which give them up first: ``over_share``).
    """

    account: str
    figure: int
    share: int
    headroom: int
    cap: int
    over_share: tuple[str, ...] = ()
    """The other accounts that hold more than their share (or an unknown amount): those that
    give units up when they are pushed."""
    rotate_at: datetime | None = field(default=None, compare=False)
    """When the SKU's turns change next (None: its units are not in turns), see
    :class:`Rotation`: the account must be decided again then."""

    @property
    def starved(self) -> bool:
        """True when other accounts still hold units this account's share wants."""
        return self.headroom < min(self.share, self.cap)


def _divide(
    units: int, claimants: Sequence[Claimant], scores: dict[str, Decimal]
) -> dict[str, int]:
    """Split ``units`` in proportion to ``scores``, never above a claimant's cap.

    Water-filling: a claimant whose proportional part exceeds its cap gets its cap and the
    rest is split again among the others; the last split is rounded by largest remainder
    (ties: higher score, then account name), so every unit that fits is given.
    """
    given = {c.account: 0 for c in claimants}
    active = [c for c in claimants if c.cap > 0 and scores[c.account] > 0]
    left = units
    while active and left > 0:
        total = sum(scores[c.account] for c in active)
        ideal = {c.account: Decimal(left) * scores[c.account] / total for c in active}
        full = [c for c in active if ideal[c.account] >= c.cap]
        if full:
            for c in full:
                given[c.account] = c.cap
                left -= c.cap
            active = [c for c in active if c not in full]
            continue
        floors = {c.account: int(ideal[c.account]) for c in active}
        spare = left - sum(floors.values())
        order = sorted(
            active,
            key=lambda c: (-(ideal[c.account] - floors[c.account]), -scores[c.account], c.account),
        )
        for c in order[:spare]:
            floors[c.account] += 1
        for c in active:
            given[c.account] = floors[c.account]
        break
    return given


def plan_shares(free: int, claimants: Sequence[Claimant]) -> dict[str, int]:
    """Each account's share of ``free`` stock less every account's unseen sales.

    Shares never exceed an account's cap and add up to at most the units left to sell.
    Accounts of weight 0 share what the others cannot take. A share below an account's
    ``zero_below`` becomes 0 and its units go to the others.
    """
    left = max(free - sum(max(c.unseen, 0) for c in claimants), 0)
    candidates = list(claimants)
    while True:
        weighted = [c for c in candidates if c.weight > 0]
        scores = {c.account: c.score() for c in weighted}
        shares = _divide(left, weighted, scores)
        rest = left - sum(shares.values())
        unweighted = [c for c in candidates if c.weight <= 0]
        shares.update(_divide(rest, unweighted, {c.account: Decimal(1) for c in unweighted}))
        too_small = [c for c in candidates if 0 < shares.get(c.account, 0) < c.zero_below]
        if not too_small:
            break
        candidates = [c for c in candidates if c not in too_small]
    return {c.account: shares.get(c.account, 0) for c in claimants}


def _idle(claimant: Claimant) -> bool:
    """True when ``claimant`` may take part in turns: it sold none of the SKU lately, and
    may list one unit (a weight-0 account only takes what nobody else wants)."""
    return (
        claimant.velocity <= 0
        and claimant.unseen <= 0
        and claimant.weight > 0
        and claimant.cap >= 1
        and claimant.zero_below <= 1
    )


def _turn_rank(claimant: Claimant, rotation: Rotation) -> tuple[int, float, Decimal, str]:
    """Sort key of an idle account's claim to a unit in turns (smallest first).

    0: it holds units and its turn has not ended; 1: it holds none and may be given one (it
    never held any, or gave its last up ``every`` ago), longest waiting first; 2: its turn
    ended (it gives up first the unit it has held longest); 3: it gave a unit up less than
    ``every`` ago. Ties: the larger weight, then the account name.
    """
    at = claimant.turn_at
    stamp = at.timestamp() if at is not None else float("-inf")
    ended = at is None or rotation.now - at >= rotation.every
    score = -claimant.score()
    if claimant.listing:
        if not ended:
            return (0, 0.0, score, claimant.account)
        return (2, -stamp, score, claimant.account)
    if ended:
        return (1, stamp, score, claimant.account)
    return (3, stamp, score, claimant.account)


def plan_turns(
    free: int, claimants: Sequence[Claimant], rotation: Rotation | None = None
) -> Turns:
    """:func:`plan_shares`, then turns: when the idle accounts (see :class:`Rotation`) were
    given fewer units than they are, those units go one each to the idle accounts whose turn
    it is. Without ``rotation`` (or with ``every`` 0) there are no turns."""
    shares = dict(plan_shares(free, claimants))
    if rotation is None or rotation.every <= timedelta(0):
        return Turns(shares)
    idle = [c for c in claimants if _idle(c)]
    units = sum(shares[c.account] for c in idle)
    if units <= 0 or units >= len(idle):
        return Turns(shares)
    ranked = sorted(idle, key=lambda c: _turn_rank(c, rotation))
    for position, claimant in enumerate(ranked):
        shares[claimant.account] = 1 if position < units else 0
    ends = [
        c.turn_at + rotation.every
        for c in idle
        if c.turn_at is not None and rotation.now - c.turn_at < rotation.every
    ]
    return Turns(shares, min(ends) if ends else None, active=True)


def quota_for(
    account: str, free: int, claimants: Sequence[Claimant], rotation: Rotation | None = None
) -> Quota:
    """What ``account`` (one of ``claimants``) may list now.

    Its headroom is ``free`` less what every other account holds (all of it when one holds
    an unknown amount) less its own unseen sales; the figure is the smallest of cap, share
    (with turns, see :func:`plan_turns`) and headroom, never below 0.
    """
    me = next((c for c in claimants if c.account == account), None)
    if me is None:
        raise ValueError(f"{account!r} is not one of the claimants")
    others = [c for c in claimants if c.account != account]
    if any(c.holds is None for c in others):
        headroom = 0
    else:
        held = sum(max(c.holds or 0, 0) for c in others)
        headroom = max(free - held - max(me.unseen, 0), 0)
    turns = plan_turns(free, claimants, rotation)
    shares = turns.shares
    share = shares[account]
    figure = max(min(me.cap, share, headroom), 0)
    rotate_at = turns.rotate_at
    if turns.active and rotation is not None and (figure > 0) != me.listing:
        # Confirmed, this figure starts a turn of its own (it begins or stops holding).
        ends = rotation.now + rotation.every
        rotate_at = ends if rotate_at is None else min(rotate_at, ends)
    over = tuple(
        c.account
        for c in others
        if c.holds is None or c.holds - max(c.unseen, 0) > shares[c.account]
    )
    return Quota(
        account=account,
        figure=figure,
        share=share,
        headroom=headroom,
        cap=me.cap,
        over_share=over,
        rotate_at=rotate_at,
    )
