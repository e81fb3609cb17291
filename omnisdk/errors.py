"""The exception hierarchy: every error omnisdk raises is an :class:`OmnisdkError`.

Catch :class:`OmnisdkError` to handle anything the SDK raises; catch a subclass to handle one
kind of failure. Messages say what was wrong and where, and never contain secrets.

::

    OmnisdkError
    ├── UsageError                   the SDK was called wrongly (engine not open, reused runtime)
    │   ├── UnknownRecord            an id names nothing in the store (order, customer, SKU,
    │   │                            location, entry)
    │   ├── InvalidValue             a value is malformed or out of range (also a ValueError)
    │   └── InsufficientStock        a removal would take on hand below zero
    ├── ConfigError                  a config file or setting is wrong
    ├── PluginError                  a plugin failed to load or broke its contract
    ├── UnsupportedOperation         the channel lacks the capability asked for
    ├── MappingError                 a platform payload could not become a canonical object
    ├── WebhookVerificationError     a webhook's signature or shape is wrong
    │   └── WebhookBodyError         signed, but the body cannot be read (the receiver: 400)
    ├── StoreError                   the persistence layer failed
    ├── ServiceError                 a server omnisdk runs (webhook receiver) could not run
    ├── SandboxError                 a platform sandbox (the test kit) refused a request
    └── ChannelError                 talking to a platform failed
        ├── AuthError                credentials refused
        │   └── ReauthorisationRequired   the refresh token is gone: a person must re-authorise
        ├── RateLimited              the platform said slow down (retry_after seconds)
        ├── BadRequest               the platform refused the request (code, message)
        │   └── NotFound             the object does not exist on the platform
        ├── Conflict                 a compare-and-swap lost (the platform holds another value)
        └── PlatformUnavailable      5xx, time-outs and dropped connections
"""

from __future__ import annotations

from typing import Any

from omnisdk._redact import loggable

__all__ = [
    "AuthError",
    "BadRequest",
    "ChannelError",
    "ConfigError",
    "Conflict",
    "InsufficientStock",
    "InvalidValue",
    "MappingError",
    "NotFound",
    "OmnisdkError",
    "PlatformUnavailable",
    "PluginError",
    "RateLimited",
    "ReauthorisationRequired",
    "SandboxError",
    "ServiceError",
    "StoreError",
    "UnknownRecord",
    "UnsupportedOperation",
    "UsageError",
    "WebhookBodyError",
    "WebhookVerificationError",
]


class OmnisdkError(Exception):
    """Root of every error omnisdk raises."""

    def __str__(self) -> str:
        # Messages quote platform data, which may hold lone surrogates (broken UTF-8 decoded
        # leniently); as U+FFFD they can still be logged, written to a UTF-8 file or pickled.
        return loggable(super().__str__())

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors carry keyword-only attributes; keep them when pickled (Celery, multiprocessing).
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(
    cls: type[OmnisdkError], args: tuple[Any, ...], state: dict[str, Any]
) -> OmnisdkError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class UsageError(OmnisdkError):
    """The SDK was called in a way it does not allow: fix the calling code.

    For example an engine used before ``open()`` or after ``close()``, a runtime started twice,
    or an operation an account's state forbids (it needs re-authorisation).
    """


class UnknownRecord(UsageError):
    """An id the caller gave names nothing in the store (an order, a customer, an entry)."""


class InvalidValue(UsageError, ValueError):
    """A value given to the SDK is malformed or outside its canonical bounds.

    For example a stock count of 10**30 (quantities stop at
    :data:`omnisdk.models.MAX_QUANTITY`) or a SKU made only of invisible characters. It is a
    :class:`ValueError` too, so code that caught the plain ``ValueError`` still does.
    """


class InsufficientStock(UsageError):
    """A stock removal would take on hand of a SKU at a location below zero.

    ``on_hand`` is what the location holds now and ``delta`` the removal asked for.
    """

    def __init__(self, message: str, *, sku: str, location: str, on_hand: int, delta: int):
        self.sku = sku
        self.location = location
        self.on_hand = on_hand
        self.delta = delta
        super().__init__(message)


class ConfigError(OmnisdkError):
    """A configuration file or value is missing or wrong.

    ``source`` names the file and ``key`` the dotted path of the bad value when known.
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.source = source
        self.key = key
        where = ", ".join(part for part in (source, f"key {key!r}" if key else None) if part)
        super().__init__(f"{where}: {message}" if where else message)


class PluginError(OmnisdkError):
    """A plugin could not be loaded, or broke the plugin contract."""

    def __init__(self, message: str, *, plugin: str | None = None):
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}" if plugin else message)


class UnsupportedOperation(OmnisdkError):
    """The channel does not offer the capability an operation needs."""


class MappingError(OmnisdkError):
    """A platform payload could not be turned into a canonical object.

    The engine quarantines the payload with this error's message as the reason.
    """

    def __init__(
        self,
        message: str,
        *,
        channel: str | None = None,
        kind: str | None = None,
        external_id: str | None = None,
    ):
        self.channel = channel
        self.kind = kind
        self.external_id = external_id
        where = " ".join(p for p in (channel, kind, external_id and f"#{external_id}") if p)
        super().__init__(f"{where}: {message}" if where else message)


class WebhookVerificationError(OmnisdkError):
    """A webhook delivery failed signature verification or is malformed."""


class WebhookBodyError(WebhookVerificationError):
    """A delivery passed its signature check but its body cannot be read (bad JSON, a field
    of the wrong type, an impossible figure or timestamp, absurd nesting).

    The webhook receiver answers 400 (a bad request, not a forgery: 401 is for signatures).
    """


class StoreError(OmnisdkError):
    """The persistence layer failed (database unreachable, migration missing, ...)."""


class ServiceError(OmnisdkError):
    """A server omnisdk runs in-process could not start or stopped (a port taken, a missing
    optional dependency, a crash while starting)."""


class SandboxError(OmnisdkError):
    """A platform sandbox (``omnisdk.testing``) refused a request.

    ``status`` and ``code`` are the HTTP answer the sandbox gives; :meth:`body` is its JSON
    body ``{"error": code, "message": ..., **details}``. Sandboxes subclass it for their
    platform's own error shapes.
    """

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        return {"error": self.code, "message": self.message, **self.details}


class ChannelError(OmnisdkError):
    """Talking to a platform failed.

    ``channel`` is the channel type and ``account`` the configured account name; ``status`` is
    the HTTP status when there was one and ``request_id`` the platform's id for the request.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        channel: str | None = None,
        account: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ):
        self.channel = channel
        self.account = account
        self.status = status
        self.request_id = request_id
        who = "/".join(p for p in (channel, account) if p)
        super().__init__(f"{who}: {message}" if who else message)


class AuthError(ChannelError):
    """The platform refused the credentials (expired or revoked token, bad signature)."""


class ReauthorisationRequired(AuthError):
    """The account's authorisation is gone for good; a person must authorise the app again."""


class RateLimited(ChannelError):
    """The platform asked us to slow down; ``retry_after`` is in seconds when it said."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class BadRequest(ChannelError):
    """The platform refused the request itself; ``code`` is its own error code."""

    def __init__(self, message: str, *, code: str | None = None, **kwargs: Any):
        self.code = code
        super().__init__(f"{code}: {message}" if code else message, **kwargs)


class NotFound(BadRequest):
    """The object asked for does not exist on the platform."""


class Conflict(ChannelError):
    """A compare-and-swap write lost: the platform holds ``actual``, not the value expected."""

    def __init__(self, message: str, *, actual: int | None = None, **kwargs: Any):
        self.actual = actual
        super().__init__(message, **kwargs)


class PlatformUnavailable(ChannelError):
    """The platform failed to answer (5xx, time-out, dropped connection); worth retrying."""

    retryable = True
