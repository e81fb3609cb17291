"""Contact points: phones in E.164 and lower-cased emails, with masked values marked."""

from __future__ import annotations

import re
from typing import Any, Self

import phonenumbers
from pydantic import ConfigDict, model_validator

from omnisdk.models.base import CanonicalModel

__all__ = ["DEFAULT_PHONE_REGION", "Email", "Phone", "is_masked"]

DEFAULT_PHONE_REGION = "VN"
"""Region used to read phone numbers written without a country code (``0912 345 678``)."""

_MASK = re.compile(r"[*•]|x{3,}", re.IGNORECASE)


def is_masked(value: str) -> bool:
    """True when a marketplace has hidden part of the value (``******78``, ``a***@gmail.com``)."""
    return bool(_MASK.search(value))


class Phone(CanonicalModel):
    """A phone number.

    ``raw`` is what the platform sent; ``e164`` the normalised form (``+84912345678``) when the
    number is real and readable. A masked number (``84****5678``) or an unreadable one keeps its
    raw text, has no ``e164`` and is never used to match customers.

    Build one from text with ``Phone.parse("0912 345 678")``; validating a plain string does the
    same.
    """

    model_config = ConfigDict(frozen=True)

    raw: str
    e164: str | None = None
    masked: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return cls._fields_for(value, DEFAULT_PHONE_REGION)
        return value

    @classmethod
    def parse(cls, text: str, region: str = DEFAULT_PHONE_REGION) -> Self:
        """Read ``text`` as a phone number, defaulting to ``region`` when it has no ``+cc``."""
        return cls.model_validate(cls._fields_for(text, region))

    @staticmethod
    def _fields_for(text: str, region: str) -> dict[str, Any]:
        text = text.strip()
        if is_masked(text):
            return {"raw": text, "e164": None, "masked": True}
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return {"raw": text, "e164": None, "masked": False}
        if not phonenumbers.is_valid_number(number):
            return {"raw": text, "e164": None, "masked": False}
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return {"raw": text, "e164": e164, "masked": False}

    @property
    def match_key(self) -> str | None:
        """The value to match customers on, or None when the number must not be matched."""
        return None if self.masked else self.e164

    def __str__(self) -> str:
        return self.e164 or self.raw


class Email(CanonicalModel):
    """An email address, lower-cased; masked ones are kept but never matched."""

    model_config = ConfigDict(frozen=True)

    raw: str
    address: str | None = None
    masked: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return cls._fields_for(value)
        return value

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read ``text`` as an email address."""
        return cls.model_validate(cls._fields_for(text))

    @staticmethod
    def _fields_for(text: str) -> dict[str, Any]:
        text = text.strip()
        if is_masked(text):
            return {"raw": text, "address": None, "masked": True}
        lowered = text.lower()
        local, at, domain = lowered.partition("@")
        if not (at and local and "." in domain and " " not in lowered):
            return {"raw": text, "address": None, "masked": False}
        return {"raw": text, "address": lowered, "masked": False}

    @property
    def match_key(self) -> str | None:
        """The value to match customers on, or None when the address must not be matched."""
        return None if self.masked else self.address

    def __str__(self) -> str:
        return self.address or self.raw
