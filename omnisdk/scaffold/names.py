"""The names of a plugin, all derived from its channel type, and the tokens they fill."""

from __future__ import annotations

import re
from dataclasses import dataclass

from omnisdk.errors import OmnisdkError

__all__ = ["NAME_PATTERN", "PluginNames", "ScaffoldError"]

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]{1,29}")
"""A channel type: 2 to 30 lowercase ASCII letters and digits, starting with a letter."""


class ScaffoldError(OmnisdkError):
    """A plugin cannot be generated: a bad name, or the target directory exists."""


@dataclass(frozen=True)
class PluginNames:
    """Every name a generated plugin uses, from its channel type ``name`` (``tiki``).

    ``title`` is the class and header prefix (``Tiki``: ``TikiChannel``, ``X-Tiki-Signature``),
    ``package`` the import package (``omnisdk_tiki``), ``distribution`` the pip name and
    directory (``omnisdk-tiki``).
    """

    name: str
    title: str
    package: str
    distribution: str

    @classmethod
    def from_name(cls, name: str) -> PluginNames:
        """The names for channel type ``name``; :class:`ScaffoldError` if it is not one."""
        if not NAME_PATTERN.fullmatch(name):
            raise ScaffoldError(
                f"{name!r} is not a plugin name: use 2 to 30 lowercase letters and digits, "
                "starting with a letter (e.g. tiki)"
            )
        return cls(
            name=name,
            title=name.capitalize(),
            package=f"omnisdk_{name}",
            distribution=f"omnisdk-{name}",
        )

    def tokens(self) -> dict[str, str]:
        """What each template token becomes: ``{"{{name}}": "tiki", ...}``."""
        return {
            "{{name}}": self.name,
            "{{Title}}": self.title,
            "{{package}}": self.package,
            "{{distribution}}": self.distribution,
        }
