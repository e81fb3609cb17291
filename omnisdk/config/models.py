"""The config file's shape as pydantic models: ``Config``, ``StoreConfig``, ``ChannelConfig``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from omnisdk.allocation import AllocationRule
from omnisdk.config.channels import plugins_or_default, resolve_channel
from omnisdk.config.durations import Duration
from omnisdk.config.problems import InvalidConfig, KeyLines
from omnisdk.errors import ConfigError
from omnisdk.models import Promotion
from omnisdk.pricing import PricingRule

if TYPE_CHECKING:
    from omnisdk.channel import ChannelSettings
    from omnisdk.plugins import Plugins

__all__ = [
    "DEFAULT_LOCATION",
    "DEFAULT_STORE_URL",
    "CeleryConfig",
    "ChannelConfig",
    "Config",
    "EngineConfig",
    "PollIntervals",
    "StoreConfig",
    "listen_address",
    "reserve_location",
]

DEFAULT_LOCATION = "main"
"""The stock location when the config names none (``[engine] locations`` left out)."""

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

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    url: str = Field(default=DEFAULT_STORE_URL, repr=False)
    """The SQLAlchemy URL of the database: ``sqlite:///omnisdk.db`` (a file beside the config)
    or ``postgresql+psycopg://user:password@host/db``; the password never shows in output."""

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

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    orders: Duration = Field(default=timedelta(minutes=1), gt=timedelta(0))
    """How often new and updated orders are polled (webhooks only make them arrive sooner)."""
    products: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0))
    """How often the account's products are read to notice listings changed on the platform."""
    customers: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0))
    """How often the account's customers are read (channels that expose customers)."""
    stock: Duration = Field(default=timedelta(minutes=15), gt=timedelta(0))
    """How often listed stock is read back and reconciled with what the engine computed."""


class ChannelConfig(BaseModel):
    """One ``[[channels]]`` entry: a channel account.

    ``name`` is the account label (unique in the file; it is the ``account`` of every
    ChannelRef from this account). ``type`` is the plugin's channel name. ``settings`` are
    the raw settings after environment substitution (hidden from reprs: they hold secrets);
    :meth:`validated_settings` checks them with the channel's ``settings_model``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str
    """Your label for the account (``hanoi-shop``): unique in the file; commands take it as
    ``--channel NAME``."""
    type: str = Field(min_length=1)
    """The channel type of the plugin that talks to this account (``omnisdk plugins`` lists
    the installed ones)."""
    settings: dict[str, Any] = Field(default_factory=dict, repr=False)
    """The ``[channels.settings]`` table: the channel type's credentials and options (its page
    lists them); validated by the plugin's settings model, never shown in reprs."""
    location: str | None = None
    """The location code this account's orders reserve at (default: the first location of
    its ``[channels.allocation] locations``, else ``[engine] default_location``)."""
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


def listen_address(address: str) -> tuple[str, int]:
    """``(host, port)`` of ``HOST:PORT`` (IPv6 as ``[::1]:PORT``); ValueError saying what
    is wrong otherwise."""
    example = "expected HOST:PORT, e.g. 127.0.0.1:8790"
    text = address.strip()
    if text.startswith("["):
        host, closing, rest = text[1:].partition("]")
        if not closing or not rest.startswith(":"):
            raise ValueError(f"{example} or [::1]:8790")
        port_text = rest[1:]
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon or ":" in host:
            raise ValueError(example)
    if not host:
        raise ValueError(f"{example} (the host is missing)")
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"{example} (the port must be 0 to 65535, got {port_text!r})")
    return host, int(port_text)


class EngineConfig(BaseModel):
    """The ``[engine]`` table: how the sync engine runs.

    ``locations`` lists the location codes stock is counted at; ``default_location`` is where
    a count without a location goes and where the orders of an account that names no
    location of its own reserve. Left out, it is the first of ``locations`` (``"main"``
    when no location is named at all), so a shop with one stock location never has a second
    one by accident.
    ``order_overlap`` re-reads that much before the order cursor on every poll (platforms
    index updates late; ingestion is idempotent, so overlap costs nothing but a few reads).
    ``initial_backfill`` is how far back the first poll of a new account goes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    default_location: str = Field(default=DEFAULT_LOCATION, min_length=1)
    """Where a count without a location goes and where the orders of an account that names
    no location of its own reserve; left out, the first of ``locations`` (``"main"`` when
    none is named)."""
    locations: tuple[str, ...] = ()
    """The location codes stock may be counted at; ``stock set``/``adjust`` refuse a location
    neither here nor anywhere else in the config, and an account's ``location`` must be one
    of these (or ``default_location``) once any is named."""
    order_overlap: Duration = Field(default=timedelta(minutes=5), ge=timedelta(0))
    """How far before the order cursor every poll re-reads (platforms index updates late;
    intake is idempotent, so the overlap costs a few reads and nothing else)."""
    initial_backfill: Duration = Field(default=timedelta(days=30), gt=timedelta(0))
    """How far back the first order poll of a new account goes."""
    push_interval: Duration = Field(default=timedelta(seconds=5), gt=timedelta(0))
    """How often the pushers drain the outbox of stock and price writes when no change
    wakes them sooner."""
    reconcile_interval: Duration = Field(default=timedelta(minutes=15), gt=timedelta(0))
    """How often ``omnisdk run`` compares every account's listed stock with what it should be
    and queues repairs."""
    webhook_host: str = "127.0.0.1"
    """The address the webhook receiver of ``omnisdk run`` listens on (``0.0.0.0`` to accept
    connections from other machines, e.g. a reverse proxy on another host)."""
    webhook_port: int = Field(default=8787, ge=0, le=65535)
    """The port the webhook receiver listens on (0: any free port)."""
    webhook_public_url: str | None = None
    """The base URL platforms deliver webhooks to when the receiver sits behind a proxy or
    tunnel (``https://hooks.example.vn``): an account's callback URL is
    ``{webhook_public_url}/webhooks/{account}``, and signatures that cover the URL (Shopee)
    are checked against it. Unset: the receiver's own ``http://webhook_host:webhook_port``."""
    status_page: str | None = None
    """Where ``omnisdk run`` serves the read-only status page, ``HOST:PORT``
    (``127.0.0.1:8790``; ``[::1]:8790`` for IPv6; port 0 picks a free one). Unset: no page.
    The page has no login: keep it on a loopback address or behind a proxy that checks who
    asks."""
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
    timezone: str = "Asia/Ho_Chi_Minh"
    """The shop's IANA time zone: the sales report counts days in it (``--by day``)."""
    velocity_window: Duration = Field(default=timedelta(hours=1), gt=timedelta(0))
    """Sales older than this weigh half as much in an account's sales velocity (the half-life
    of the decaying rate that sends scarce units to where they sell)."""
    rotate_after: Duration = Field(default=timedelta(minutes=10), ge=timedelta(0))
    """Under ``quota`` allocation, how long an account keeps the scarce units of a SKU it does
    not sell. When a SKU has fewer free units than the accounts that may list it, the units
    of the accounts that sold none of it lately go round them in turns: after this long the
    one that has held its unit longest gives it up to one that holds none (take before give:
    the unit is listed there once the first account is known to sell it no more), and an
    account that gave a unit up waits this long before it is given one again. The engine
    never hears of the buyers a channel refused, so without turns such units could stay
    forever where nobody buys them. Each turn costs two stock writes per SKU; 0 turns them
    off."""

    @field_validator("status_page")
    @classmethod
    def _status_page(cls, address: str | None) -> str | None:
        if address is None:
            return None
        host, port = listen_address(address)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def status_page_address(self) -> tuple[str, int] | None:
        """``(host, port)`` of :attr:`status_page` (None when the page is off)."""
        return listen_address(self.status_page) if self.status_page is not None else None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{name!r} is not a known IANA time zone, e.g. Asia/Ho_Chi_Minh"
            ) from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        """:attr:`timezone` as a :class:`~zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.timezone)

    @model_validator(mode="before")
    @classmethod
    def _default_is_first_location(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "default_location" not in data:
            named = data.get("locations")
            if isinstance(named, list | tuple) and named and isinstance(named[0], str):
                return {**data, "default_location": named[0]}
        return data

    @property
    def named_locations(self) -> tuple[str, ...]:
        """``default_location`` and ``locations``, each once, the default first."""
        return tuple(dict.fromkeys((self.default_location, *self.locations)))

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
    connection drops). ``queue`` prefixes the queue names: ``{queue}.poll`` (order polls),
    ``{queue}.intake`` (webhook events), ``{queue}.push`` (outbox drains) and
    ``{queue}.maintenance`` (reconciliation, customer and catalog reads, the push
    dispatcher).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    broker_url: str = "redis://127.0.0.1:6379/0"
    """The Celery broker: ``redis://HOST:6379/0`` or ``amqp://USER:PASSWORD@HOST:5672//``."""
    rate_limit_url: str | None = None
    """The Redis holding the rate budgets every worker shares (unset: the broker when it is
    Redis; a RabbitMQ broker needs it set)."""
    visibility_timeout: Duration = Field(default=timedelta(minutes=5), gt=timedelta(0))
    """How long a Redis broker waits before it gives the task of a worker that died to
    another worker (RabbitMQ redelivers as soon as the connection drops)."""
    queue: str = Field(default="omnisdk", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """Prefix of the queue names: ``{queue}.poll``, ``{queue}.intake``, ``{queue}.push``,
    ``{queue}.maintenance``."""
    open_channels: int = Field(default=100, ge=1)
    """How many accounts' channels (HTTP connections, tokens) a worker process keeps open at
    most: a worker opens an account's channel when a task for it first arrives and, after a
    task, closes the least recently used ones past this number."""

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

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    store: StoreConfig = StoreConfig()
    engine: EngineConfig = EngineConfig()
    celery: CeleryConfig = CeleryConfig()
    channels: list[ChannelConfig] = Field(default_factory=list)
    promotions: list[Promotion] = Field(default_factory=list)
    """``[[promotions]]``: price cuts of the master catalog; their times without a zone are
    read in ``[engine] timezone``."""

    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _promotion_times_in_the_shops_zone(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("promotions"):
            return data
        engine = data.get("engine") or {}
        name = engine.timezone if isinstance(engine, EngineConfig) else engine.get("timezone")
        try:
            zone = ZoneInfo(name or EngineConfig.model_fields["timezone"].default)
        except (ZoneInfoNotFoundError, ValueError):
            return data  # the engine table reports the bad zone
        promotions = []
        for raw in data["promotions"]:
            if isinstance(raw, dict):
                raw = dict(raw)
                for key in ("starts_at", "ends_at"):
                    value = raw.get(key)
                    if isinstance(value, str):
                        try:
                            value = datetime.fromisoformat(value)
                        except ValueError:
                            continue  # the promotion's own validation says what is wrong
                    if isinstance(value, datetime) and value.tzinfo is None:
                        raw[key] = value.replace(tzinfo=zone)
            promotions.append(raw)
        return {**data, "promotions": promotions}

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


def reserve_location(entry: ChannelConfig, engine: EngineConfig) -> str:
    """Where the orders of the account ``entry`` reserve stock: its ``location``, else the
    first location its stock comes from (``[channels.allocation] locations``), else
    ``[engine] default_location``."""
    if entry.location:
        return entry.location
    if entry.allocation.locations:
        return entry.allocation.locations[0]
    return engine.default_location
