"""KiotViet's clock: REST dates are Vietnam local time without an offset, 7 fraction digits.

``2023-12-27T11:01:41.6630000`` is 11:01 in Hồ Chí Minh City (UTC+07:00, no daylight
saving). The list ``timestamp`` and webhook payloads carry the offset
(``2024-03-04T23:39:24.1470000+07:00``). Both the channel and the sandbox use these helpers,
so the two agree on every instant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["VN_TZ", "format_local", "format_offset", "parse_time"]

VN_TZ = timezone(timedelta(hours=7), "ICT")
"""Vietnam's time zone (Indochina Time, UTC+07:00 all year)."""

_FRACTION = re.compile(r"(\.\d+)")


def format_local(when: datetime) -> str:
    """``when`` as KiotViet's REST writes it: Vietnam local time, 7 digits, no offset."""
    local = when.astimezone(VN_TZ)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def format_offset(when: datetime) -> str:
    """``when`` as KiotViet's webhooks and list timestamps write it (``...+07:00``)."""
    return format_local(when) + "+07:00"


def parse_time(text: str) -> datetime:
    """A KiotViet date as an aware datetime; one without an offset is Vietnam local time.

    Accepts 0 to 7 fraction digits (Python reads at most 6) and a trailing ``Z``. Raises
    ``ValueError`` naming the text when it is not a date.
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"

    def six(match: re.Match[str]) -> str:
        digits = match.group(1)[1:]
        return "." + (digits + "000000")[:6]

    normalised = _FRACTION.sub(six, raw, count=1)
    try:
        when = datetime.fromisoformat(normalised)
    except ValueError:
        raise ValueError(f"not a KiotViet date: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=VN_TZ)
    return when.astimezone(UTC)
