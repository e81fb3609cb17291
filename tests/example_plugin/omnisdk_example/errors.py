"""The Example platform's error answers as omnisdk errors.

Whole calls that fail answer an HTTP error status with ``{"error": code, "message": ...}``
(:func:`error_for_response`, run by the channel's HTTP client on every response); batch
writes answer 200 with one result per item, failed ones ``{"ok": false, "error": code,
"message": ..., "actual"?}`` (:func:`write_results`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from omnisdk import PriceUpdate, StockUpdate, WriteResult
from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    NotFound,
    PlatformUnavailable,
    RateLimited,
)
from omnisdk.models import canonical_sku

__all__ = ["error_for_response", "write_results"]


def error_for_response(response: httpx.Response) -> ChannelError | None:
    """The error an HTTP error answer means, or None for a success.

    Raises :class:`ValueError` for an error answer that is not the platform's JSON (a
    proxy's HTML page): the HTTP client then judges by the status code alone.
    """
    status = response.status_code
    if status < 400:
        return None
    body: Any = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        raise ValueError("not an Example error body")
    code = body["error"]
    message = str(body.get("message") or response.reason_phrase or "error")
    if status in (401, 403):
        return AuthError(f"{code}: {message}")
    if status == 429:
        return RateLimited(message)
    if status in (404, 410):
        return NotFound(message, code=code)
    if status == 408 or status >= 500:
        return PlatformUnavailable(f"{code}: {message}")
    return BadRequest(message, code=code)


def write_results(
    batch: Sequence[StockUpdate | PriceUpdate], answers: list[dict[str, Any]]
) -> list[WriteResult]:
    """The platform's per-item answers as WriteResults, in the batch's order."""
    results = []
    for update, answer in zip(batch, answers, strict=True):
        if canonical_sku(answer.get("sku")) != update.sku:
            raise ValueError(f"result for {answer.get('sku')!r} where {update.sku!r} was sent")
        if answer["ok"]:
            results.append(WriteResult.success(update.sku))
        else:
            results.append(
                WriteResult.failure(
                    update.sku,
                    answer["message"],
                    code=answer["error"],
                    retryable=False,
                    actual=answer.get("actual"),
                )
            )
    return results
