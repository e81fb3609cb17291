"""Canonical numeric bounds: the largest quantity and amount of money omnisdk accepts.

Every quantity one record carries (a stock count or adjustment, an order line) is a whole
number of at most :data:`MAX_QUANTITY`, a stock figure (a ``StockLevel``: on hand, reserved,
a channel's listed count) at most :data:`MAX_LEVEL` in absolute value, and every amount of
money at most :data:`MAX_MINOR_UNITS` of its currency's smallest unit. The store keeps quantities in
``INTEGER`` columns (32 bits on PostgreSQL, 2 147 483 647) and money as minor units in
``BIGINT`` (64 bits), so with these bounds any single value fits, and so does the sum of two
quantities or of several thousand amounts: a figure from a platform can never overflow a
column, and ``Decimal`` arithmetic (28 significant digits) stays exact.

A value outside its bound is refused where it enters: a platform payload fails to map (the
record is quarantined with the field and the bound named, the rest of the batch goes on), a
call of the SDK raises :class:`~omnisdk.errors.InvalidValue`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["MAX_LEVEL", "MAX_MINOR_UNITS", "MAX_QUANTITY", "check_quantity", "listed_count"]

MAX_QUANTITY = 1_000_000_000
"""The largest quantity one record may carry, in units (10**9): a stock count or adjustment,
an order line (and an order's units of one SKU)."""

MAX_LEVEL = 2**31 - 1
"""The largest stock figure (on hand, reserved, a listed count): the store's ``INTEGER``
column on PostgreSQL. Levels sum many movements, so they get the column's whole range."""

MAX_MINOR_UNITS = 10**15
"""The largest amount of money in minor units (10**15 đồng, 10**13 US dollars)."""


def check_quantity(value: int, what: str = "quantity", *, minimum: int = -MAX_QUANTITY) -> int:
    """``value`` if it is a whole number in ``minimum``..:data:`MAX_QUANTITY`, else ValueError.

    ``what`` names the value in the message (``"order line quantity"``, ``"stock count"``).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if not minimum <= value <= MAX_QUANTITY:
        shown = f"{Decimal(value):.3e}" if abs(value) > 10**12 else str(value)
        raise ValueError(
            f"{what} {shown} is out of range: it must be between {minimum} and "
            f"{MAX_QUANTITY:,} (MAX_QUANTITY)"
        )
    return value


def listed_count(value: Any, what: str = "listed stock") -> int:
    """A stock figure a platform reported, as a whole number within :data:`MAX_LEVEL`.

    An ``int``, a whole ``float``/``Decimal`` (``5.0``) or the text of a whole number
    (``"5"``, ``"5.0"``) is read; a fraction, other text, a boolean, ``None`` or a figure
    beyond :data:`MAX_LEVEL` either way raises ValueError naming ``what`` and the value. A
    negative figure within bounds is read: a platform that let buyers oversell says so, and
    the pusher needs that figure to know what was sold unseen.
    """
    number: Decimal
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float | Decimal | str):
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, ValueError):
            raise ValueError(f"{what} must be a whole number, got {str(value)[:40]!r}") from None
    else:
        raise ValueError(f"{what} must be a whole number, got {type(value).__name__}")
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{what} must be a whole number, got {str(value)[:40]!r}")
    if abs(number) > MAX_LEVEL:
        raise ValueError(
            f"{what} {number:.3e} is out of range: at most {MAX_LEVEL:,} (MAX_LEVEL) either way"
        )
    return int(number)
