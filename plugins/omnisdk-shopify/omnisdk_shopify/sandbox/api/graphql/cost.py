"""Shopify's calculated query cost and the leaky bucket it is charged to.

Requested cost is computed from the document before execution: an object field costs 1, a
scalar or enum 0, a connection 2 plus ``first``/``last`` times its node's cost, a mutation
field 10. The bucket is charged the requested cost up front (a request that does not fit is
answered ``THROTTLED`` and charged nothing) and refunded down to the actual cost, counted
from the objects the response really holds. The bucket restores ``restore_rate`` points per
second up to ``maximum``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from omnisdk.testing.throttle import LeakyBucket

__all__ = ["MAX_QUERY_COST", "CostBucket", "ThrottleStatus", "actual_cost", "requested_cost"]

MUTATION_COST = 10
MAX_QUERY_COST = 1000
"""Shopify refuses a single query dearer than this; the sandbox charges at most this much."""


@dataclass(frozen=True)
class ThrottleStatus:
    """The bucket as ``extensions.cost.throttleStatus`` reports it."""

    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float]:
        """The JSON shape Shopify sends."""
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": self.restore_rate,
        }


class CostBucket:
    """One app's query-cost bucket on one shop: a :class:`~omnisdk.testing.LeakyBucket` of
    ``maximum`` points, emptying at ``restore_rate`` points per second (thread-safe).

    The bucket's level is the points in use; what Shopify calls "currently available" is the
    room left in it.
    """

    def __init__(
        self, *, maximum: float = 2000.0, restore_rate: float = 100.0, clock: Callable[[], float]
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._points = LeakyBucket(capacity=maximum, leak_rate=restore_rate, clock=clock)

    def _charge(self, requested: int) -> float:
        return min(requested, self.maximum, MAX_QUERY_COST)

    def try_charge(self, requested: int) -> bool:
        """Charge ``requested`` points if they are there; False (nothing charged) if not.

        The charge is capped at :data:`MAX_QUERY_COST`: Shopify would refuse a dearer query
        outright, the sandbox lets it through (third-party clients send such queries).
        """
        return self._points.try_fill(self._charge(requested))

    def refund(self, requested: int, actual: int) -> None:
        """Give back what was charged beyond the actual cost."""
        self._points.release(max(self._charge(requested) - actual, 0))

    def status(self) -> ThrottleStatus:
        """The bucket now."""
        return ThrottleStatus(self.maximum, self._points.room, self.restore_rate)

    def drain(self, points: float) -> None:
        """Take ``points`` out (tests use it to simulate another busy client)."""
        self._points.fill(points)


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
) -> int:
    """The calculated cost of running ``operation``."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if operation.operation.value == "mutation":
        return MUTATION_COST
    root = schema.query_type
    assert root is not None
    return _selection_cost(schema, root, operation.selection_set, fragments, variables)


def _selection_cost(
    schema: GraphQLSchema,
    parent: Any,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(schema, parent, selection, fragments, variables)
        elif isinstance(selection, InlineFragmentNode):
            target = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            total += _selection_cost(schema, target, selection.selection_set, fragments, variables)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                target = schema.get_type(fragment.type_condition.name.value)
                total += _selection_cost(
                    schema, target, fragment.selection_set, fragments, variables
                )
    return total


def _field_cost(
    schema: GraphQLSchema,
    parent: Any,
    node: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    fields = getattr(parent, "fields", None) or {}
    definition = fields.get(node.name.value)
    if definition is None:
        return 0
    named = get_named_type(definition.type)
    if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
        return 0
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        size = _argument(node, "first", variables) or _argument(node, "last", variables) or 0
        node_cost = 0
        for child in node.selection_set.selections if node.selection_set else ():
            if isinstance(child, FieldNode) and child.name.value in ("edges", "nodes"):
                inner = named.fields[child.name.value]
                node_cost = max(
                    node_cost,
                    _selection_cost(
                        schema,
                        get_named_type(inner.type),
                        child.selection_set,
                        fragments,
                        variables,
                    ),
                )
        return 2 + int(size) * node_cost
    return 1 + _selection_cost(schema, named, node.selection_set, fragments, variables)


def _argument(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, VariableNode):
                return variables.get(value.name.value)
            return int(getattr(value, "value", 0) or 0)
    return None


def actual_cost(data: Any, *, mutation: bool = False) -> int:
    """The cost of what a response holds: one point per object returned (10 per mutation)."""
    if mutation:
        return MUTATION_COST
    if isinstance(data, dict):
        own = 0 if set(data) <= {"edges", "nodes", "pageInfo", "cursor", "node"} else 1
        return own + sum(actual_cost(value) for value in data.values())
    if isinstance(data, list):
        return sum(actual_cost(item) for item in data)
    return 0
