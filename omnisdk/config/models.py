"""The config file's shape as pydantic models: ``Config``, ``StoreConfig``, ``ChannelConfig``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from omnisdk.allocation import AllocationRule
from omnisdk.config.channels import plugins_or_default, resolve_channel
from omnisdk.config.durations import Duration
from omnisdk.config.problems import InvalidConfig, KeyLines
from omnisdk.errors import ConfigError
from omnisdk.pricing import PricingRule

if TYPE_CHECKING:
    from omnisdk.channel import ChannelSettings
    from omnisdk.plugins import Plugins

__all__ = [
    "DEFAULT_STORE_URL",
    "CeleryConfig",
    "ChannelConfig",
    "Config",
    "EngineConfig",
    "PollIntervals",
    "StoreConfig",
]

DEFAULT_STORE_URL = "sqlite:///omnisdk.db"
"""Where the store is when the config does not say: a SQLite file beside the config."""

STORE_SCHEMES: dict[str, tuple[str, ...]] = {
    "sqlite": ("", "pysqlite", "aiosqlite"),
    "postgresql": ("", "psycopg", "psycopg2", "asyncpg"),
}
"""Database dialects and drivers a store URL may name (``dialect+driver://``)."""

_ACCOUNT_NAME = re.compile(r"\w[\w.-]*")


def mask_url_password(url: str) -> str:
    """``url`` with the password replaced by ``***``."""
    # Up to the last "@": a password with an unescaped "@" is still masked whole.
    return re.sub(r"(://[^/@:]*:).*@", r"\1***@", url)


class StoreConfig(BaseModel):
    """The ``[store]`` table: the SQLAlchemy URL of the database.

    SQLite (``sqlite:///omnisdk.db``, the default) or PostgreSQL
    (``postgresql+psycopg://user:password@host/db``). The password never shows in reprs or
    errors; :attr:`display_url` is the URL with it masked.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(default=DEFAULT_STORE_URL, repr=False)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        scheme, separator, _rest = url.partition("://")
        dialect, _plus, driver = scheme.partition("+")
        accepted = ", ".join(
            f"{name}+{drv}://" if drv else f"{name}://"
            for name, drivers in STORE_SCHEMES.items()
            for drv in drivers
        )
        if not separator:
            raise ValueError(f"not a database URL; expected one of {accepted}")
        if dialect == "postgres":
            raise ValueError(
                "'postgres://' is spelled 'postgresql://' (or 'postgresql+psycopg://')"
            )
        if dialect not in STORE_SCHEMES or driver not in STORE_SCHEMES[dialect]:
            shown = scheme if re.fullmatch(r"[\w+.-]{1,40}", scheme) else "(unreadable)"
            raise ValueError(f"unsupported database scheme {shown!r}; expected one of {accepted}")
        return url

    @property
    def display_url(self) -> str:
        """The URL with any password replaced by ``***``, for logs and messages."""
        return mask_url_password(self.url)

    @property
    def is_sqlite(self) -> bool:
        """True when the store is a SQLite database."""
        return self.url.startswith("sqlite")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        yield "url", self.display_url


class PollIntervals(BaseModel):
    """The ``[channels.poll]`` table: how often the engine polls each stream of an account.

    Values are durations (``"30s"``, ``"5m"``, ``"1h"``) or numbers of seconds. Webhooks make
    changes arrive sooner; polling is what guarantees nothing is missed. ``stock`` is how often
    listed stock is read back and reconciled.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    orders: Duration = Field(default=timedelta(minutes=1), gt=timedelta(0))
    products: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0))
    customers: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0))
    stock: Duration = Field(default=timedelta(minutes=15), gt=timedelta(0))


class ChannelConfig(BaseModel):
    """One ``[[channels]]`` entry: a channel account.

    ``name`` is the account label (unique in the file; it is the ``account`` of every
    ChannelRef from this account). ``type`` is the plugin's channel name. ``settings`` are
    the raw settings after environment substitution (hidden from reprs: they hold secrets);
    :meth:`validated_settings` checks them with the channel's ``settings_model``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict, repr=False)
    location: str | None = None
    """The location code this account's orders reserve at (default: engine.default_location)."""
    allocation: AllocationRule = AllocationRule()
    pricing: PricingRule = PricingRule()
    poll: PollIntervals = PollIntervals()

    # Set by the loader: where the entry is, and its settings once validated.
    _source: str | None = PrivateAttr(default=None)
    _path: tuple[str | int, ...] | None = PrivateAttr(default=None)
    _validated: ChannelSettings | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not _ACCOUNT_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} is not a valid channel name; expected letters, digits, '_', '-' and "
                "'.', starting with a letter or digit (e.g. 'hanoi-shop')"
            )
        return name

    def validated_settings(self, plugins: Plugins | None = None) -> ChannelSettings:
        """The settings validated by the channel type's ``settings_model``.

        Raises :class:`~omnisdk.errors.ConfigError` for an unknown type or invalid settings;
        messages never echo the values of secret fields.
        """
        if self._validated is None:
            path = self._path or ("channels", self.name)
            resolved = resolve_channel(self, plugins_or_default(plugins), path, KeyLines())
            if isinstance(resolved, list):
                raise InvalidConfig(self._source or "", resolved)
            self._validated = resolved[1]
        return self._validated


class EngineConfig(BaseModel):
    """The ``[engine]`` table: how the sync engine runs.

    ``default_location`` is where stock lives when nothing more specific is said;
    ``locations`` lists the other location codes stock may be counted at.
    ``order_overlap`` re-reads that much before the order cursor on every poll (platforms
    index updates late; ingestion is idempotent, so overlap costs nothing but a few reads).
    ``initial_backfill`` is how far back the first poll of a new account goes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_location: str = Field(default="main", min_length=1)
    locations: tuple[str, ...] = ()
    """More location codes stock may be counted at (warehouses no account reserves from);
    ``stock set``/``adjust`` refuse a location neither here nor anywhere else in the config."""
    order_overlap: Duration = Field(default=timedelta(minutes=5), ge=timedelta(0))
    initial_backfill: Duration = Field(default=timedelta(days=30), gt=timedelta(0))
    push_interval: Duration = Field(default=timedelta(seconds=5), gt=timedelta(0))
    reconcile_interval: Duration = Field(default=timedelta(minutes=15), gt=timedelta(0))
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8787, ge=0, le=65535)
    webhook_public_url: str | None = None
    """The base URL platforms deliver webhooks to when the receiver sits behind a proxy or
    tunnel (``https://hooks.example.vn``): an account's callback URL is
    ``{webhook_public_url}/webhooks/{account}``, and signatures that cover the URL (Shopee)
    are checked against it. Unset: the receiver's own ``http://webhook_host:webhook_port``."""
    push_lease: Duration = Field(default=timedelta(seconds=60), gt=timedelta(0))
    """How long a pusher holds the outbox rows it claimed without renewing the lease; a live
    pusher renews it while it works on them (a write call may take longer), so only a crashed
    pusher's rows are taken over, this long after it stopped renewing."""
    unseen_hold: Duration = Field(default=timedelta(minutes=10), gt=timedelta(0))
    """How long units a channel sold but the engine has not ingested yet are held back from
    that channel's figure; after it, an order that never showed up is taken not to exist."""
    allocation: Literal["quota", "shared"] = "quota"
    """How a SKU's free stock is shared between the accounts that list it. ``quota``: each
    account lists a quota and the quotas add up to no more than the free stock, so no burst of
    buyers can oversell (see :mod:`omnisdk.quotas`). ``shared``: every account lists the
    whole pool less its rule (a burst on two channels inside one propagation window can sell
    the same unit twice)."""
    velocity_window: Duration = Field(default=timedelta(hours=1), gt=timedelta(0))
    """Sales older than this weigh half as much in an account's sales velocity (the half-life
    of the decaying rate that sends scarce units to where they sell)."""

    @field_validator("webhook_public_url")
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        scheme, separator, rest = url.partition("://")
        if scheme not in ("http", "https") or not separator or not rest.strip("/"):
            raise ValueError(
                "expected an http:// or https:// base URL, e.g. https://hooks.example.vn"
            )
        if "?" in rest or "#" in rest:
            raise ValueError(
                "a base URL without a query or fragment, e.g. https://hooks.example.vn"
            )
        return url.rstrip("/")


class CeleryConfig(BaseModel):
    """The ``[celery]`` table: the scale-out runtime (``omnisdk worker`` / ``omnisdk beat``).

    ``broker_url`` is the Celery broker (``redis://127.0.0.1:6379/0`` or
    ``amqp://guest:guest@127.0.0.1:5672//``). ``rate_limit_url`` is the Redis that holds the
    rate budgets every worker shares (unset: the broker when it is Redis; a RabbitMQ broker
    needs it set). ``visibility_timeout`` is how long a Redis broker waits before it hands a
    task whose worker died unacknowledged to another one (RabbitMQ redelivers when the
    connection drops). ``queue`` prefixes the queue names: ``{queue}.intake`` (polls and
    webhook events), ``{queue}.push`` (outbox drains) and ``{queue}.maintenance``
    (reconciliation, catalog reads, the push dispatcher).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    broker_url: str = "redis://127.0.0.1:6379/0"
    rate_limit_url: str | None = None
    visibility_timeout: Duration = Field(default=timedelta(minutes=5), gt=timedelta(0))
    queue: str = Field(default="omnisdk", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")

    @property
    def shared_budgets_url(self) -> str | None:
        """Where the shared rate budgets live: ``rate_limit_url``, else a Redis broker."""
        if self.rate_limit_url:
            return self.rate_limit_url
        if self.broker_url.startswith(("redis://", "rediss://", "unix://")):
            return self.broker_url
        return None


class Config(BaseModel):
    """The whole ``omnisdk.toml``: the store and the channel accounts.

    Load one with :func:`~omnisdk.config.load_config`; look an account up with
    :meth:`channel`; build its Channel with :func:`~omnisdk.config.build_channel`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: StoreConfig = StoreConfig()
    engine: EngineConfig = EngineConfig()
    celery: CeleryConfig = CeleryConfig()
    channels: list[ChannelConfig] = Field(default_factory=list)

    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this config was read from (None when built in code)."""
        return self._source

    def channel(self, name: str) -> ChannelConfig:
        """The ``[[channels]]`` entry called ``name``; a ConfigError listing the others if none."""
        for entry in self.channels:
            if entry.name == name:
                return entry
        names = [entry.name for entry in self.channels]
        known = ", ".join(names) or "none configured"
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"no channel named {name!r}; configured: {known}.{hint}",
            source=str(self._source) if self._source else None,
        )
