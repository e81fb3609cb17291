"""The Graph API client of one catalog: versioned paths, proof on every call, cursor paging.

Every call goes to ``{base_url}/{api_version}/{node}[/{edge}]`` and carries ``access_token``
and ``appsecret_proof`` in the query string (Meta's SDK does the same for every method). POST
bodies are form-encoded; a parameter that is a dict, a list or a bool is sent as JSON
(``requests=[...]``, ``allow_upsert=false``, ``filter={...}``), as Graph expects.
:meth:`GraphClient.pages` follows the cursor: the next page is asked for with ``after`` only
while the answer has ``paging.next`` (``after`` is there even on the last page).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from omnisdk.errors import PlatformUnavailable
from omnisdk.http import HttpClient, Lane
from omnisdk_facebook.auth import appsecret_proof
from omnisdk_facebook.errors import parse_body

__all__ = ["GraphClient", "graph_params"]


def graph_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Parameters as Graph reads them: dicts, lists and bools as JSON, the rest as text."""
    encoded: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, dict | list | tuple | bool):
            encoded[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            encoded[name] = str(value)
    return encoded


class GraphClient:
    """Graph calls for one app and token, over the account's :class:`HttpClient`."""

    def __init__(
        self, http: HttpClient, *, api_version: str, access_token: str, app_secret: str
    ) -> None:
        self.http = http
        self.api_version = api_version
        self._auth = {
            "access_token": access_token,
            "appsecret_proof": appsecret_proof(app_secret, access_token),
        }
        http.add_secret(access_token)
        http.add_secret(self._auth["appsecret_proof"])

    def path(self, node: str, edge: str | None = None) -> str:
        """``/v26.0/{node}`` or ``/v26.0/{node}/{edge}``."""
        return f"/{self.api_version}/{node}" + (f"/{edge}" if edge else "")

    async def get(
        self,
        node: str,
        edge: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
    ) -> dict[str, Any]:
        """GET a node or an edge; the decoded body."""
        query = {**graph_params(params), **self._auth}
        response = await self.http.get(self.path(node, edge), params=query, lane=lane)
        return _object(response.content)

    async def post(
        self,
        node: str,
        edge: str | None = None,
        data: Mapping[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
        retry: bool = True,
    ) -> dict[str, Any]:
        """POST form-encoded ``data`` to a node or an edge; the decoded body."""
        response = await self.http.post(
            self.path(node, edge), params=self._auth, data=graph_params(data), lane=lane,
            retry=retry,
        )
        return _object(response.content)

    async def pages(
        self,
        node: str,
        edge: str,
        params: Mapping[str, Any] | None = None,
        *,
        lane: Lane = Lane.DEFAULT,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page's ``data`` of an edge, following ``paging.cursors.after`` while
        ``paging.next`` says there is more."""
        query = dict(params or {})
        while True:
            body = await self.get(node, edge, query, lane=lane)
            data = body.get("data")
            if not isinstance(data, list):
                raise PlatformUnavailable(f"Meta answered {edge} without a data list")
            yield [row for row in data if isinstance(row, dict)]
            paging = body.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not paging.get("next") or not isinstance(after, str) or not after:
                return
            if query.get("after") == after:
                raise PlatformUnavailable(f"Meta answered {edge} with the same cursor again")
            query["after"] = after


def _object(content: bytes) -> dict[str, Any]:
    try:
        body = parse_body(content) if content.strip() else {}
    except ValueError:
        raise PlatformUnavailable("Meta answered with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise PlatformUnavailable("Meta answered with JSON that is not an object")
    return body
