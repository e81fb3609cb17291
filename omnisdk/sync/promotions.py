"""Promotion plans: what each channel account would show while a promotion runs.

A first slice: the plan only. For every promotion (``[[promotions]]`` in the config) and
every account that lists a covered SKU (a variant binding), the plan says the account's base
price (its ``[channels.pricing]`` rule over the master price), the promoted price (the same
:meth:`~omnisdk.models.Promotion.price` for every channel), and how the channel would express
it (its declared :class:`~omnisdk.models.PromotionMechanism`). An account whose channel
declares none is planned as ``unsupported`` (the plan says so instead of the channel silently
keeping its base price); an account that opted out is planned as ``opted_out``.

Not done yet: applying the plan through each channel's mechanism, and the scheduled job that
ends promotions and restores base prices.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from omnisdk.channel import Capability
from omnisdk.models import Money, Promotion, PromotionMechanism
from omnisdk.store import BindingKind
from omnisdk.sync.context import SyncContext

__all__ = ["PromotionAction", "PromotionPlan", "PromotionStep", "plan_promotions"]


class PromotionAction(enum.StrEnum):
    """What the plan does for one account and SKU."""

    SET = "set"
    """Show the promoted price through the channel's mechanism."""
    UNSUPPORTED = "unsupported"
    """The channel cannot express a promotion: its price would differ from the others'."""
    OPTED_OUT = "opted_out"
    """The account opted out: it keeps its base price."""


class PromotionStep(BaseModel):
    """One account and SKU of a promotion plan."""

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


class PromotionPlan(BaseModel):
    """Every promotion that has not ended at ``at``, planned per account and SKU."""

    at: datetime
    steps: list[PromotionStep] = Field(default_factory=list)

    def unsupported(self) -> list[PromotionStep]:
        """The steps no channel mechanism can carry out."""
        return [step for step in self.steps if step.action is PromotionAction.UNSUPPORTED]


def _covered(context: SyncContext, promotion: Promotion) -> dict[str, Money]:
    """SKU -> master price of every variant ``promotion`` covers."""
    covered: dict[str, Money] = {}
    for stored in context.store.iter_products():
        tags = stored.product.tags
        for variant in stored.product.variants:
            if promotion.covers(variant.sku, tags):
                covered[variant.sku] = variant.price
    return covered


async def plan_promotions(context: SyncContext, at: datetime | None = None) -> PromotionPlan:
    """See :meth:`Engine.plan_promotions`."""
    moment = at or context.now()
    config = context.config
    promotions = [p for p in config.promotions if p.ends_at > moment]

    def read() -> list[PromotionStep]:
        steps: list[PromotionStep] = []
        for promotion in promotions:
            covered = _covered(context, promotion)
            for entry in config.channels:
                channel = context.channels.get(entry.name)
                if channel is None or Capability.WRITE_PRICES not in channel.capabilities:
                    continue
                listed = context.store.bindings_of(entry.name, BindingKind.VARIANT)
                mechanism = channel.limits.promotion_mechanism
                for sku in sorted(set(covered) & set(listed)):
                    base = entry.pricing.apply(covered[sku])
                    if not promotion.applies_to(entry.name):
                        action = PromotionAction.OPTED_OUT
                    elif mechanism is None:
                        action = PromotionAction.UNSUPPORTED
                    else:
                        action = PromotionAction.SET
                    steps.append(
                        PromotionStep(
                            promotion=promotion.id,
                            account=entry.name,
                            sku=sku,
                            action=action,
                            base=base,
                            promoted=promotion.price(base)
                            if action is PromotionAction.SET
                            else base,
                            mechanism=mechanism,
                            starts_at=promotion.starts_at,
                            ends_at=promotion.ends_at,
                        )
                    )
        return steps

    return PromotionPlan(at=moment, steps=await context.run(read))
