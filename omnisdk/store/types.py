"""Portable column types: UTC timestamps, JSON documents and integer primary keys.

These types behave the same on SQLite and PostgreSQL, so the rest of the store never asks
which database it talks to when reading or writing a value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["BigId", "JSONDocument", "UTCDateTime", "as_utc", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime (no tzinfo) is taken to be UTC already.

    Platform payloads sometimes carry naive timestamps; the store keeps everything in UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as
    naive UTC text (which sorts and compares correctly) and marked UTC again when read.
    Naive datetimes are refused on the way in: they are a bug, not a time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Check and convert a datetime before it is sent to the database."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware UTC time")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Turn what the database returns into an aware UTC datetime."""
        if value is None:
            return None
        return as_utc(value)


JSONDocument: TypeEngine[Any] = JSON(none_as_null=True).with_variant(
    JSONB(none_as_null=True), "postgresql"
)
"""A JSON document: ``JSONB`` on PostgreSQL, JSON text on SQLite."""

BigId: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")
"""An auto-incrementing 64-bit primary key (SQLite only auto-increments ``INTEGER``)."""
