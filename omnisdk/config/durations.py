"""Durations as people write them in a config or on the command line: ``30s``, ``6h``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["Duration", "parse_duration"]

_DURATION = re.compile(r"(?:\d+(?:\.\d+)?\s*[wdhms]\s*)+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``"30s"``, ``"15m"``, ``"6h"``, ``"2d"``, ``"1w"`` or ``"1d12h"``.

    Units: ``w`` weeks, ``d`` days, ``h`` hours, ``m`` minutes, ``s`` seconds; a number may
    have a fraction (``"1.5h"``). Raises ValueError for anything else.
    """
    cleaned = text.strip().lower()
    if not cleaned or not _DURATION.fullmatch(cleaned):
        raise ValueError(
            f"{text!r} is not a duration; expected a number and a unit, e.g. '30s', '15m', '6h', "
            "'2d', '1w' or '1d12h'"
        )
    seconds = sum(
        (Decimal(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(cleaned)),
        Decimal(0),
    )
    return timedelta(seconds=float(seconds))


def _duration_input(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    return value  # ints and floats are seconds; pydantic validates the rest


Duration = Annotated[timedelta, BeforeValidator(_duration_input)]
"""A timedelta field that also accepts ``"30s"``-style text (and numbers of seconds)."""
