"""What a GraphQL resolver can reach: the shop state, the request's facts, and side effects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from omnisdk_shopify.sandbox.state.shop import ShopState

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo

    from omnisdk_shopify.sandbox.api.bulk import BulkOperations

    Info: TypeAlias = GraphQLResolveInfo["GraphQLContext"]
    """What resolvers receive as ``info`` (``info.context`` is a GraphQLContext)."""

__all__ = [
    "BulkWindow",
    "GraphQLContext",
    "Resolver",
    "context_of",
    "money",
    "money_bag",
    "user_error",
]

Resolver = Callable[..., Any]
"""A GraphQL field resolver: ``(parent, info, **arguments)``."""


@dataclass
class BulkWindow:
    """The slice of the root list one step of a running bulk operation reads.

    The root list is matched and sorted once (on the first step) and kept in ``items``; each
    step reads ``size`` root objects from ``start``, so a long export never holds the shop
    for more than one slice at a time. ``done`` is set once the last slice has been read.
    """

    start: int = 0
    size: int = 250
    items: list[Any] | None = None
    done: bool = False


@dataclass
class GraphQLContext:
    """Per-request context handed to every resolver as ``info.context``.

    ``events`` collects ``(topic, payload)`` webhooks the request caused; the HTTP layer sends
    them after the response is built. ``unbounded`` is set while a bulk operation runs (lists
    need no ``first``). ``search_warnings`` feeds ``extensions.search``.
    """

    state: ShopState
    bulk: BulkOperations
    base_url: str
    api_version: str
    scopes: tuple[str, ...]
    unbounded: bool = False
    bulk_window: BulkWindow | None = None
    """Set while a bulk operation reads one slice of its root list (see :class:`BulkWindow`)."""
    idempotency: dict[tuple[str, str], Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    search_warnings: list[dict[str, Any]] = field(default_factory=list)
    notes: list[tuple[str, int | None]] = field(default_factory=list)
    """What the request did, for the sandbox's request log: ``("stock.write", 250)``."""

    def money(self, amount: Decimal | int) -> dict[str, Any]:
        """A ``MoneyV2`` in the shop currency."""
        return money(amount, self.state.shop.currency)

    def bag(self, amount: Decimal | int) -> dict[str, Any]:
        """A ``MoneyBag`` (shop and presentment money alike) in the shop currency."""
        return money_bag(amount, self.state.shop.currency)


def money(amount: Decimal | int, currency: str) -> dict[str, Any]:
    """A ``MoneyV2`` value."""
    return {"amount": Decimal(amount), "currencyCode": currency}


def money_bag(amount: Decimal | int, currency: str) -> dict[str, Any]:
    """A ``MoneyBag`` value whose presentment currency is the shop currency."""
    value = money(amount, currency)
    return {"shopMoney": value, "presentmentMoney": value}


def context_of(info: Info) -> GraphQLContext:
    """The request's :class:`GraphQLContext` (what ``info.context`` holds)."""
    context: GraphQLContext = info.context
    return context


def user_error(code: str, field: list[str], message: str) -> dict[str, Any]:
    """One entry of a mutation's ``userErrors``."""
    return {"code": code, "field": field, "message": message}
