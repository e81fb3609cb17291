"""Money: an exact Decimal amount in one ISO 4217 currency."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

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


class Money(BaseModel):
    """An exact amount of money in one currency.

    ``amount`` is a :class:`~decimal.Decimal` with no more decimal places than the currency
    has (VND: none, USD: two, KWD: three). Floats are refused because they cannot hold most
    prices exactly; pass a string, an int or a Decimal. Arithmetic works only between amounts
    of the same currency.

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

    @model_validator(mode="after")
    def _fits_currency(self) -> Self:
        digits = minor_units(self.currency)
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
            amount = Decimal(str(amount)).quantize(quantum, rounding=rounding)
        return cls(amount=amount, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        return cls.of(0, currency)

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
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: object) -> Money:
        other = self._same_currency(other, "subtract")
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise TypeError(f"Money can be multiplied by an int or Decimal, not {factor!r}")
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
