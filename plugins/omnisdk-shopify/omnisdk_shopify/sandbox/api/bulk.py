"""Bulk operations: run a query over whole lists and serve the result as a JSONL file.

Like Shopify, the query is validated when submitted (it must hold a connection; at most five
connections, nested at most two deep), answered ``CREATED``, and read back ``COMPLETED`` with
a signed download ``url`` (null when nothing matched). Each line of the file is one object;
nodes of nested connections become lines of their own carrying ``__parentId``, placed right
after their parent when ``groupObjects`` is on, after all parents when it is off.

Here too are the two GraphQL mutations (``bulkOperationRunQuery``, ``bulkOperationCancel``)
and the endpoint the result files are downloaded from.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import parse
from graphql.error import GraphQLSyntaxError
from graphql.language import FieldNode, OperationDefinitionNode, SelectionSetNode
from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi, route
from omnisdk_shopify.sandbox.api.graphql.context import Resolver, context_of, user_error
from omnisdk_shopify.sandbox.state.records import gid, parse_gid

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.api.graphql.context import Info
    from omnisdk_shopify.sandbox.app import ShopifySandbox  # noqa: F401 (in the base class)

__all__ = [
    "BULK_MUTATION_RESOLVERS",
    "BulkDownloadApi",
    "BulkOperation",
    "BulkOperations",
    "flatten_to_jsonl",
]

MAX_CONNECTIONS = 5
MAX_DEPTH = 2

Executor = Callable[[str], dict[str, Any]]
"""Runs a query without page-size limits and returns its ``data``.

Raises ValueError when the query is invalid (refused at submission), anything else when it
fails while running (the operation ends ``FAILED``)."""


@dataclass
class BulkOperation:
    """One bulk query and its result file."""

    id: int
    query: str
    status: str
    created_at: datetime
    group_objects: bool
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    error_code: str | None = None
    type: str = "QUERY"
    content: bytes = b""
    signature: str = field(default_factory=lambda: secrets.token_hex(16))
    graphql_type = "BulkOperation"

    @property
    def file_size(self) -> int | None:
        """Size of the JSONL file in bytes (null until there is one)."""
        return len(self.content) if self.content else None

    def url(self, base_url: str) -> str | None:
        """The signed, unauthenticated download URL of the result file."""
        if self.status != "COMPLETED" or not self.content:
            return None
        return f"{base_url}/bulk/{self.id}.jsonl?signature={self.signature}"


class BulkOperations:
    """The shop's bulk operations (one running query at a time per app, as before 2026-01)."""

    def __init__(
        self, *, executor: Executor, next_id: Callable[[], int], now: Callable[[], datetime]
    ) -> None:
        self._executor = executor
        self._next_id = next_id
        self._now = now
        self._operations: dict[int, BulkOperation] = {}
        self._current: int | None = None

    def get(self, number: int) -> BulkOperation | None:
        """A bulk operation by numeric id."""
        return self._operations.get(number)

    def current(self) -> BulkOperation | None:
        """The latest bulk query (``currentBulkOperation``)."""
        return self._operations.get(self._current) if self._current is not None else None

    def start(self, query: str, *, group_objects: bool) -> BulkOperation:
        """Validate and run ``query``; return the operation as the mutation reports it."""
        _check_shape(query)
        operation = BulkOperation(
            id=self._next_id(),
            query=query,
            status="RUNNING",
            created_at=self._now(),
            group_objects=group_objects,
        )
        try:
            data = self._executor(query)
        except ValueError:  # invalid against the schema: refused at submission
            raise
        except Exception:  # the query failed while running: Shopify reports FAILED
            self._operations[operation.id] = operation
            self._current = operation.id
            operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            operation.completed_at = self._now()
            return replace(operation, status="CREATED", completed_at=None)
        self._operations[operation.id] = operation
        self._current = operation.id
        lines = list(flatten_to_jsonl(data, group_objects=group_objects))
        operation.content = b"".join(line + b"\n" for line in lines)
        operation.object_count = len(lines)
        operation.root_object_count = sum(1 for line in lines if b'"__parentId"' not in line)
        operation.status = "COMPLETED"
        operation.completed_at = self._now()
        return replace(operation, status="CREATED", completed_at=None, content=b"")

    def cancel(self, operation: BulkOperation) -> None:
        """Cancel a running operation (finished ones stay as they are)."""
        if operation.status in ("CREATED", "RUNNING"):
            operation.status = "CANCELED"

    def download(self, number: int, signature: str) -> bytes | None:
        """The result file if ``signature`` matches, else None."""
        operation = self._operations.get(number)
        if operation is None or not hmac.compare_digest(
            hashlib.sha256(operation.signature.encode()).digest(),
            hashlib.sha256(signature.encode()).digest(),
        ):
            return None
        return operation.content


def _check_shape(query: str) -> None:
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise ValueError(f"Invalid bulk query: {exc.message}") from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        raise ValueError("Invalid bulk query: a bulk query must hold exactly one query.")
    counts: list[int] = []

    def walk(selection_set: SelectionSetNode | None, depth: int) -> None:
        for selection in selection_set.selections if selection_set else ():
            if not isinstance(selection, FieldNode) or selection.selection_set is None:
                continue
            names = {
                s.name.value for s in selection.selection_set.selections if isinstance(s, FieldNode)
            }
            inner_depth = depth
            if "edges" in names or "nodes" in names:
                inner_depth = depth + 1
                counts.append(inner_depth)
            walk(selection.selection_set, inner_depth)

    walk(operations[0].selection_set, 0)
    if not counts:
        raise ValueError("Invalid bulk query: Bulk queries must contain at least one connection.")
    if len(counts) > MAX_CONNECTIONS:
        raise ValueError(
            f"Invalid bulk query: Queries that contain more than "
            f"{MAX_CONNECTIONS} connections are not supported."
        )
    if max(counts) > MAX_DEPTH:
        raise ValueError(
            f"Invalid bulk query: Bulk queries cannot contain connections with a "
            f"nesting depth greater than {MAX_DEPTH}."
        )


def _connection_nodes(value: Any) -> list[Any] | None:
    if not isinstance(value, dict) or not ({"edges", "nodes"} & set(value)):
        return None
    if "edges" in value:
        return [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]
    return list(value["nodes"])


def flatten_to_jsonl(data: dict[str, Any], *, group_objects: bool) -> Iterator[bytes]:
    """The JSONL lines of a bulk result: root nodes, and nested nodes with ``__parentId``."""
    roots: list[Any] = []
    for value in data.values():
        nodes = _connection_nodes(value)
        if nodes is not None:
            roots = nodes
            break
    deferred: list[bytes] = []

    def emit(node: dict[str, Any], parent_id: str | None) -> Iterator[bytes]:
        own = {}
        children: list[tuple[dict[str, Any], str | None]] = []
        for key, value in node.items():
            nested = _connection_nodes(value)
            if nested is None:
                own[key] = value
            else:
                children += [(child, node.get("id")) for child in nested if isinstance(child, dict)]
        if parent_id is not None:
            own["__parentId"] = parent_id
        yield json.dumps(own, ensure_ascii=False, separators=(",", ":")).encode()
        for child, owner in children:
            lines = emit(child, owner)
            if group_objects:
                yield from lines
            else:
                deferred.extend(lines)

    for root in roots:
        if isinstance(root, dict):
            yield from emit(root, None)
    yield from deferred


# -- the GraphQL mutations and the download endpoint ------------------------------------------


def _bulk_run(_: Any, info: Info, query: str, groupObjects: bool | None = None) -> dict[str, Any]:
    context = context_of(info)
    running = context.bulk.current()
    if running is not None and running.status in ("CREATED", "RUNNING"):
        message = (
            f"A bulk query operation for this app and shop is already in progress: "
            f"{gid('BulkOperation', running.id)}."
        )
        return {
            "bulkOperation": None,
            "userErrors": [user_error("OPERATION_IN_PROGRESS", ["query"], message)],
        }
    if groupObjects is None:  # the default flipped to false in 2026-01
        groupObjects = context.api_version < "2026-01"
    try:
        operation = context.bulk.start(query, group_objects=groupObjects)
    except ValueError as exc:
        return {"bulkOperation": None, "userErrors": [user_error("INVALID", ["query"], str(exc))]}
    return {"bulkOperation": operation, "userErrors": []}


def _bulk_cancel(_: Any, info: Info, id: str) -> dict[str, Any]:
    operation = context_of(info).bulk.get(parse_gid(id, "BulkOperation"))
    if operation is None:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
        }
    context_of(info).bulk.cancel(operation)
    return {"bulkOperation": operation, "userErrors": []}


BULK_MUTATION_RESOLVERS: dict[str, Resolver] = {
    "bulkOperationRunQuery": _bulk_run,
    "bulkOperationCancel": _bulk_cancel,
}


class BulkDownloadApi(SandboxApi["ShopifySandbox"]):
    """The result files' download endpoint of one sandbox (signed URLs, as on Shopify's CDN)."""

    @route("GET", "/bulk/{id:int}.jsonl")
    async def download(self, request: Request) -> Response:
        """``GET /bulk/{id}.jsonl?signature=...``: the JSONL file, 403 for a bad signature."""
        content = self.sandbox.bulk.download(
            int(request.path_params["id"]), request.query_params.get("signature", "")
        )
        if content is None:
            return Response("AccessDenied", status_code=403, media_type="text/plain")
        return Response(content, media_type="application/jsonl")
