"""The base every canonical model shares: NFC text, no unknown fields, lossless JSON."""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

__all__ = ["CanonicalModel", "nfc"]


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC, so "Áo" typed on a Mac matches "Áo" typed on Windows."""
    return unicodedata.normalize("NFC", text)


def _nfc_deep(value: Any) -> Any:
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
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

    @field_validator("*", mode="before")
    @classmethod
    def _normalise_text(cls, value: Any, info: Any) -> Any:
        if info.field_name == "raw":
            return value  # the platform's own payload is kept exactly as it came
        return _nfc_deep(value)

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        # Computed fields are written to JSON; reading that JSON back must not refuse them.
        if isinstance(data, dict) and cls.model_computed_fields:
            return {k: v for k, v in data.items() if k not in cls.model_computed_fields}
        return data
