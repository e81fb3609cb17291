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


def _nfc_deep(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else unicodedata.normalize("NFC", value)
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

    @model_validator(mode="before")
    @classmethod
    def _normalise_text(cls, data: Any) -> Any:
        # One pass over the input per object, not one validator call per field: the read
        # path validates hundreds of thousands of objects. An object given as an instance
        # of its model was normalised when it was built and is not walked again.
        if not isinstance(data, dict):
            return data
        # Computed fields are written to JSON; reading that JSON back must not refuse them.
        computed = cls.__pydantic_computed_fields__
        clean: dict[Any, Any] = {}
        for key, value in data.items():
            if key in computed:
                continue
            if key == "raw":
                pass  # the platform's own payload is kept exactly as it came
            elif isinstance(value, str):
                if not value.isascii():
                    value = unicodedata.normalize("NFC", value)
            elif isinstance(value, _CONTAINERS):
                value = _nfc_deep(value)
            clean[key] = value
        return clean
