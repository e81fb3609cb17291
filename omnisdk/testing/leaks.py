"""Catch secrets leaking into logs and error messages.

:class:`SecretLeakGuard` captures every log record (DEBUG and up) while it is installed and
checks them, and any exception handed to it, for the secret values it watches::

    with SecretLeakGuard(sandbox.secret_values()) as guard:
        ...  # run the channel
        guard.check_exception(error)
    guard.assert_clean()

A leak is reported by logger, place and a masked hint of the secret, never the secret itself.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import Self

__all__ = ["MIN_SECRET_LENGTH", "SecretLeakGuard"]

MIN_SECRET_LENGTH = 6
"""Shorter values are not watched: they would match ordinary text."""

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _exception_texts(error: BaseException) -> list[str]:
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), "".join(traceback.format_exception_only(current))]
        current = current.__cause__ or current.__context__
    return texts


def _mask(secret: str) -> str:
    return f"{secret[:2]}…({len(secret)} chars)"


class SecretLeakGuard:
    """Watches log records and exception texts for secret values."""

    def __init__(self, secrets: Iterable[str] = (), *, level: int = logging.DEBUG) -> None:
        self.secrets: set[str] = set()
        self.level = level
        self.add(*secrets)
        self._collector = _Collector()
        self._previous_level: int | None = None
        self._leaks: list[str] = []

    def add(self, *secrets: str) -> None:
        """Watch more values (values shorter than :data:`MIN_SECRET_LENGTH` are ignored)."""
        self.secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)

    @property
    def records(self) -> list[logging.LogRecord]:
        """The log records captured so far."""
        return list(self._collector.records)

    def install(self) -> None:
        """Start capturing: a handler on the root logger, the root level lowered to ``level``."""
        root = logging.getLogger()
        self._previous_level = root.level
        root.setLevel(min(root.level or self.level, self.level))
        root.addHandler(self._collector)

    def uninstall(self) -> None:
        """Stop capturing and restore the root logger's level."""
        root = logging.getLogger()
        root.removeHandler(self._collector)
        if self._previous_level is not None:
            root.setLevel(self._previous_level)
            self._previous_level = None

    def __enter__(self) -> Self:
        self.install()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.check_exception(exc)
        self.uninstall()

    def check_text(self, text: str, where: str) -> None:
        """Note a leak if ``text`` contains a watched secret."""
        for secret in self.secrets:
            if secret in text:
                self._leaks.append(f"{where} contains the secret {_mask(secret)}")

    def check_exception(self, error: BaseException, where: str = "exception") -> None:
        """Check an exception's message, repr, traceback text and causes."""
        self.check_text("\n".join(_exception_texts(error)), f"{where} {type(error).__name__}")

    def check_record(self, record: logging.LogRecord) -> None:
        """Check one log record: message, exception, stack and extra fields."""
        where = (
            f"log record of {record.name!r} ({record.levelname}, {record.pathname}:{record.lineno})"
        )
        try:
            texts = [record.getMessage()]
        except (TypeError, ValueError):
            texts = [f"{record.msg} {record.args}"]
        if record.exc_info and record.exc_info[1] is not None:
            texts += _exception_texts(record.exc_info[1])
            texts.append("".join(traceback.format_exception(*record.exc_info)))
        texts += [text for text in (record.exc_text, record.stack_info) if text]
        texts += [
            f"{name}={value}" for name, value in vars(record).items() if name not in _STANDARD_ATTRS
        ]
        self.check_text("\n".join(texts), where)

    def leaks(self) -> list[str]:
        """Every leak found so far (records are checked now)."""
        for record in self._collector.records:
            self.check_record(record)
        self._collector.records.clear()
        return list(dict.fromkeys(self._leaks))

    def assert_clean(self) -> None:
        """Raise AssertionError listing the leaks, if any (secrets masked)."""
        found = self.leaks()
        if found:
            raise AssertionError("secrets leaked:\n  " + "\n  ".join(found))
