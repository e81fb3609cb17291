"""Shopee's money: bare JSON numbers in the shop's currency, made exact.

Prices arrive as JSON numbers (``300000`` in a VND shop, ``11.11`` in an SGD shop), never as
minor units or strings. The channel reads response bodies with ``json.loads(...,
parse_float=Decimal)`` (:func:`omnisdk_shopee.errors.parse_body`), so a price's digits are
kept exactly as Shopee wrote them and never pass through a binary float. :func:`to_money`
still accepts a ``float`` (for payloads decoded elsewhere) and reads it through its shortest
``repr``, which is the text Shopee sent for any price of up to 15 significant digits.

Going the other way, :func:`to_json_number` turns a :class:`~decimal.Decimal` into the int or
float whose JSON text is exactly that decimal (checked, not assumed).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from omnisdk.models import Money, minor_units

__all__ = ["FLOAT_NOISE", "plain_json", "to_decimal", "to_json_number", "to_money"]

FLOAT_NOISE = Decimal("0.000001")
"""Digits beyond the currency's precision smaller than this are float noise and rounded away
(``12.350000000000001`` SGD is 12.35); anything larger is an error, never silently rounded."""


def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from a Shopee number (int, Decimal, float or numeric string)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def to_money(value: Any, currency: str) -> Money:
    """``value`` (a Shopee price) as exact :class:`~omnisdk.models.Money` in ``currency``.

    Zero-decimal currencies such as VND come out as whole units (``48000.0`` is 48000). A
    value finer than the currency allows raises ``ValueError`` unless the excess is float
    noise (see :data:`FLOAT_NOISE`).
    """
    amount = to_decimal(value)
    code = currency.strip().upper()
    quantum = Decimal(1).scaleb(-minor_units(code))
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    if abs(rounded - amount) > FLOAT_NOISE:
        raise ValueError(f"{amount} {code} has more decimal places than {code} allows")
    return Money.of(rounded, code)


def to_json_number(amount: Decimal) -> int | float:
    """The JSON number to send for ``amount``: an int when whole, else a float whose
    shortest repr is exactly ``amount`` (``ValueError`` if no float is)."""
    if not amount.is_finite():
        raise ValueError(f"{amount} is not a finite number")
    if amount == amount.to_integral_value():
        return int(amount)
    as_float = float(amount)
    if Decimal(repr(as_float)) != amount:
        raise ValueError(f"{amount} cannot be sent as a JSON number without changing it")
    return as_float


def plain_json(value: Any) -> Any:
    """``value`` with every Decimal turned back into the JSON number it was read from.

    Canonical objects keep the platform payload (``raw``) as plain JSON data, so it survives
    a JSON round trip unchanged; the mapping reads the exact Decimals before that.
    """
    if isinstance(value, Decimal):
        return float(value)  # only JSON floats are read as Decimals; ints stay ints
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value
