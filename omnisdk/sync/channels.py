"""The engine's channels: one per configured account, built when first asked for.

:class:`ChannelPool` is the mapping of account name to :class:`~omnisdk.channel.Channel` that
the engine and its parts share. It holds every configured account (``in``, ``len`` and
iteration answer from the config, no channel is built for them), and it builds an account's
channel the first time it is looked up. The embedded runtime opens them all at once
(:meth:`ChannelPool.open_all`); a scale-out worker serves hundreds of accounts and opens only
those its tasks ask for, then closes the least recently used ones past a bound
(:meth:`ChannelPool.trim`), between two tasks so no channel is closed while in use.

What a channel type can do is a class attribute, so the questions the engine asks about all
accounts at once (which accounts take stock writes, which sell through their channel) are
answered without building a channel (:meth:`ChannelPool.capabilities`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping

from omnisdk.channel import Capability, Channel
from omnisdk.config import ChannelConfig, Config
from omnisdk.plugins import Plugins

__all__ = ["ChannelPool"]

logger = logging.getLogger("omnisdk.sync")


class ChannelPool(Mapping[str, Channel]):
    """The channels of ``config``'s accounts, each built by ``build`` on first lookup.

    Looking an account up (``pool[name]``, ``pool.get(name)``) builds its channel when it is
    not open yet (KeyError for an account the config does not name); :meth:`peek` never
    builds. Iterating the values builds every channel, as the embedded runtime wants. The
    pool is empty until :meth:`start` and after :meth:`aclose` (the engine is closed then).
    """

    def __init__(
        self,
        config: Config,
        plugins: Plugins,
        build: Callable[[ChannelConfig], Channel],
    ) -> None:
        self._entries = {entry.name: entry for entry in config.channels}
        self._plugins = plugins
        self._build = build
        self._open: OrderedDict[str, Channel] = OrderedDict()
        self._live = False
        self._classes: dict[str, type[Channel]] | None = None
        self.builds = 0
        """How many channels this pool built (reopening a closed one counts again)."""
        self.closed = 0
        """How many channels :meth:`trim` closed."""

    def __getitem__(self, account: str) -> Channel:
        channel = self._open.get(account)
        if channel is not None:
            self._open.move_to_end(account)
            return channel
        if not self._live:
            raise KeyError(account)
        entry = self._entries[account]  # KeyError: not configured
        channel = self._build(entry)
        self._open[account] = channel
        self.builds += 1
        return channel

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries if self._live else ())

    def __len__(self) -> int:
        return len(self._entries) if self._live else 0

    def __contains__(self, account: object) -> bool:
        return self._live and account in self._entries

    def start(self) -> None:
        """Serve the configured accounts (until :meth:`aclose`); before, the pool is empty."""
        self._live = True

    def __repr__(self) -> str:
        return f"<ChannelPool accounts={len(self._entries)} open={len(self._open)}>"

    def peek(self, account: str) -> Channel | None:
        """The open channel of ``account``, or None (nothing is built)."""
        return self._open.get(account)

    def replace(self, account: str, channel: Channel) -> Channel | None:
        """Serve ``channel`` for ``account`` from now on (new credentials); returns the channel
        it replaces, if one was open, for the caller to close. KeyError for an account the
        config does not name."""
        if account not in self._entries:
            raise KeyError(account)
        old = self._open.pop(account, None)
        self._open[account] = channel
        return old

    @property
    def open_accounts(self) -> list[str]:
        """The accounts whose channel is open, least recently used first."""
        return list(self._open)

    def open_all(self) -> None:
        """Build every account's channel (the embedded runtime serves them all)."""
        for account in self._entries:
            self[account]

    def channel_class(self, account: str) -> type[Channel] | None:
        """The channel class of ``account`` (no channel is built): its capabilities and
        limits are class attributes. None for an account the config does not name or while
        the pool is closed."""
        if not self._live:
            return None
        if self._classes is None:
            self._classes = {
                name: self._plugins.channel_class(entry.type)
                for name, entry in self._entries.items()
            }
        return self._classes.get(account)

    def capabilities(self, account: str) -> frozenset[Capability]:
        """What ``account``'s channel type can do (see :meth:`channel_class`; empty when
        there is none)."""
        cls = self.channel_class(account)
        return cls.capabilities if cls is not None else frozenset()

    async def trim(self, keep: int) -> int:
        """Close the least recently used channels until at most ``keep`` are open; returns
        how many were closed. Call it when no work is using a channel (between tasks)."""
        closed = 0
        while len(self._open) > max(keep, 0):
            _, channel = self._open.popitem(last=False)
            await _close(channel)
            closed += 1
        self.closed += closed
        return closed

    async def aclose(self) -> None:
        """Close every open channel; the pool is empty until :meth:`start` again."""
        self._live = False
        channels = list(self._open.values())
        self._open.clear()
        for channel in channels:
            await _close(channel)


async def _close(channel: Channel) -> None:
    try:
        await channel.aclose()
    except Exception:  # closing must go on for the others
        logger.exception("closing %r failed", channel)
