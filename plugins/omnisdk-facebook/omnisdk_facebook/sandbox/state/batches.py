"""Items batches in flight: accepted with a handle, processed a while later, then reported.

Meta processes an ``items_batch`` asynchronously. Here a batch is ``started`` when accepted,
``in_progress`` at its first status check, and carried out at the check after
``checks_before_done`` checks (default 1), after which it reports ``finished`` with per-item
``errors``. Nothing else runs a batch, so a client that never checks never sees it applied:
that is why a client must follow its handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omnisdk_facebook.sandbox.state.catalog import Catalog

__all__ = ["Batch", "Batches"]


@dataclass
class Batch:
    """One accepted batch: its valid requests (by line) and, once done, its errors."""

    handle: str
    requests: list[tuple[int, str, dict[str, Any]]]
    allow_upsert: bool
    status: str = "started"
    checks: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def report(self, *, load_ids: bool) -> dict[str, Any]:
        """The ``check_batch_request_status`` entry of this batch."""
        body: dict[str, Any] = {
            "handle": self.handle,
            "status": self.status,
            "errors_total_count": len(self.errors),
            "errors": list(self.errors),
            "warnings_total_count": 0,
            "warnings": [],
        }
        if load_ids:
            body["ids_of_invalid_requests"] = [e["id"] for e in self.errors]
        return body


class Batches:
    """Every batch of one catalog, by handle."""

    def __init__(self, checks_before_done: int = 1) -> None:
        self.checks_before_done = checks_before_done
        self.by_handle: dict[str, Batch] = {}

    def submit(self, handle: str, requests: list[tuple[int, str, dict[str, Any]]],
               *, allow_upsert: bool) -> Batch:
        """Accept a batch of validated requests."""
        batch = Batch(handle, requests, allow_upsert)
        self.by_handle[handle] = batch
        return batch

    def check(self, handle: str, catalog: Catalog, now: datetime) -> Batch | None:
        """A status check: moves the batch on (and carries it out when due)."""
        batch = self.by_handle.get(handle)
        if batch is None or batch.status == "finished":
            return batch
        batch.checks += 1
        if batch.checks <= self.checks_before_done:
            batch.status = "in_progress"
            return batch
        for line, method, data in batch.requests:
            error = catalog.apply(method, data, allow_upsert=batch.allow_upsert, now=now)
            if error is not None:
                batch.errors.append({"line": line, "id": data["id"], "message": error})
        batch.status = "finished"
        return batch
