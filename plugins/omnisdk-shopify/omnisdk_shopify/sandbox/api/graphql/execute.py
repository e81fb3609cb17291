"""The ``graphql.json`` endpoint's logic: parse, validate, charge the cost bucket, execute.

Answers follow Shopify: HTTP 200 with ``{"data", "errors"?, "extensions": {"cost": ...}}``;
a syntax or validation error is a top-level ``errors`` list with no ``data``; an empty bucket
is ``{"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}`` with
``actualQueryCost: null``.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError

from omnisdk_shopify.sandbox.api.graphql.context import GraphQLContext
from omnisdk_shopify.sandbox.api.graphql.cost import CostBucket, actual_cost, requested_cost
from omnisdk_shopify.sandbox.api.graphql.schema import admin_schema, default_resolver

__all__ = ["check_unbounded", "execute_unbounded", "run_graphql"]


def _errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [dict(error.formatted) for error in errors]


def run_graphql(
    payload: Any, context: GraphQLContext, bucket: CostBucket
) -> tuple[int, dict[str, Any]]:
    """Answer one GraphQL request: ``(http_status, body)``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return 400, {"errors": {"query": "Required parameter missing or invalid"}}
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return 400, {"errors": {"variables": "must be an object"}}
    schema = admin_schema()
    try:
        document = parse(payload["query"])
    except GraphQLSyntaxError as exc:
        return 200, {"errors": _errors([exc])}
    problems = validate(schema, document)
    if problems:
        return 200, {"errors": _errors(problems)}
    operation_name = payload.get("operationName")
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 200, {"errors": [{"message": "An operation name is required"}]}
    requested = requested_cost(schema, document, operation, variables)
    if not bucket.try_charge(requested):
        return 200, _throttled(requested, bucket)
    result = execute_sync(
        schema,
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=context,
        field_resolver=default_resolver,
    )
    actual = actual_cost(result.data, mutation=operation.operation.value == "mutation")
    bucket.refund(requested, actual)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = _errors(list(result.errors))
    extensions: dict[str, Any] = {"cost": _cost(requested, actual, bucket)}
    if context.search_warnings:
        extensions["search"] = context.search_warnings
    body["extensions"] = extensions
    return 200, body


def _cost(requested: int, actual: int | None, bucket: CostBucket) -> dict[str, Any]:
    """``extensions.cost``: what the query was estimated at and charged, and the bucket now."""
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": bucket.status().as_json(),
    }


def _throttled(requested: int, bucket: CostBucket) -> dict[str, Any]:
    """The answer to a query the bucket cannot pay for (nothing was charged)."""
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {"cost": _cost(requested, None, bucket)},
    }


def check_unbounded(query: str) -> DocumentNode:
    """Parse and validate a bulk query; ValueError when it is invalid against the schema."""
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise ValueError(f"Invalid bulk query: {exc.message}") from None
    problems = validate(admin_schema(), document)
    if problems:
        raise ValueError("; ".join(problem.message for problem in problems))
    return document


def execute_unbounded(document: DocumentNode, context: GraphQLContext) -> dict[str, Any]:
    """Run a checked bulk query (:func:`check_unbounded`): lists need no ``first``.

    An error while running raises RuntimeError.
    """
    context.unbounded = True
    result: ExecutionResult = execute_sync(
        admin_schema(), document, context_value=context, field_resolver=default_resolver
    )
    if result.errors:
        raise RuntimeError("; ".join(error.message for error in result.errors))
    return result.data or {}
