"""What the engine's parts work with: the store, the channels, the clock and the hooks.

The :class:`~omnisdk.sync.engine.Engine` builds one :class:`SyncContext` and hands it to the
modules that do its work (intake, stock, pusher, customers, catalog, reconciliation,
status); they never see the Engine itself. The context is plain: it answers questions about
the configuration and runs store calls off the event loop, and has no operations of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from omnisdk.allocation import AllocationRule
from omnisdk.channel import Capability, Channel
from omnisdk.config import ChannelConfig, Config, reserve_location
from omnisdk.errors import UsageError
from omnisdk.hookspecs import hookimpl
from omnisdk.plugins import Plugins
from omnisdk.store import Store
from omnisdk.sync.channels import ChannelPool

__all__ = ["NOT_OPEN", "RejectedRecords", "SyncContext"]

logger = logging.getLogger("omnisdk.sync")

T = TypeVar("T")
P = ParamSpec("P")

NOT_OPEN = "the engine is not open: call `await engine.open()` first"
"""The message of the error raised when the engine is used before it was opened."""


@dataclass
class SyncContext:
    """The store, channels, clock and hooks one engine's parts share.

    ``channels`` is the engine's own (live) pool of channels by account name (a lookup may
    build the account's channel; ask :meth:`capabilities` for what a type can do);
    ``owner`` the engine's name as a lease owner in the outbox; ``rejected`` counts, per
    (account, kind), the records the channels could not map (see :class:`RejectedRecords`).
    """

    config: Config
    store: Store
    plugins: Plugins
    channels: ChannelPool
    clock: Callable[[], datetime]
    owner: str
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    stopped_seen: set[str] = field(default_factory=set)
    """Accounts this engine found stopped: when one is ``active`` again (authorised by
    another process), its channel forgets the credentials it held."""

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the synchronous (store) call ``fn(*args, **kwargs)`` in a worker thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def now(self) -> datetime:
        """The engine's current time (aware UTC)."""
        return self.clock()

    def fire(self, hook: str, **kwargs: Any) -> None:
        """Call event hook ``hook``; an implementation that raises is logged and ignored."""
        try:
            getattr(self.plugins.hook, hook)(**kwargs)
        except Exception:
            logger.exception("a %s hook implementation failed", hook)

    def channel(self, account: str) -> Channel:
        """The open channel of ``account``; ConfigError naming the accounts when it is not
        configured, OmnisdkError when the engine is not open."""
        found = self.channels.get(account)
        if found is None:
            self.config.channel(account)  # raises the ConfigError naming the accounts
            raise UsageError(NOT_OPEN)
        return found

    def channel_type(self, account: str) -> str:
        """The channel type of ``account`` (``"shopee"``, ...), open or not."""
        channel = self.channels.peek(account)
        return channel.name if channel is not None else self.account_config(account).type

    def capabilities(self, account: str) -> frozenset[Capability]:
        """What ``account``'s channel type can do (no channel is built for the question)."""
        return self.channels.capabilities(account)

    def account_config(self, account: str) -> ChannelConfig:
        """The ``[[channels]]`` entry of ``account`` (ConfigError listing the others if none)."""
        return self.config.channel(account)

    def location_of(self, account: str) -> str:
        """The location code orders of ``account`` reserve at: its ``location``, else the
        first location its stock comes from (``[channels.allocation] locations``), else
        ``[engine] default_location``."""
        for entry in self.config.channels:
            if entry.name == account:
                return reserve_location(entry, self.config.engine)
        return self.config.engine.default_location

    def configured_locations(self) -> set[str]:
        """Location codes the config names: ``[engine] default_location`` and ``locations``,
        every account's ``location`` and the locations its allocation rule draws from."""
        engine = self.config.engine
        codes = {engine.default_location, *engine.locations}
        for entry in self.config.channels:
            if entry.location:
                codes.add(entry.location)
            codes.update(entry.allocation.locations or ())
        return codes

    def rule_of(self, account: str) -> AllocationRule:
        """The allocation rule of ``account`` (the default rule for unconfigured accounts)."""
        for entry in self.config.channels:
            if entry.name == account:
                return entry.allocation
        return AllocationRule()

    def stock_accounts(self) -> frozenset[str]:
        """The configured accounts whose channel takes stock writes (none is built)."""
        return frozenset(
            name
            for name in self.channels
            if Capability.WRITE_STOCK in self.channels.capabilities(name)
        )

    def sells_on_channel(self, account: str) -> bool:
        """Whether ``account``'s orders are sold through its channel, from the figure it lists
        (a marketplace, a web shop, a POS): such an order moves the channel's own counter, and
        an absolute write can undo one. A channel without an order API (a catalog whose chat
        sales the app records with ``record_order``) shows what was pushed until the next
        push: its orders move the ledger only. Unknown accounts count as selling."""
        if account not in self.channels:
            return True
        return Capability.READ_ORDERS in self.channels.capabilities(account)

    def rejections(self, account: str, kind: str) -> int:
        """How many ``kind`` records (``"customer"``, ...) of ``account`` its channel could not
        map and this engine quarantined since it was built (pollers count a pass's share)."""
        return self.rejected[(account, kind)]


class RejectedRecords:
    """The engine's ``omnisdk_record_rejected`` implementation: quarantine and count what one
    of its channels could not map (registered in the engine's :class:`Plugins` while open)."""

    def __init__(self, context: SyncContext) -> None:
        self._context = context

    @hookimpl
    def omnisdk_record_rejected(
        self,
        channel: Channel,
        kind: str,
        external_id: str | None,
        raw: dict[str, Any],
        reason: str,
    ) -> None:
        """Quarantine a payload one of this engine's channels could not map."""
        context = self._context
        if context.channels.peek(channel.account) is not channel:
            return  # another engine's channel sharing the registry: not ours to keep
        context.store.quarantine(channel.account, kind, external_id, reason, raw)
        context.rejected[(channel.account, kind)] += 1
