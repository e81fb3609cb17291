"""Canonical JSON documents and their content hashes.

A document is a canonical model dumped to JSON-able values (Decimals become strings, so
money stays exact). The content hash covers what a channel would receive: it leaves out the
platform's raw payload, where the object came from and bookkeeping timestamps, so "only send
what changed" compares hashes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

__all__ = [
    "ABSENT_WHEN_NONE",
    "LINE_ABSENT_WHEN_NONE",
    "NOT_CONTENT",
    "content_hash",
    "to_document",
]

NOT_CONTENT = frozenset({"raw", "channel_ref", "created_at", "updated_at"})
"""Fields that never count as content."""
ABSENT_WHEN_NONE = frozenset({"refund_total"})
"""Fields added after documents were stored: None hashes as if the field were not there, so
a version stored before the field existed is not taken for a change when it is read again."""
LINE_ABSENT_WHEN_NONE = frozenset({"returned"})
"""The same for the fields of each entry of a document's ``lines``."""


def to_document(model: BaseModel, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """``model`` as a JSON-able dict (``mode="json"``: exact decimals, ISO timestamps)."""
    return model.model_dump(mode="json", exclude=exclude)


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of ``document`` without the :data:`NOT_CONTENT` fields, keys sorted."""
    content = {
        key: _without_absent_lines(value) if key == "lines" else value
        for key, value in document.items()
        if key not in NOT_CONTENT and not (value is None and key in ABSENT_WHEN_NONE)
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _without_absent_lines(lines: Any) -> Any:
    if not isinstance(lines, list):
        return lines
    return [
        {k: v for k, v in line.items() if not (v is None and k in LINE_ABSENT_WHEN_NONE)}
        if isinstance(line, dict)
        else line
        for line in lines
    ]
