"""``omnisdk pull``: stream canonical objects from one channel account.

Objects are written as they arrive (never collected), as JSON lines with ``--json``. A record
the channel cannot map is reported on stderr through an in-process
``omnisdk_record_rejected`` hook implementation and the stream goes on.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from omnisdk.channel import Channel
from omnisdk.cli.output import (
    emit_json_line,
    print_note,
    print_warning,
    silence_stdout,
    stdout_console,
)
from omnisdk.cli.render import object_line
from omnisdk.cli.state import get_state
from omnisdk.config import build_channel, parse_duration
from omnisdk.hookspecs import hookimpl

__all__ = ["PullStream", "RejectionReporter", "parse_since", "pull", "stream_objects"]


class PullStream(enum.StrEnum):
    """What ``omnisdk pull`` can read."""

    PRODUCTS = "products"
    ORDERS = "orders"
    CUSTOMERS = "customers"
    LOCATIONS = "locations"


def _noun(stream: PullStream, count: int) -> str:
    """``products`` / ``1 product``: the stream's noun for ``count`` objects."""
    return stream.value if count != 1 else stream.value.removesuffix("s")


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """Read a ``--since`` value: an ISO 8601 date or datetime, or an age such as ``2d``, ``6h``.

    A date or datetime without an offset is taken as UTC. An age counts back from ``now``.
    Raises ValueError saying what is accepted.
    """
    try:
        return (now or datetime.now(UTC)) - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO 8601 date or datetime (2024-05-01, "
            "2024-05-01T08:30:00+07:00) nor an age (30m, 6h, 2d, 1w)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class RejectionReporter:
    """An in-process ``omnisdk_record_rejected`` hook: prints each rejection as it happens."""

    @hookimpl
    def omnisdk_record_rejected(
        self, channel: Channel, kind: str, external_id: str | None, raw: dict[str, Any], reason: str
    ) -> None:
        """Report one record the channel could not map (the stream goes on)."""
        print_warning(f"rejected {kind}: {reason}")


def stream_objects(
    channel: Channel, stream: PullStream, since: datetime | None
) -> AsyncIterator[BaseModel]:
    """The channel's async iterator for ``stream`` (``since`` is its ``updated_since``)."""
    iterator: AsyncIterator[Any]
    if stream is PullStream.PRODUCTS:
        iterator = channel.stream_products(updated_since=since)
    elif stream is PullStream.ORDERS:
        iterator = channel.stream_orders(updated_since=since)
    elif stream is PullStream.CUSTOMERS:
        iterator = channel.stream_customers(updated_since=since)
    else:
        iterator = channel.stream_locations()
    return iterator


async def _pull(
    channel: Channel,
    stream: PullStream,
    since: datetime | None,
    limit: int | None,
    write: Callable[[BaseModel], None],
) -> int:
    written = 0
    async with channel:
        iterator = stream_objects(channel, stream, since)
        try:
            async for item in iterator:
                write(item)
                written += 1
                if limit is not None and written >= limit:
                    break
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
    return written


def pull(
    ctx: typer.Context,
    stream: Annotated[PullStream, typer.Argument(help="What to read.", show_default=False)],
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            "-C",
            metavar="NAME",
            show_default=False,
            help="The account to read from: a channel name in the config.",
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="Only objects changed since WHEN: an ISO 8601 date or datetime (UTC unless it has "
            "an offset) or an age such as 30m, 6h, 2d, 1w.",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Stop after N objects.")
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON lines: each object exactly as its pydantic model's JSON.",
        ),
    ] = False,
) -> None:
    """Stream products, orders, customers or locations from one channel account.

    Objects are printed as they arrive. Records the channel cannot map are reported on stderr
    and skipped; the stream goes on. How many objects came (and were rejected) is printed on
    stderr at the end, also when there were none.
    """
    state = get_state(ctx)
    updated_since = None
    if since is not None:
        if stream is PullStream.LOCATIONS:
            raise typer.BadParameter("locations have no change time", param_hint="--since")
        try:
            updated_since = parse_since(since)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--since") from None

    entry = state.config().channel(channel)
    account = build_channel(entry, state.plugins)
    console = stdout_console()

    def write(item: BaseModel) -> None:
        if json_output:
            emit_json_line(item)
        else:
            console.print(object_line(item))  # long lines wrap between words

    reporter = RejectionReporter()
    state.plugins.register(reporter, name=f"omnisdk.cli.rejections.{id(reporter)}")
    try:
        written = asyncio.run(_pull(account, stream, updated_since, limit, write))
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        silence_stdout()
        return
    finally:
        state.plugins.unregister(reporter)
    rejected = account.mapping_stats.rejected
    summary = f"{written} {_noun(stream, written)} from {channel}"
    if rejected:
        summary += f", {rejected} {'record' if rejected == 1 else 'records'} rejected"
    if since is not None:
        summary += f" (changed since {updated_since:%Y-%m-%d %H:%M} UTC)"
    print_note(summary)
    if written == 0 and not rejected and since is None:
        print_note(f"the account has no {stream.value} yet")
