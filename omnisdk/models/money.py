"""Money: an exact Decimal amount in one ISO 4217 currency."""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Self, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

from omnisdk.models.bounds import MAX_MINOR_UNITS

__all__ = ["CURRENCY_MINOR_UNITS", "Money", "minor_units"]

_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG"
)

CURRENCY_MINOR_UNITS: dict[str, int] = {
    **{code: 2 for code in _TWO_DECIMALS.split()},
    **{code: 0 for code in _ZERO_DECIMALS.split()},
    **{code: 3 for code in _THREE_DECIMALS.split()},
    **{code: 4 for code in _FOUR_DECIMALS.split()},
}
"""Digits after the decimal point for each ISO 4217 currency (VND has none)."""


def minor_units(currency: str) -> int:
    """Return how many decimal digits ``currency`` has; raise ``ValueError`` if unknown."""
    try:
        return CURRENCY_MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unknown ISO 4217 currency code {currency!r}") from None


def _in_range(amount: Decimal, currency: str) -> None:
    """Raise ValueError unless ``amount`` is at most :data:`MAX_MINOR_UNITS` minor units."""
    digits = minor_units(currency)
    # adjusted() first: scaling an amount like 1E+999999999 would itself overflow.
    too_large = amount.adjusted() > 18 or abs(amount.scaleb(digits)) > MAX_MINOR_UNITS
    if too_large:
        largest = Decimal(MAX_MINOR_UNITS).scaleb(-digits)
        minor = f" ({MAX_MINOR_UNITS:,} minor units)" if digits else ""
        raise ValueError(
            f"amount {amount} {currency} is out of range: at most {largest:,} {currency}"
            f"{minor} either way"
        )


class Money(BaseModel):
    """An exact amount of money in one currency.

    ``amount`` is a :class:`~decimal.Decimal` with no more decimal places than the currency
    has (VND: none, USD: two, KWD: three). Floats are refused because they cannot hold most
    prices exactly; pass a string, an int or a Decimal. Arithmetic works only between amounts
    of the same currency. An amount is at most 10**15 minor units either way
    (:data:`~omnisdk.models.MAX_MINOR_UNITS`: 10**15 VND, 10**13 USD): it fits the store's
    ``BIGINT`` columns and keeps ``Decimal`` arithmetic exact.

    >>> Money.of("129000", "VND") + Money.of(1000, "VND")
    Money('130000 VND')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _refuse_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(
                f"got float {value!r}: money must be a Decimal, int or string "
                "(floats cannot hold prices exactly; convert with Decimal(str(x)))"
            )
        if isinstance(value, str):
            try:
                return Decimal(value.strip().replace("_", ""))
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a decimal number") from None
        return value

    @field_validator("amount")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError(f"amount must be a finite number, got {value}")
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _known_currency(cls, value: Any) -> Any:
        if isinstance(value, str):
            code = value.strip().upper()
            minor_units(code)
            return code
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _fits_currency(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(data, Money):
            # Money is frozen and was checked when it was made: a model holding it (an
            # order's total, a line's price) takes it as it is instead of checking it again.
            return cast(Self, data)
        self = handler(data)
        digits = minor_units(self.currency)
        _in_range(self.amount, self.currency)
        exact = self.amount.quantize(Decimal(1).scaleb(-digits))
        if exact != self.amount:
            raise ValueError(
                f"{self.amount} has more decimal places than {self.currency} allows ({digits}); "
                "round it first with Money.of(amount, currency, rounding=...)"
            )
        # One spelling per value ("129000.00 VND" is stored as 129000), so JSON is canonical.
        object.__setattr__(self, "amount", exact)
        return self

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str, *,
           rounding: str | None = None) -> Money:
        """Build Money; with ``rounding`` (e.g. ``decimal.ROUND_HALF_UP``) round to the currency.

        Without ``rounding`` an amount finer than the currency allows is an error.
        """
        if rounding is not None and not isinstance(amount, float):
            code = currency.strip().upper()
            quantum = Decimal(1).scaleb(-minor_units(code))
            try:
                exact = Decimal(str(amount).strip().replace("_", ""))
            except InvalidOperation:
                raise ValueError(f"{amount!r} is not a decimal number") from None
            if not exact.is_finite():
                raise ValueError(f"amount must be a finite number, got {exact}")
            _in_range(exact, code)
            amount = exact.quantize(quantum, rounding=rounding)
        return cls(amount=amount, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        if cls is Money:
            return _zero(currency)
        return cls.of(0, currency)

    @classmethod
    def _exact(cls, amount: Decimal, currency: str) -> Money:
        """Money from the result of exact arithmetic on valid Money of ``currency``.

        Adding, subtracting or negating amounts that have the currency's decimal places, or
        multiplying one by an int, gives an amount with the same places: only the range can
        be broken, so only the range is checked (arithmetic is on every order line's total).
        """
        _in_range(amount, currency)
        return cls.model_construct(amount=amount, currency=currency)

    @property
    def minor_units(self) -> int:
        """How many decimal digits this currency has."""
        return minor_units(self.currency)

    def to_minor(self) -> int:
        """The amount as an integer count of the currency's smallest unit (cents, dong)."""
        return int(self.amount.scaleb(self.minor_units))

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """Build from an integer count of the currency's smallest unit."""
        return cls.of(Decimal(units).scaleb(-minor_units(currency.upper())), currency)

    def _same_currency(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {op} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot {op} {self.currency} and {other.currency}")
        return other

    def __add__(self, other: object) -> Money:
        other = self._same_currency(other, "add")
        return Money._exact(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        other = self._same_currency(other, "subtract")
        return Money._exact(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money._exact(-self.amount, self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise TypeError(f"Money can be multiplied by an int or Decimal, not {factor!r}")
        if isinstance(factor, int):
            return Money._exact(self.amount * factor, self.currency)
        return Money.of(self.amount * factor, self.currency, rounding=ROUND_HALF_UP)

    __rmul__ = __mul__

    def __lt__(self, other: object) -> bool:
        return self.amount < self._same_currency(other, "compare").amount

    def __le__(self, other: object) -> bool:
        return self.amount <= self._same_currency(other, "compare").amount

    def __gt__(self, other: object) -> bool:
        return self.amount > self._same_currency(other, "compare").amount

    def __ge__(self, other: object) -> bool:
        return self.amount >= self._same_currency(other, "compare").amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __repr__(self) -> str:
        return f"Money('{self.amount} {self.currency}')"

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"


@functools.lru_cache(maxsize=64)
def _zero(currency: str) -> Money:
    # Money is frozen, so one zero per currency is safely shared.
    return Money.of(0, currency)
