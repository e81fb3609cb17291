"""``omnisdk version`` and ``omnisdk plugins``: what is installed."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

import omnisdk
from omnisdk.cli.output import emit_json, print_warning, stdout_console
from omnisdk.cli.state import get_state
from omnisdk.plugins import ENTRY_POINT_GROUP, ChannelType, Plugins

__all__ = ["installed_plugins", "plugins", "version"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def installed_plugins(registry: Plugins) -> list[dict[str, Any]]:
    """Every distribution offering an ``omnisdk.plugins`` entry point, and its load status.

    ``status`` is ``loaded``, ``failed`` (see ``omnisdk plugins``) or ``not loaded`` (left
    out by OMNISDK_LOAD_PLUGINS / OMNISDK_DISABLE_PLUGINS, or by the registry in use).
    """
    failed = {failure.name for failure in registry.failures}
    found = []
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist
        if registry.pm.has_plugin(entry_point.name) and entry_point.name not in failed:
            status = "loaded"
        elif entry_point.name in failed:
            status = "failed"
        else:
            status = "not loaded"
        found.append(
            {
                "entry_point": entry_point.name,
                "distribution": dist.name if dist else None,
                "version": dist.version if dist else None,
                "status": status,
            }
        )
    return sorted(found, key=lambda item: item["entry_point"])


def version(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the omnisdk and Python versions and the installed plugin distributions."""
    state = get_state(ctx)
    installed = installed_plugins(state.plugins)
    data: dict[str, Any] = {
        "omnisdk": omnisdk.__version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "plugins": installed,
    }
    if json_output:
        emit_json(data)
        return
    console = stdout_console()
    console.print(f"omnisdk {data['omnisdk']}", markup=False)
    console.print(
        f"Python {data['python']} ({data['implementation']}) on {data['platform']}", markup=False
    )
    if not installed:
        console.print("No plugin distributions installed.", markup=False)
        return
    table = Table("Entry point", "Distribution", "Version", "Status", title="Plugins")
    for item in installed:
        table.add_row(
            *(
                Text(item[key] or "-")
                for key in ("entry_point", "distribution", "version", "status")
            )
        )
    console.print(table)


def _limits_summary(channel_type: ChannelType) -> str:
    limits = channel_type.cls.limits
    rate = limits.rate
    parts = [
        f"stock push: {limits.stock_push_mode.value}",
        f"batches: stock {limits.max_stock_batch}, price {limits.max_price_batch}, "
        f"product {limits.max_product_batch}",
        f"page: {limits.page_size}",
        f"rate: {rate.requests_per_second:g}/s (burst {rate.burst})",
    ]
    if limits.access_token_ttl:
        parts.append(f"token ttl: {limits.access_token_ttl}")
    return "\n".join(parts)


def plugins(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List the installed channel types: distribution, version, capabilities and limits.

    With --json: a JSON array with one object per channel type ({"name", "distribution",
    "version", "capabilities", "limits", ...}). Plugins that failed to load are reported on
    stderr in both modes.
    """
    registry = get_state(ctx).plugins
    types = registry.channel_types()
    if json_output:
        emit_json([channel_type.describe() for channel_type in types.values()])
    elif not types:
        stdout_console().print("No channel types installed.", markup=False)
    else:
        table = Table(
            "Type",
            "Title",
            "Distribution",
            "Version",
            "Capabilities",
            "Limits",
            title="Channel types",
            show_lines=True,
        )
        for channel_type in types.values():
            table.add_row(
                *(
                    Text(cell)
                    for cell in (
                        channel_type.name,
                        channel_type.cls.title or channel_type.name,
                        channel_type.distribution or f"(in-process: {channel_type.plugin})",
                        channel_type.version or "-",
                        "\n".join(sorted(c.value for c in channel_type.cls.capabilities)) or "-",
                        _limits_summary(channel_type),
                    )
                )
            )
        stdout_console().print(table)
    for failure in registry.failures:
        where = f" ({failure.distribution})" if failure.distribution else ""
        print_warning(f"plugin {failure.name!r}{where} failed to load: {failure.error}")
