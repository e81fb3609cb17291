"""Shopify locations and the merchant's own location codes.

omnisdk names a place stock sits in by the merchant's code (``Location.code``,
``StockLevel.location``, ``Order.pickup_location``, ``StockUpdate.location``). For a Shopify
location that code is:

1. ``location_codes[<numeric id>]`` when the settings map the location's id (a global id
   ``gid://shopify/Location/N`` works as a key too);
2. else ``location_codes[<name>]`` when they map its name (compared case-insensitively);
3. else Shopify's numeric location id itself (``"655441491"``), so without any map every
   part of the plugin agrees on the id.

Going back (a code the engine sends to a write), a mapped code gives its location's id, a
numeric or global id is taken as the id, and a code mapped by name needs the location's name
to have been seen (the channel reads the shop's locations when it has not).

Beyond the plugin shape: location codes are shared by the mapping, the order writes and the
channel.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

__all__ = ["LocationCodes", "legacy_id"]


def legacy_id(value: str | int) -> str:
    """The numeric id in a global id (``gid://shopify/Location/12?x=1`` -> ``"12"``)."""
    return str(value).rsplit("/", 1)[-1].split("?", 1)[0]


def _numeric(key: str) -> str | None:
    """The numeric id ``key`` names, or None when it is a name."""
    text = key.strip()
    if text.startswith("gid://shopify/Location/"):
        return legacy_id(text)
    return text if text.isdigit() else None


class LocationCodes:
    """Translate between Shopify locations and the merchant's location codes.

    ``configured`` is the settings' ``location_codes``: keys are Shopify location ids
    (numeric or global) or location names, values the merchant's codes. :meth:`learn`
    records the names of locations the channel has read, so name keys and pick-up shipping
    lines (which carry only the store's name) can be resolved.
    """

    def __init__(self, configured: Mapping[str, str] | None = None) -> None:
        self._by_id: dict[str, str] = {}
        self._by_name: dict[str, str] = {}
        for key, code in (configured or {}).items():
            numeric = _numeric(key)
            if numeric is not None:
                self._by_id[numeric] = code
            else:
                self._by_name[key.strip().casefold()] = code
        self._names: dict[str, str] = {}
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        mapped = len(self._by_id) + len(self._by_name)
        return f"<LocationCodes mapped={mapped} known={len(self._names)}>"

    def learn(self, location_id: str | int, name: str | None) -> None:
        """Remember a location's name (from a read)."""
        if not name:
            return
        numeric = legacy_id(location_id)
        with self._lock:
            self._names[numeric] = name
            self._ids[name.strip().casefold()] = numeric

    @property
    def known(self) -> bool:
        """Whether any location's name has been learnt."""
        return bool(self._names)

    def code_of(self, location_id: str | int, name: str | None = None) -> str:
        """The merchant's code for a Shopify location (see the module docstring)."""
        numeric = legacy_id(location_id)
        if numeric in self._by_id:
            return self._by_id[numeric]
        name = name or self._names.get(numeric)
        if name and name.strip().casefold() in self._by_name:
            return self._by_name[name.strip().casefold()]
        return numeric

    def code_of_name(self, name: str | None) -> str | None:
        """The code of the location called ``name``, or None when no location has that name
        (in the map or among the locations learnt)."""
        if not name:
            return None
        folded = name.strip().casefold()
        numeric = self._ids.get(folded)
        if numeric is not None:
            return self.code_of(numeric, name)
        return self._by_name.get(folded)

    def location_id(self, code: str) -> str | None:
        """The numeric Shopify location id behind ``code``; None when it cannot be told yet
        (an unknown code, or a code mapped by a name not learnt)."""
        for numeric, mapped in self._by_id.items():
            if mapped == code:
                return numeric
        for folded, mapped in self._by_name.items():
            if mapped == code:
                return self._ids.get(folded)
        return _numeric(code)
