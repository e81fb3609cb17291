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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["SMOOTHING", "Claimant", "Quota", "plan_shares", "quota_for"]

SMOOTHING = Decimal("0.25")
"""Units of velocity every account is credited with, so one that never sold gets a share."""


@dataclass(frozen=True)
class Claimant:
    """One account's side of a SKU, as the planner sees it.

    ``holds``: the units it may still sell plus those it sold unseen (an upper bound; None
    when unknown, which holds everything). ``unseen``: sold on the channel, not ingested yet.
    ``cap``: the most it may list (its allocation rule, or the allocation hook's answer).
    ``weight`` and ``velocity`` (units sold lately) set its share; ``zero_below``: a share
    smaller than this is 0 (the units go to the others).
    """

    account: str
    holds: int | None
    unseen: int = 0
    cap: int = 0
    weight: Decimal = Decimal(1)
    velocity: int = 0
    zero_below: int = 0

    def score(self) -> Decimal:
        """The account's claim to a share: weight x (velocity + smoothing)."""
        return self.weight * (max(self.velocity, 0) + SMOOTHING)


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


def quota_for(account: str, free: int, claimants: Sequence[Claimant]) -> Quota:
    """What ``account`` (one of ``claimants``) may list now.

    Its headroom is ``free`` less what every other account holds (all of it when one holds
    an unknown amount) less its own unseen sales; the figure is the smallest of cap, share
    and headroom, never below 0.
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
    shares = plan_shares(free, claimants)
    share = shares[account]
    figure = max(min(me.cap, share, headroom), 0)
    over = tuple(
        c.account
        for c in others
        if c.holds is None or c.holds - max(c.unseen, 0) > shares[c.account]
    )
    return Quota(
        account=account, figure=figure, share=share, headroom=headroom, cap=me.cap, over_share=over
    )
