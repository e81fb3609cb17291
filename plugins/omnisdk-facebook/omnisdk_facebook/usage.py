"""Meta's usage headers, read so the rate limiter slows down before Meta throttles.

Every Graph answer may carry ``X-App-Usage`` (``{"call_count", "total_time",
"total_cputime"}``, percent of the app's limit), ``X-Page-Usage`` (same shape) and
``X-Business-Use-Case-Usage`` (``{"<business id>": [{"type": "catalog_batch", "call_count",
"total_time", "total_cputime", "estimated_time_to_regain_access"}]}``, the regain time in
minutes). Meta throttles once any figure reaches 100; :meth:`Usage.pause` says how long the
account's requests should wait: the announced regain time, else a minute at 100 %, else a
short breath from :data:`SLOW_DOWN_AT` on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BUSINESS_USAGE_HEADER",
    "SLOW_DOWN_AT",
    "USAGE_HEADERS",
    "Usage",
    "read_usage",
]

BUSINESS_USAGE_HEADER = "x-business-use-case-usage"
"""The business-use-case (BUC) usage header: per business object, per use case."""
USAGE_HEADERS = ("x-app-usage", "x-page-usage")
"""Headers with one flat ``{"call_count", "total_time", "total_cputime"}`` object."""
SLOW_DOWN_AT = 90.0
"""From this percent of any limit on, requests pause briefly (Meta throttles at 100)."""
SLOW_DOWN_PAUSE = 1.0
"""Seconds of the brief pause between :data:`SLOW_DOWN_AT` and 100 %."""
THROTTLED_PAUSE = 60.0
"""Seconds to wait at 100 % when Meta announces no regain time."""
_METRICS = ("call_count", "total_time", "total_cputime")


@dataclass(frozen=True)
class Usage:
    """The highest percentage any usage header reported and the longest regain time."""

    highest: float
    regain_seconds: float = 0.0
    use_case: str | None = None

    def pause(self) -> float:
        """Seconds the account's requests should wait now (0: none)."""
        if self.regain_seconds > 0:
            return self.regain_seconds
        if self.highest >= 100:
            return THROTTLED_PAUSE
        if self.highest >= SLOW_DOWN_AT:
            return SLOW_DOWN_PAUSE
        return 0.0


def _figure(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if number == number and 0 <= number < 1e6 else 0.0  # NaN, absurd: ignored


def _decode(raw: str | None) -> Any:
    if not raw or len(raw) > 65_536:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _use_cases(body: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(body, dict):
        return
    for entries in body.values():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                yield entry


def read_usage(headers: Mapping[str, str]) -> Usage | None:
    """The usage a response's headers report, or None when they report none.

    A header that is not the JSON Meta sends is ignored: usage is advice, never a failure.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    found = False
    highest = 0.0
    regain = 0.0
    use_case: str | None = None
    for name in USAGE_HEADERS:
        body = _decode(lowered.get(name))
        if isinstance(body, dict):
            found = True
            highest = max([highest, *(_figure(body.get(m)) for m in _METRICS)])
    for entry in _use_cases(_decode(lowered.get(BUSINESS_USAGE_HEADER))):
        found = True
        figure = max(_figure(entry.get(m)) for m in _METRICS)
        minutes = _figure(entry.get("estimated_time_to_regain_access"))
        if figure >= highest:
            highest, use_case = figure, _name(entry.get("type"))
        regain = max(regain, minutes * 60.0)
    if not found:
        return None
    return Usage(highest=highest, regain_seconds=regain, use_case=use_case)


def _name(value: Any) -> str | None:
    return str(value)[:64] if isinstance(value, str) else None
