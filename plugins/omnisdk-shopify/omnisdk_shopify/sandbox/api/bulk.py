"""Bulk operations: run a query over whole lists, in the background, into a JSONL file.

As on Shopify, the query is validated when submitted (it must hold a connection; at most five
connections, nested at most two deep) and the mutation answers at once with the operation
``CREATED``. A worker thread then runs it: ``RUNNING`` with a growing ``objectCount``, reading
the root list a slice at a time (the shop lock is held for one slice, never for the whole
export), writing each line to a file on disk; then ``COMPLETED`` with ``fileSize`` and a
signed download ``url`` (null when nothing matched), or ``FAILED``. One query runs at a time
per app: a second ``bulkOperationRunQuery`` meanwhile is refused with Shopify's
``OPERATION_IN_PROGRESS`` user error. ``bulkOperationCancel`` moves a running operation to
``CANCELING``; the worker stops at the next slice and marks it ``CANCELED``.

Each line of the file is one object; nodes of nested connections become lines of their own
carrying ``__parentId``, placed right after their parent when ``groupObjects`` is on, after
all parents when it is off. The file is streamed to the client from disk, never held.

``duration`` (seconds of real time, default 0) makes every operation stay ``RUNNING`` at
least that long, like a big shop's export, so tests can outlast a client's timeout.
Timestamps (``createdAt``, ``completedAt``) come from the sandbox clock.

Here too are the two GraphQL mutations (``bulkOperationRunQuery``, ``bulkOperationCancel``)
and the endpoint the result files are downloaded from.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from graphql import parse
from graphql.error import GraphQLSyntaxError
from graphql.language import FieldNode, OperationDefinitionNode, SelectionSetNode
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from omnisdk.testing.api import SandboxApi, route
from omnisdk_shopify.sandbox.api.graphql.context import (
    BulkWindow,
    Resolver,
    context_of,
    user_error,
)
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

logger = logging.getLogger("omnisdk_shopify.sandbox.bulk")

MAX_CONNECTIONS = 5
MAX_DEPTH = 2
SLICE = 250
"""Root objects read per step of a running operation (the shop lock is held for one step)."""

StepRunner = Callable[[BulkWindow], dict[str, Any]]
"""Runs one step of a checked bulk query over ``window`` and returns its ``data``.

Takes the shop lock itself; raises when the query fails while running (``FAILED``)."""

Preparer = Callable[[str], StepRunner]
"""Checks a bulk query against the schema (ValueError: refused at submission) and returns
the function that runs its steps."""

ACTIVE = frozenset({"CREATED", "RUNNING", "CANCELING"})


@dataclass
class BulkOperation:
    """One bulk query and its result file (the counters grow while it runs)."""

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
    path: Path | None = None
    file_size: int | None = None
    """Size of the JSONL file in bytes (null until there is one)."""
    signature: str = field(default_factory=lambda: secrets.token_hex(16))
    graphql_type = "BulkOperation"

    def url(self, base_url: str) -> str | None:
        """The signed, unauthenticated download URL of the result file."""
        if self.status != "COMPLETED" or not self.file_size:
            return None
        return f"{base_url}/bulk/{self.id}.jsonl?signature={self.signature}"


class BulkOperations:
    """The shop's bulk operations (one running query at a time per app).

    ``lock`` is the sandbox's: every change of an operation's state is made holding it, so
    a poll sees a consistent operation. ``close`` stops the workers and deletes the files.
    """

    def __init__(
        self,
        *,
        prepare: Preparer,
        next_id: Callable[[], int],
        now: Callable[[], datetime],
        lock: AbstractContextManager[Any],
        duration: float = 0.0,
    ) -> None:
        self._prepare = prepare
        self._next_id = next_id
        self._now = now
        self._lock = lock
        self.duration = duration
        self._operations: dict[int, BulkOperation] = {}
        self._current: int | None = None
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._directory = Path(tempfile.mkdtemp(prefix="omnisdk-shopify-bulk-"))
        self._cleanup = weakref.finalize(
            self, shutil.rmtree, str(self._directory), ignore_errors=True
        )

    def get(self, number: int) -> BulkOperation | None:
        """A bulk operation by numeric id."""
        return self._operations.get(number)

    def current(self) -> BulkOperation | None:
        """The latest bulk query (``currentBulkOperation``)."""
        return self._operations.get(self._current) if self._current is not None else None

    def running(self) -> BulkOperation | None:
        """The operation still in progress, if any (a new one is refused meanwhile)."""
        current = self.current()
        return current if current is not None and current.status in ACTIVE else None

    def start(self, query: str, *, group_objects: bool) -> BulkOperation:
        """Validate ``query`` and start running it in the background; answer ``CREATED``.

        Raises ValueError when the query is refused at submission.
        """
        _check_shape(query)
        run_step = self._prepare(query)
        operation = BulkOperation(
            id=self._next_id(),
            query=query,
            status="CREATED",
            created_at=self._now(),
            group_objects=group_objects,
        )
        self._operations[operation.id] = operation
        self._current = operation.id
        worker = threading.Thread(
            target=self._work,
            args=(operation, run_step),
            name=f"shopify-bulk-{operation.id}",
            daemon=True,
        )
        self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()
        return operation

    def cancel(self, operation: BulkOperation) -> None:
        """Cancel a running operation (finished ones stay as they are)."""
        with self._lock:
            if operation.status in ("CREATED", "RUNNING"):
                operation.status = "CANCELING"

    def download(self, number: int, signature: str) -> Path | None:
        """The result file if ``signature`` matches, else None."""
        operation = self._operations.get(number)
        if operation is None or not hmac.compare_digest(
            hashlib.sha256(operation.signature.encode()).digest(),
            hashlib.sha256(signature.encode()).digest(),
        ):
            return None
        return operation.path if operation.status == "COMPLETED" else None

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no worker runs; False when one still does after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        for worker in list(self._workers):
            worker.join(max(0.0, deadline - time.monotonic()))
        return not any(worker.is_alive() for worker in self._workers)

    def stop(self) -> None:
        """Tell every worker to stop at its next step, without waiting (a reset calls it
        holding the shop lock, which a worker may be waiting for); the files go when this
        object does."""
        self._stopping.set()

    def close(self) -> None:
        """Stop every worker, wait for them, and delete the result files."""
        self.stop()
        self.wait_idle(5.0)
        self._cleanup()

    # -- the worker ------------------------------------------------------------------------

    def _work(self, operation: BulkOperation, run_step: StepRunner) -> None:
        began = time.monotonic()
        with self._lock:
            if operation.status != "CREATED":  # canceled before it began
                operation.status = "CANCELED"
                return
            operation.status = "RUNNING"
        path = self._directory / f"{operation.id}.jsonl"
        deferred_path = self._directory / f"{operation.id}.children.jsonl"
        try:
            with path.open("wb") as out, deferred_path.open("w+b") as deferred:
                finished = self._steps(operation, run_step, out, deferred)
                if finished and not operation.group_objects:
                    deferred.seek(0)
                    shutil.copyfileobj(deferred, out)
            deferred_path.unlink(missing_ok=True)
            if not finished:
                path.unlink(missing_ok=True)
                with self._lock:
                    operation.status = "CANCELED"
                return
            # A big shop's export takes a while: stay RUNNING at least ``duration`` s.
            while (
                operation.status == "RUNNING"
                and (left := self.duration - (time.monotonic() - began)) > 0
            ):
                if self._stopping.wait(min(left, 0.05)):
                    return
            with self._lock:
                if operation.status == "CANCELING":
                    operation.status = "CANCELED"
                    return
                operation.path = path
                operation.file_size = path.stat().st_size
                operation.status = "COMPLETED"
                operation.completed_at = self._now()
        except Exception:  # the query failed while running: Shopify reports FAILED
            logger.exception("bulk operation %d failed", operation.id)
            with self._lock:
                operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
                operation.completed_at = self._now()

    def _steps(
        self, operation: BulkOperation, run_step: StepRunner, out: BinaryIO, deferred: BinaryIO
    ) -> bool:
        """Run the query slice by slice into ``out``; False when stopped or canceled."""
        window = BulkWindow(size=SLICE)
        while True:
            if self._stopping.is_set() or operation.status == "CANCELING":
                return False
            data = run_step(window)
            objects = roots = 0
            for line, is_root in flatten_to_jsonl(
                data, group_objects=operation.group_objects, with_roots=True
            ):
                target = out if is_root or operation.group_objects else deferred
                target.write(line + b"\n")
                objects += 1
                roots += is_root
            with self._lock:
                operation.object_count += objects
                operation.root_object_count += roots
            # A root field that is not a searchable list is read whole, in one step.
            if window.done or window.items is None:
                return True
            window.start += window.size


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


def flatten_to_jsonl(
    data: dict[str, Any], *, group_objects: bool, with_roots: bool = False
) -> Iterator[Any]:
    """The JSONL lines of a bulk result: root nodes, and nested nodes with ``__parentId``.

    With ``with_roots`` each item is ``(line, is_root)``.
    """
    roots: list[Any] = []
    for value in data.values():
        nodes = _connection_nodes(value)
        if nodes is not None:
            roots = nodes
            break
    deferred: list[tuple[bytes, bool]] = []

    def emit(node: dict[str, Any], parent_id: str | None) -> Iterator[tuple[bytes, bool]]:
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
        yield json.dumps(own, ensure_ascii=False, separators=(",", ":")).encode(), parent_id is None
        for child, owner in children:
            lines = emit(child, owner)
            if group_objects:
                yield from lines
            else:
                deferred.extend(lines)

    def everything() -> Iterator[tuple[bytes, bool]]:
        for root in roots:
            if isinstance(root, dict):
                yield from emit(root, None)
        yield from deferred

    for line, is_root in everything():
        yield (line, is_root) if with_roots else line


# -- the GraphQL mutations and the download endpoint ------------------------------------------


def _bulk_run(_: Any, info: Info, query: str, groupObjects: bool | None = None) -> dict[str, Any]:
    context = context_of(info)
    running = context.bulk.running()
    if running is not None:
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
    context.notes.append(("bulk.start", None))
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
        path = self.sandbox.bulk.download(
            int(request.path_params["id"]), request.query_params.get("signature", "")
        )
        if path is None or not path.exists():
            return Response("AccessDenied", status_code=403, media_type="text/plain")
        return FileResponse(path, media_type="application/jsonl")
