"""``channels/*.md``: one page per installed channel type, from what its class declares.

Capabilities, limits (batch sizes, rate budget, token lifetimes, webhook topics) and the
settings model are read from the Channel subclass each plugin registers, so a page changes
when the plugin does.
"""

from __future__ import annotations

from pydantic_core import PydanticUndefined

from omnisdk.channel import Capability, ChannelSettings
from omnisdk.plugins import ChannelType, Plugins

from .text import cell, describe_default, describe_type, docstring, duration_text

__all__ = ["channel_index_page", "channel_page", "channel_pages"]

INDEX_HEADER = """# Channels

<!-- Generated at build time from the installed plugins' declarations (scripts/manual). -->

Every installed channel type, what it can do and the platform limits the engine acts on
(`omnisdk plugins --json` prints the same). Getting credentials for a real account is in
[Connecting real accounts](../guide/accounts.md).
"""


def _limits(channel_type: ChannelType) -> dict[str, str]:
    lim = channel_type.cls.limits
    return {
        "stock push": lim.stock_push_mode.value,
        "stock batch": str(lim.max_stock_batch),
        "price batch": str(lim.max_price_batch),
        "product batch": str(lim.max_product_batch),
        "page size": str(lim.page_size),
        "requests/s (burst)": f"{lim.rate.requests_per_second:g} ({lim.rate.burst})",
        "access token lives": duration_text(lim.access_token_ttl)
        if lim.access_token_ttl else "does not expire",
        "refresh token lives": duration_text(lim.refresh_token_ttl)
        if lim.refresh_token_ttl else "-",
        "promotions": lim.promotion_mechanism.value if lim.promotion_mechanism else "cannot",
    }


def channel_index_page(types: dict[str, ChannelType]) -> str:
    """The Markdown of channels/index.md: capability and limit tables of every channel type."""
    caps = list(Capability)
    lines = [
        INDEX_HEADER,
        "| channel | " + " | ".join(c.value for c in caps) + " |",
        "|---|" + "---|" * len(caps),
    ]
    for name, channel_type in types.items():
        marks = ["yes" if c in channel_type.cls.capabilities else "" for c in caps]
        lines.append(f"| [{name}]({name}.md) | " + " | ".join(marks) + " |")
    columns = list(_limits(next(iter(types.values())))) if types else []
    lines += ["", "| channel | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name, channel_type in types.items():
        lines.append(f"| {name} | " + " | ".join(_limits(channel_type).values()) + " |")
    return "\n".join(lines) + "\n"


def _settings_rows(model: type[ChannelSettings]) -> list[str]:
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, field in model.model_fields.items():
        if field.default_factory is not None:
            default = describe_default(field.default_factory())  # type: ignore[call-arg]
        elif field.default is PydanticUndefined:
            default = "required"
        else:
            default = describe_default(field.default)
        rows.append(f"| `{key}` | {describe_type(field.annotation)} | `{default}` | "
                    f"{cell(field.description or '')} |")
    return rows


def channel_page(channel_type: ChannelType) -> str:
    """The Markdown of one channel type's page."""
    cls = channel_type.cls
    title = cls.title or cls.name
    dist = channel_type.distribution or channel_type.plugin
    sandbox = f"ships a sandbox (`omnisdk sandbox {cls.name}`)" if cls.sandbox else "no sandbox"
    lines = [
        f"# {title} (`{cls.name}`)",
        "",
        "<!-- Generated at build time from the plugin's Channel class (scripts/manual). -->",
        "",
        f"Distribution `{dist}` {channel_type.version or ''}; {sandbox}.",
        "",
        docstring(cls),
        "",
        "## Capabilities",
        "",
        *(f"- `{cap.value}`" for cap in Capability if cap in cls.capabilities),
        "",
        "## Limits",
        "",
        "| limit | value |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in _limits(channel_type).items()),
        "",
    ]
    topics = cls.limits.webhook_topics
    if topics:
        lines += ["Webhook topics: " + ", ".join(f"`{topic}`" for topic in topics) + ".", ""]
    lines += [
        "## Settings (`[channels.settings]`)",
        "",
        docstring(cls.settings_model),
        "",
        *_settings_rows(cls.settings_model),
    ]
    return "\n".join(lines) + "\n"


def channel_pages(plugins: Plugins | None = None) -> dict[str, str]:
    """``{"channels/NAME.md": markdown}`` for every installed channel type, plus the index."""
    types = dict(sorted((plugins or Plugins()).channel_types().items()))
    pages = {"channels/index.md": channel_index_page(types)}
    for name, channel_type in types.items():
        pages[f"channels/{name}.md"] = channel_page(channel_type)
    return pages
