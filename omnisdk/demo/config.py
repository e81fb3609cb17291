"""The demo's ``omnisdk.toml``: one engine on SQLite, pointed at the sandboxes it started."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from omnisdk.demo.shops import DemoChannel
from omnisdk.errors import UsageError

__all__ = ["write_demo_config"]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise UsageError(f"cannot write {type(value).__name__} into the demo config")


def write_demo_config(
    directory: Path,
    channels: Iterable[DemoChannel],
    *,
    safety_buffer: int,
    poll_orders: str = "2s",
    push_interval: str = "1s",
    allocation: str = "quota",
) -> Path:
    """Write the demo's ``omnisdk.toml`` in ``directory`` (SQLite beside it); returns its path.

    The receiver takes a free port (``webhook_port = 0``). Orders are polled every
    ``poll_orders`` so a missed webhook costs seconds, not minutes. ``allocation`` is the
    ``[engine] allocation`` strategy.
    """
    lines = [
        "# Written by `omnisdk demo`: the sandboxes it started, on loopback.",
        "[store]",
        'url = "sqlite:///omnisdk.db"',
        "",
        "[engine]",
        f"push_interval = {_toml_value(push_interval)}",
        f"allocation = {_toml_value(allocation)}",
        'reconcile_interval = "1h"',
        'initial_backfill = "1d"',
        'webhook_host = "127.0.0.1"',
        "webhook_port = 0",
        "",
    ]
    for channel in channels:
        lines += [
            "[[channels]]",
            f"name = {_toml_value(channel.account)}",
            f"type = {_toml_value(channel.channel_type)}",
            "[channels.settings]",
        ]
        for key, value in channel.settings.items():
            if value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
        lines += [
            "[channels.allocation]",
            f"safety_buffer = {safety_buffer}",
            "[channels.poll]",
            f"orders = {_toml_value(poll_orders)}",
            "",
        ]
    path = directory / "omnisdk.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
