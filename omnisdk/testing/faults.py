"""Fault injection for sandboxes: rate limits, server errors, latency, dropped connections
and time-outs after the platform acted.

:class:`FaultSettings` is what ``POST /_sandbox/faults`` takes. :class:`FaultInjector` is the
outermost ASGI layer of every sandbox app: it applies the settings to the platform's own
routes (never to ``/_sandbox/*``) and records every platform request in the sandbox's
request log, so tests can count the calls a channel made.

A dropped connection really drops. Served by uvicorn, the socket is aborted before a byte of
the response is written, so the client sees ``httpx.RemoteProtocolError`` ("Server
disconnected without sending a response"). In-process under :class:`httpx.ASGITransport`,
which has no socket, the app raises that same ``httpx.RemoteProtocolError``, which the
transport hands to the client unchanged.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CONTROL_PREFIX",
    "NOTE_SCOPE_KEY",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "FaultSettings",
    "RequestRecord",
]

CONTROL_PREFIX = "/_sandbox"
"""Paths under this prefix are the control API: never faulted, never logged as platform calls."""

NOTE_SCOPE_KEY = "omnisdk.sandbox.note"
"""The ASGI scope key under which a platform handler notes what a request did."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class FaultSettings(BaseModel):
    """How a sandbox misbehaves. All rates are probabilities per request (0 to 1).

    ``error_rate``
        Share of platform requests answered with one of ``error_statuses`` (429 carries a
        ``Retry-After`` of ``retry_after`` seconds; so does 503).
    ``latency``
        Seconds added before every platform response.
    ``drop_rate``
        Share of platform requests whose connection is dropped without an answer.
    ``only_paths``
        Path prefixes the request faults apply to (None: every platform path).
    ``webhook_duplicate_rate``
        Share of webhook deliveries sent twice (same delivery id, as platforms redeliver).
    ``webhook_reorder``
        Deliver webhooks out of order: each odd delivery is held back until the next one has
        gone (or until :meth:`~omnisdk.testing.sandbox.Sandbox.drain_webhooks`).
    ``webhook_delay``
        Seconds to wait before each webhook delivery.
    ``drop_first``, ``fail_first``
        The next ``drop_first`` platform requests are dropped, then the next ``fail_first``
        get an error status, whatever the rates: a fault a test can count on.
    ``timeout_after_acting``
        The next ``timeout_after_acting`` matching platform requests are carried out (the
        platform acts: the order ships, the export starts) and then never answered, so the
        client times out not knowing it worked: the fault that proves a client never repeats
        a write that may have acted. Matching means within ``only_paths`` and, when
        ``timeout_operations`` is given, noted by the handler as one of those operations
        (``"bulk.start"``, ``"stock.write"``; see
        :meth:`~omnisdk.testing.sandbox.Sandbox.note_operation`), which tells calls apart
        that share a path (GraphQL). Served by uvicorn, the answer is held back until the
        client gives up (at most ``timeout_hold`` seconds), then the connection is aborted;
        in-process the app raises ``httpx.ReadTimeout``.
    ``seed``
        When given, re-seeds the sandbox's random generators, so a run is reproducible.

    ``POST /_sandbox/faults`` replaces the settings as a whole: fields left out go back to
    their defaults (no faults).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_statuses: list[int] = Field(default_factory=lambda: [429, 500, 502, 503], min_length=1)
    retry_after: float = Field(default=0.0, ge=0.0)
    latency: float = Field(default=0.0, ge=0.0, le=60.0)
    drop_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    only_paths: list[str] | None = None
    webhook_duplicate_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    webhook_reorder: bool = False
    webhook_delay: float = Field(default=0.0, ge=0.0, le=60.0)
    drop_first: int = Field(default=0, ge=0)
    fail_first: int = Field(default=0, ge=0)
    timeout_after_acting: int = Field(default=0, ge=0)
    timeout_operations: list[str] | None = None
    timeout_hold: float = Field(default=60.0, gt=0.0, le=600.0)
    seed: int | None = None

    @field_validator("error_statuses")
    @classmethod
    def _error_statuses(cls, value: list[int]) -> list[int]:
        bad = [status for status in value if not 400 <= status <= 599]
        if bad:
            raise ValueError(f"error statuses must be 4xx or 5xx, got {bad}")
        return value

    def applies_to(self, path: str) -> bool:
        """True when request faults apply to ``path`` (never to the control API)."""
        if is_control_path(path):
            return False
        if self.only_paths is None:
            return True
        return any(path.startswith(prefix) for prefix in self.only_paths)


class FaultKind(enum.StrEnum):
    """What the fault injector did to a request."""

    ERROR = "error"
    DROP = "drop"
    TIMEOUT_AFTER_ACTING = "timeout_after_acting"


@dataclass(frozen=True)
class Fault:
    """One injected fault: an error status (with its Retry-After) or a dropped connection."""

    kind: FaultKind
    status: int | None = None
    retry_after: float | None = None


@dataclass
class RequestRecord:
    """One platform request as the sandbox saw it.

    ``status`` is None when the connection was dropped. ``operation`` and ``items`` are what
    the platform handler noted with :meth:`~omnisdk.testing.sandbox.Sandbox.note_operation`
    (e.g. ``"stock.write"`` carrying 20 items).
    """

    method: str
    path: str
    query: str
    status: int | None = None
    fault: FaultKind | None = None
    operation: str | None = None
    items: int | None = None
    at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-able data (for ``GET /_sandbox/requests``)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "fault": self.fault.value if self.fault else None,
            "operation": self.operation,
            "items": self.items,
            "at": self.at,
        }


class FaultHost(Protocol):
    """What :class:`FaultInjector` needs from the sandbox it guards."""

    @property
    def faults(self) -> FaultSettings:
        """The current fault settings."""

    def draw_fault(self, path: str) -> Fault | None:
        """Decide (with the sandbox's seeded generator) whether this request fails."""

    def fault_body(self, status: int) -> dict[str, Any]:
        """The JSON body of an injected error in the platform's own error shape."""

    def record_request(self, record: RequestRecord) -> None:
        """Append to the request log."""

    def take_timeout_after_acting(self, path: str, operation: str | None) -> bool:
        """Whether this request, already carried out, is to go unanswered (and count it)."""


def is_control_path(path: str) -> bool:
    """True for the sandbox control API's paths."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class FaultInjector:
    """ASGI middleware that injects the host's faults into platform routes and logs requests."""

    def __init__(self, app: ASGIApp, host: FaultHost) -> None:
        self.app = app
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        record = RequestRecord(method=scope["method"], path=scope["path"], query=query)
        note: dict[str, Any] = {}
        scope[NOTE_SCOPE_KEY] = note
        logged = False

        def log_once() -> None:
            # Logged before the response goes out, so a client that has its answer can rely
            # on the log already holding the call.
            nonlocal logged
            if not logged:
                logged = True
                record.operation = note.get("operation")
                record.items = note.get("items")
                self.host.record_request(record)

        try:
            settings = self.host.faults
            if settings.latency and settings.applies_to(scope["path"]):
                await asyncio.sleep(settings.latency)
            fault = self.host.draw_fault(scope["path"])
            if fault is not None and fault.kind is FaultKind.DROP:
                record.fault = FaultKind.DROP
                log_once()
                await _drop_connection(receive, send)
                return
            if fault is not None:
                record.fault = FaultKind.ERROR
                record.status = fault.status
                log_once()
                await _send_error(send, fault, self.host.fault_body(fault.status or 500))
                return

            withheld = False

            async def send_and_record(message: Message) -> None:
                nonlocal withheld
                if message["type"] == "http.response.start":
                    # The handler has acted and noted what it did: now decide whether the
                    # client is to hear about it.
                    withheld = self.host.take_timeout_after_acting(
                        scope["path"], note.get("operation")
                    )
                    if withheld:
                        record.fault = FaultKind.TIMEOUT_AFTER_ACTING
                    else:
                        record.status = int(message["status"])
                    log_once()
                if not withheld:
                    await send(message)

            await self.app(scope, receive, send_and_record)
            if withheld:
                await _time_out(receive, send, settings.timeout_hold)
        finally:
            log_once()


async def _send_error(send: Send, fault: Fault, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if fault.retry_after is not None and fault.status in (429, 503):
        headers.append((b"retry-after", f"{fault.retry_after:g}".encode()))
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


async def _time_out(receive: Receive, send: Send, hold: float) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and callable(getattr(transport, "abort", None)):
        # Say nothing until the client gives up and hangs up (or ``hold`` runs out).
        try:
            async with asyncio.timeout(hold):
                while (await receive())["type"] != "http.disconnect":
                    pass
        except TimeoutError:
            pass
        transport.abort()
        return
    raise httpx.ReadTimeout("the platform acted but its answer never came (injected)")


async def _drop_connection(receive: Receive, send: Send) -> None:
    # uvicorn's send is a bound method of its request cycle, which holds the socket's
    # transport; aborting it is what a crashed or overloaded server looks like to a client.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and callable(getattr(transport, "abort", None)):
        transport.abort()
        # Wait for the server to notice, so it does not answer on our behalf.
        async with asyncio.timeout(5):
            while (await receive())["type"] != "http.disconnect":
                pass
        return
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
