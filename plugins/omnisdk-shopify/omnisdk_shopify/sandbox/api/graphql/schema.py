"""The executable Admin schema: the SDL file, its scalars, and the resolvers bound to it.

graphql-core parses, validates and executes every request against ``admin_schema.graphql``,
so a client asking for a field the real API lacks gets the same kind of validation error
Shopify would give. Fields the state does not model get typed defaults (``[]`` for lists,
``false``/``0``/``""`` for non-null scalars, zero money for a non-null ``MoneyBag``) so a
strict client's schema checks pass, like an empty feature on a real shop.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)
from graphql.language import ValueNode

from omnisdk_shopify.sandbox.api.bulk import BULK_MUTATION_RESOLVERS
from omnisdk_shopify.sandbox.api.graphql.context import GraphQLContext
from omnisdk_shopify.sandbox.api.graphql.inventory import INVENTORY_MUTATION_RESOLVERS
from omnisdk_shopify.sandbox.api.graphql.orders import (
    ORDER_MUTATION_RESOLVERS,
    ORDER_QUERY_RESOLVERS,
)
from omnisdk_shopify.sandbox.api.graphql.queries import QUERY_RESOLVERS
from omnisdk_shopify.sandbox.api.graphql.types import FIELD_RESOLVERS, OBJECT_TYPES
from omnisdk_shopify.sandbox.api.graphql.variants import VARIANT_MUTATION_RESOLVERS
from omnisdk_shopify.sandbox.api.graphql.webhooks import WEBHOOK_MUTATION_RESOLVERS

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info

__all__ = ["admin_schema", "default_resolver"]

_MISSING = object()
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@functools.cache
def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def _typed_default(info: Info) -> Any:
    return_type = info.return_type
    if not isinstance(return_type, GraphQLNonNull):
        return None
    inner = return_type.of_type
    if isinstance(inner, GraphQLList):
        return []
    name = getattr(inner, "name", "")
    context: GraphQLContext = info.context
    return {
        "Boolean": False,
        "Int": 0,
        "Float": 0.0,
        "UnsignedInt64": 0,
        "String": "",
        "MoneyBag": context.bag(0),
        "MoneyV2": context.money(0),
    }.get(name)


def default_resolver(obj: Any, info: Info, **_: Any) -> Any:
    """Read a field from a dict key or a snake_case attribute, else its typed default."""
    name = info.field_name
    if isinstance(obj, dict):
        value = obj.get(name, _MISSING)
    else:
        value = getattr(obj, _snake(name), _MISSING)
    if value is _MISSING or value is None:
        return _typed_default(info)
    return value


# -- scalars -------------------------------------------------------------------------------


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return str(value)


def _parse_datetime(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise GraphQLError(f"Invalid DateTime: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _serialize_decimal(value: Any) -> str:
    number = Decimal(value)
    text = format(number.normalize(), "f") if number == number.to_integral() else str(number)
    return text + ".0" if "." not in text else text


def _serialize_money(value: Any) -> str:
    return f"{Decimal(value):.2f}"


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise GraphQLError(f"Invalid decimal value: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise GraphQLError(f"Invalid decimal value: {value!r}") from None
    if not number.is_finite():
        raise GraphQLError(f"Invalid decimal value: {value!r}")
    return number


def _literal(parse: Any) -> Any:
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        raw = getattr(node, "value", None)
        if raw is None:
            raise GraphQLError("Expected a value")
        return parse(raw)

    return parse_literal


def _bind_scalars(schema: GraphQLSchema) -> None:
    scalars: dict[str, tuple[Any, Any]] = {
        "DateTime": (_serialize_datetime, _parse_datetime),
        "Decimal": (_serialize_decimal, _parse_decimal),
        "Money": (_serialize_money, _parse_decimal),
        "UnsignedInt64": (str, lambda v: int(str(v))),
        "URL": (str, str),
        "HTML": (str, str),
        "JSON": (lambda v: v, lambda v: v),
    }
    for name, (serialize, parse) in scalars.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        # graphql-core 3.2 reads serialize/parse_*; 3.3 reads the coerce_* attributes.
        for attribute, function in (
            ("serialize", serialize),
            ("parse_value", parse),
            ("parse_literal", _literal(parse)),
            ("coerce_output_value", serialize),
            ("coerce_input_value", parse),
        ):
            setattr(scalar, attribute, function)


# -- abstract types ------------------------------------------------------------------------


def _resolve_abstract(obj: Any, _info: Info, _type: Any) -> str | None:
    if isinstance(obj, dict):
        if "percentage" in obj:
            return "PricingPercentageValue"
        if "amount" in obj:
            return "MoneyV2"
        if "accessScopes" in obj:
            return "AppInstallation"
        return None
    name = OBJECT_TYPES.get(type(obj)) or getattr(obj, "graphql_type", None)
    if name is None and type(obj).__name__ == "Shop":
        return "Shop"
    return name


def _bind_resolvers(schema: GraphQLSchema) -> None:
    roots = {
        "QueryRoot": {**QUERY_RESOLVERS, **ORDER_QUERY_RESOLVERS},
        "Mutation": {
            **INVENTORY_MUTATION_RESOLVERS,
            **VARIANT_MUTATION_RESOLVERS,
            **BULK_MUTATION_RESOLVERS,
            **WEBHOOK_MUTATION_RESOLVERS,
            **ORDER_MUTATION_RESOLVERS,
        },
        **FIELD_RESOLVERS,
    }
    for type_name, resolvers in roots.items():
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType), type_name
        for field_name, resolver in resolvers.items():
            if field_name not in graphql_type.fields:
                raise KeyError(f"{type_name}.{field_name} is not in the schema")
            graphql_type.fields[field_name].resolve = resolver
    for graphql_type in schema.type_map.values():
        if hasattr(graphql_type, "resolve_type") and not isinstance(graphql_type, GraphQLEnumType):
            graphql_type.resolve_type = _resolve_abstract


@functools.cache
def admin_schema() -> GraphQLSchema:
    """The executable schema (built once per process; resolvers are stateless)."""
    sdl = resources.files("omnisdk_shopify.sandbox.api.graphql").joinpath("admin_schema.graphql")
    schema = build_schema(sdl.read_text(encoding="utf-8"))
    _bind_scalars(schema)
    _bind_resolvers(schema)
    return schema
