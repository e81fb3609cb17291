"""``omnisdk check``: validate the config and prove every channel account's credentials work."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict
from rich.table import Table
from rich.text import Text

from omnisdk.channel import ChannelInfo
from omnisdk.cli.output import emit_json, print_note, stdout_console
from omnisdk.cli.state import get_state
from omnisdk.config import ChannelConfig, Config, build_channel
from omnisdk.errors import OmnisdkError
from omnisdk.plugins import Plugins

__all__ = ["ChannelCheck", "check", "check_channels"]

logger = logging.getLogger("omnisdk.cli")


class ChannelCheck(BaseModel):
    """The outcome of checking one configured account: what ``omnisdk check --json`` prints.

    ``info`` is what the channel learnt (shop name, currency) when ``ok``; ``error`` says why
    not otherwise.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    ok: bool
    info: ChannelInfo | None = None
    error: str | None = None


def _redact(message: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


async def _check_one(entry: ChannelConfig, plugins: Plugins, seconds: float) -> ChannelCheck:
    def failed(error: str) -> ChannelCheck:
        return ChannelCheck(name=entry.name, type=entry.type, ok=False, error=error)

    try:
        channel = build_channel(entry, plugins)
    except OmnisdkError as exc:
        return failed(str(exc))
    secrets = channel.settings.secret_values()
    try:
        async with channel:
            async with asyncio.timeout(seconds):
                info = await channel.check()
    except TimeoutError:
        return failed(f"no answer within {seconds:g}s")
    except OmnisdkError as exc:
        return failed(_redact(str(exc), secrets))
    except Exception as exc:  # a plugin's bug must not hide the other accounts' results
        logger.debug("checking %s failed", entry.name, exc_info=True)
        return failed(_redact(f"{type(exc).__name__}: {exc}", secrets))
    return ChannelCheck(name=entry.name, type=entry.type, ok=True, info=info)


async def check_channels(
    config: Config, plugins: Plugins, *, seconds: float = 60.0
) -> list[ChannelCheck]:
    """Check every account of ``config`` concurrently; one result per account, in file order.

    ``seconds`` bounds each account's check.
    """
    return list(
        await asyncio.gather(*(_check_one(entry, plugins, seconds) for entry in config.channels))
    )


def _print_table(results: list[ChannelCheck]) -> None:
    table = Table("Channel", "Type", "Status", "Shop", "Currency", "Details", title="Channels")
    for result in results:
        if result.ok and result.info is not None:
            details = ", ".join(f"{k}={v}" for k, v in result.info.details.items())
            if result.info.timezone:
                details = f"timezone={result.info.timezone}" + (f", {details}" if details else "")
            status = Text("ok", style="green")
            shop, currency = result.info.name, result.info.currency or "-"
        else:
            status, shop, currency = Text("failed", style="bold red"), "-", "-"
            details = result.error or ""
        table.add_row(
            Text(result.name), Text(result.type), status, Text(shop), Text(currency), Text(details)
        )
    stdout_console().print(table)


def check(
    ctx: typer.Context,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print a JSON array, one object per account, instead of a table."
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(min=0.1, metavar="SECONDS", help="Give up on an account after this long."),
    ] = 60.0,
) -> None:
    """Validate the config, connect to every channel account and show what each one is.

    Accounts are checked concurrently. Exits with 1 if any account failed.
    """
    state = get_state(ctx)
    config = state.config()
    results = asyncio.run(check_channels(config, state.plugins, seconds=timeout))
    if json_output:
        emit_json([result.model_dump(mode="json") for result in results])
    elif results:
        _print_table(results)
    if not results:
        print_note(f"{config.source or 'the config'}: valid; no channels configured")
    failures = sum(not result.ok for result in results)
    if failures:
        print_note(f"{failures} of {len(results)} channel accounts failed")
        raise typer.Exit(1)
