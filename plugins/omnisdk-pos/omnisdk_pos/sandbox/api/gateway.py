"""What every KiotViet API call passes, and the request/response shapes the areas share.

:class:`KiotVietApi` is the base of the areas: :meth:`KiotVietApi.endpoint` puts each
endpoint behind the checks (``Authorization: Bearer`` with a live token, a matching
``Retailer`` header, the hourly GET budget) and turns any refusal into KiotViet's error
envelope ``{"responseStatus": {"errorCode", "message", "errors"}}``.

Tolerance (pos.md section 7): query keys are read case-insensitively, arrays as
``branchIds=1,2``, repeated keys or ``branchIds[]=``; bodies as JSON or form-encoded, with
keys in any case (``OrderDetails`` = ``orderDetails``); paging is ``pageSize`` (default 20,
at most 100) and ``currentItem`` (0-based offset).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import OutOfStock, SandboxError, UnknownObject
from omnisdk_pos.timefmt import format_offset, parse_time

if TYPE_CHECKING:
    from omnisdk_pos.sandbox.app import KiotVietSandbox  # noqa: F401 (in the base class)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "KiotVietApi",
    "KiotVietError",
    "Query",
    "kv_json",
    "normalise_keys",
    "page_of",
    "read_body",
]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

Row = TypeVar("Row")
Endpoint = Callable[[Request], Awaitable[Response]]


class KiotVietError(SandboxError):
    """A refusal in KiotViet's envelope: ``errorCode`` and a (Vietnamese) message."""

    def __init__(
        self, status: int, error_code: str, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = error_code
        self.retry_after = retry_after

    def envelope(self) -> dict[str, Any]:
        """The JSON body KiotViet answers with."""
        return {"responseStatus": {"errorCode": self.code, "message": self.message, "errors": []}}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return format_offset(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def kv_json(data: Any) -> bytes:
    """KiotViet's JSON: compact UTF-8, numbers as numbers (``199000``, ``0.5``)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_plain).encode()


def normalise_keys(value: Any) -> Any:
    """Body keys with a lower-case first letter, nested (``OrderDetails`` -> ``orderDetails``)."""
    if isinstance(value, dict):
        return {str(k)[:1].lower() + str(k)[1:]: normalise_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_keys(item) for item in value]
    return value


async def read_body(request: Request) -> dict[str, Any]:
    """The request body as a dict, from JSON or a form (``a[0][b]`` form keys are not nested:
    KiotViet's PHP SDK sends flat forms or JSON)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    kind = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in kind:
        decoded: Any = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    else:
        try:
            decoded = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise KiotVietError(400, "BadRequest", "Dữ liệu gửi lên không phải JSON") from None
    if not isinstance(decoded, dict):
        raise KiotVietError(400, "BadRequest", "Dữ liệu gửi lên phải là một đối tượng JSON")
    normalised: dict[str, Any] = normalise_keys(decoded)
    return normalised


class Query:
    """The query string read KiotViet's tolerant way (see the module docstring)."""

    def __init__(self, request: Request) -> None:
        self._pairs = [
            (key.lower().removesuffix("[]"), value)
            for key, value in request.query_params.multi_items()
        ]

    def get(self, name: str) -> str | None:
        """The first value of ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self._pairs if key == wanted), None)

    def values(self, name: str) -> list[str]:
        """Every value of array parameter ``name`` (comma lists and repeats)."""
        wanted = name.lower()
        found: list[str] = []
        for key, value in self._pairs:
            if key == wanted:
                found += [part.strip() for part in value.split(",") if part.strip()]
        return found

    def ints(self, name: str) -> list[int]:
        """Array parameter ``name`` as integers (400 naming it otherwise)."""
        try:
            return [int(value) for value in self.values(name)]
        except ValueError:
            raise KiotVietError(400, "BadRequest", f"{name} phải là danh sách số") from None

    def int(self, name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
        """Integer parameter ``name`` within bounds (400 otherwise)."""
        raw = self.get(name)
        try:
            value = default if raw in (None, "") else int(str(raw))
        except ValueError:
            raise KiotVietError(400, "BadRequest", f"{name} phải là số nguyên") from None
        if value < low or (high is not None and value > high):
            raise KiotVietError(400, "BadRequest", f"{name} phải từ {low} đến {high}")
        return value

    def flag(self, name: str) -> bool:
        """Boolean parameter ``name`` (``true``/``false``, any case)."""
        return (self.get(name) or "").strip().lower() in ("true", "1")

    def time(self, name: str) -> datetime | None:
        """Date parameter ``name`` (local time without an offset), or None."""
        raw = self.get(name)
        if not raw:
            return None
        try:
            return parse_time(raw)
        except ValueError:
            raise KiotVietError(400, "BadRequest", f"{name} không phải ngày giờ hợp lệ") from None


def page_of(query: Query, rows: Sequence[Row]) -> tuple[list[Row], int, int]:
    """This page of ``rows``: ``(page, total, pageSize)`` from ``currentItem``/``pageSize``."""
    size = query.int("pageSize", DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    start = query.int("currentItem", 0, low=0)
    return list(rows[start : start + size]), len(rows), size


class KiotVietApi(SandboxApi["KiotVietSandbox"]):
    """Base of the KiotViet API areas: every endpoint is checked and speaks the envelope."""

    def endpoint(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler`` behind the token, ``Retailer`` and GET-budget checks."""
        serve: Endpoint = handler
        sandbox = self.sandbox

        async def checked(request: Request) -> Response:
            try:
                sandbox.admit(request)
                return await serve(request)
            except KiotVietError:
                raise
            except OutOfStock as exc:
                raise KiotVietError(400, "BadRequest", f"Không đủ tồn kho: {exc.message}") from None
            except UnknownObject as exc:
                raise KiotVietError(404, "NotFound", f"Không tìm thấy: {exc.message}") from None
            except SandboxError as exc:
                raise KiotVietError(exc.status, "BadRequest", exc.message) from None

        return checked

    def listing(self, query: Query, rows: Sequence[dict[str, Any]], **extra: Any) -> Response:
        """A paged list answer ``{total, pageSize, data, timestamp}`` (+ ``extra``)."""
        page, total, size = page_of(query, rows)
        body = {
            "total": total,
            "pageSize": size,
            "data": page,
            "timestamp": format_offset(self.sandbox.clock.now()),
            **extra,
        }
        return json_response(body, encode=kv_json)

    def answer(self, data: Any, status: int = 200) -> Response:
        """A JSON answer in KiotViet's encoding."""
        return json_response(data, status, encode=kv_json)
