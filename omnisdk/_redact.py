"""Secret redaction for anything omnisdk logs or puts in an error message.

Two kinds of secret are masked:

* **known values**: tokens, keys and signatures the caller registered (``secrets``), also in
  their URL-encoded forms;
* **values under a sensitive name**, whatever they are: query and form parameters
  (``access_token=...``), JSON or dict entries (``"refresh_token": "..."``), header lines
  (``X-Shopify-Access-Token: ...``), ``Bearer``/``Basic`` credentials and passwords in URLs
  (``https://user:password@host``).

A name is sensitive when it is one of the well-known credential names (``sign``, ``code``,
``partner_key``, ...) or when one of its words says so (``token``, ``secret``, ``password``,
``signature``, ``hmac``, ``authorization``, ``cookie``, or ``key`` as its last word), so
``x-shopify-hmac-sha256``, ``client_secret`` and ``app_key`` are caught while ``error_code``,
``sign_method`` and ``idempotency_key`` are left readable.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "RedactingFilter",
    "SecretHolder",
    "guard_library_loggers",
    "is_sensitive_name",
    "loggable",
    "redact",
    "redact_headers",
]

MASK = "***"
"""What a secret is replaced with."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def loggable(text: str) -> str:
    """``text`` with lone surrogates (broken UTF-8 decoded leniently) as U+FFFD, so it can be
    logged, written to a UTF-8 file or database, or pickled: platform data quoted in a
    message or kept in a quarantine may hold them."""
    return _LONE_SURROGATE.sub("\ufffd", text)

MIN_SECRET_LENGTH = 4
"""Known secret values shorter than this are ignored: masking them would mangle the text."""

_SENSITIVE_NAMES = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "auth_code",
        "authorization",
        "client_secret",
        "code",
        "cookie",
        "key",
        "partner_key",
        "passwd",
        "password",
        "private_key",
        "pwd",
        "refresh_token",
        "secret",
        "session",
        "set_cookie",
        "sign",
        "signature",
        "token",
    }
)
_SENSITIVE_WORDS = frozenset(
    {
        "apikey",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "hmac",
        "passwd",
        "password",
        "secret",
        "signature",
        "token",
    }
)
_SENSITIVE_LAST_WORDS = frozenset({"key", "sign"})
_READABLE_NAMES = frozenset({"idempotency_key", "x_idempotency_key"})
_HARMLESS_LITERALS = frozenset({"null", "None", "true", "True", "false", "False"})

_WORD_SPLIT = re.compile(r"[_\-.\s\[\]]+")

# name=value in query strings, form bodies and prose.
_PARAM = re.compile(
    r"(?<![\w.\-\[\]])(?P<name>[A-Za-z][\w.\-\[\]]{0,63})=(?P<value>[^&\s#;,\"'<>]*)"
)
# "name": "value" / 'name': 'value' / "name": 123 in JSON and Python reprs.
_ENTRY = re.compile(
    r"(?P<q>[\"'])(?P<name>[^\"'\s]{1,64})(?P=q)\s*:\s*"
    r"(?:(?P<vq>[\"'])(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)|(?P<bare>[^\s,}\]{\[\"'][^\s,}\]]*))"
)
# Name: value header lines (also inline in prose); the value runs to the end of the line.
_HEADER = re.compile(r"(?<![\w\-\"'])(?P<name>[A-Za-z][\w\-]{0,63}):[ \t]*(?P<value>[^\r\n]+)")
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(?P<scheme>bearer|basic)\s+(?P<value>[\w.~+/=\-]{4,})")
_URL_PASSWORD = re.compile(r"(?P<user>://[^/\s:@]+):(?P<value>[^/\s@]+)@")


def is_sensitive_name(name: str) -> bool:
    """True when a header, parameter or field called ``name`` holds a secret."""
    normalised = _WORD_SPLIT.sub("_", name.strip().lower()).strip("_")
    if normalised in _READABLE_NAMES:
        return False
    if normalised in _SENSITIVE_NAMES:
        return True
    words = [word for word in normalised.split("_") if word]
    if not words:
        return False
    return words[-1] in _SENSITIVE_LAST_WORDS or any(word in _SENSITIVE_WORDS for word in words)


def _value_forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)}


def _mask_known(text: str, secrets: Iterable[str]) -> str:
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            forms |= _value_forms(secret)
    # Longest first, so a secret containing another one is masked whole.
    for form in sorted(forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, MASK)
    return text


def _mask_param(match: re.Match[str]) -> str:
    if not is_sensitive_name(match["name"]) or not match["value"]:
        return match[0]
    return f"{match['name']}={MASK}"


def _mask_entry(match: re.Match[str]) -> str:
    if not is_sensitive_name(match["name"]):
        return match[0]
    key = f"{match['q']}{match['name']}{match['q']}: "
    if match["vq"] is not None:
        return f"{key}{match['vq']}{MASK}{match['vq']}"
    bare = match["bare"]
    if bare in _HARMLESS_LITERALS or (bare.isdigit() and match["name"].lower() == "code"):
        return match[0]  # null/true/false, and numeric error codes, are never secrets
    return f"{key}{MASK}"


def _mask_header(match: re.Match[str]) -> str:
    if not is_sensitive_name(match["name"]) or match["value"].startswith(MASK):
        return match[0]
    return f"{match['name']}: {MASK}"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret in it replaced by ``***``.

    ``secrets`` are known secret values (tokens, keys) to mask wherever they appear; values
    under sensitive names are masked by pattern even when not listed (see the module doc).
    """
    text = _mask_known(text, secrets)
    text = _URL_PASSWORD.sub(lambda m: f"{m['user']}:{MASK}@", text)
    text = _SCHEME_CREDENTIAL.sub(lambda m: f"{m['scheme']} {MASK}", text)
    text = _ENTRY.sub(_mask_entry, text)
    text = _PARAM.sub(_mask_param, text)
    return _HEADER.sub(_mask_header, text)


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``headers`` fit for a log: sensitive ones masked, the others redacted."""
    known = tuple(secrets)
    return {
        name: MASK if is_sensitive_name(name) else redact(value, known)
        for name, value in headers.items()
    }


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record passing through it.

    Attach it to a handler (or a third-party logger such as ``httpx``, which logs full URLs
    with their query strings) to keep secrets out of log output. ``secrets`` is called for
    each record and returns the known secret values to mask.
    """

    def __init__(self, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked; never drops a record."""
        message = record.getMessage()
        cleaned = redact(message, self._secrets())
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class SecretHolder(Protocol):
    """Anything that knows secret values to mask (an :class:`~omnisdk.http.HttpClient`)."""

    def secret_values(self) -> Iterable[str]:
        """The known secret values this object holds."""
        ...


class _LibraryFilter(RedactingFilter):
    """The filter installed once on library loggers (a distinct type so it is added once)."""


_library_holders: weakref.WeakSet[SecretHolder] = weakref.WeakSet()
_GUARDED_LOGGERS = ("httpx", "httpcore")


def _library_secrets() -> list[str]:
    return [secret for holder in list(_library_holders) for secret in holder.secret_values()]


def guard_library_loggers(holder: SecretHolder) -> None:
    """Make the ``httpx`` and ``httpcore`` loggers redact, including ``holder``'s secrets.

    httpx logs every request URL at INFO, query string included, and Shopee and Lazada put
    the access token and the signature in the query string. The filter holds ``holder`` weakly.
    """
    _library_holders.add(holder)
    for name in _GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _LibraryFilter) for f in logger.filters):
            logger.addFilter(_LibraryFilter(_library_secrets))
