"""The base every canonical model shares: NFC text, no unknown fields, lossless JSON."""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["CanonicalModel", "nfc"]


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC, so "Áo" typed on a Mac matches "Áo" typed on Windows."""
    # ASCII text is NFC already; most ids, SKUs and amounts are ASCII.
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_CONTAINERS = (list, tuple, dict)
_NO_TEXT: set[type] = {int, bool, float}
"""Types of values that hold no text to normalise (neither ``str`` nor a container): filled
as they are met (models, enums, Decimals, datetimes), so each is told apart once."""


def _holds_no_text(kind: type) -> bool:
    """Whether values of ``kind`` are passed as they are (neither text nor a container)."""
    if kind in _NO_TEXT:
        return True
    if issubclass(kind, (str, *_CONTAINERS)):
        return False
    _NO_TEXT.add(kind)
    return True


def _nfc_deep(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        if all(_holds_no_text(item.__class__) for item in value):
            return value  # models, numbers: nothing to normalise, nothing to copy
        return [_nfc_deep(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_nfc_deep(item) for item in value)
    if isinstance(value, dict):
        return {_nfc_deep(k): _nfc_deep(v) for k, v in value.items()}
    return value


class CanonicalModel(BaseModel):
    """Base of the canonical types.

    Every string is normalised to NFC on the way in (Vietnamese product names arrive both
    composed and decomposed), unknown fields are refused, and ``model_dump_json`` /
    ``model_validate_json`` round-trip without loss (Decimals travel as strings).
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        str_strip_whitespace=True,
        use_enum_values=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise_text(cls, data: Any) -> Any:
        # One pass over the input per object, not one validator call per field: the read
        # path validates hundreds of thousands of objects. An object given as an instance
        # of its model was normalised when it was built and is not walked again. The input
        # is copied only when a value changes (or a computed field is to be dropped): most
        # values are None, ASCII text or objects with no text of their own to normalise.
        if not isinstance(data, dict):
            return data
        clean: dict[Any, Any] | None = None
        for key, value in data.items():
            if value is None or key == "raw":
                continue  # the platform's own payload is kept exactly as it came
            kind = value.__class__
            if kind is str:
                if value.isascii():
                    continue
                value = unicodedata.normalize("NFC", value)
            elif kind is list or kind is dict or kind is tuple:
                normalised = _nfc_deep(value)
                if normalised is value:
                    continue
                value = normalised
            elif _holds_no_text(kind):
                continue
            elif issubclass(kind, str):
                if value.isascii():
                    continue
                value = unicodedata.normalize("NFC", value)
            else:
                value = _nfc_deep(value)
            if clean is None:
                clean = dict(data)
            clean[key] = value
        # Computed fields are written to JSON; reading that JSON back must not refuse them.
        computed = cls.__pydantic_computed_fields__
        if computed and not computed.keys().isdisjoint(data):
            clean = {k: v for k, v in (clean or data).items() if k not in computed}
        return data if clean is None else clean
