"""``POST /connect/token``: the identity server's client-credentials grant.

Form-encoded ``grant_type=client_credentials``, ``client_id``, ``client_secret`` and
``scopes`` (KiotViet's doc) or ``scope`` (OAuth's spelling) or neither. Answers
``{"access_token", "expires_in", "token_type": "Bearer", "scope"}``; refusals are
IdentityServer's ``{"error": "invalid_client"}`` (400), never the API envelope.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi, route
from omnisdk.testing.responses import json_response

if TYPE_CHECKING:
    from omnisdk_pos.sandbox.app import KiotVietSandbox  # noqa: F401

__all__ = ["TOKEN_PATH", "TokenApi"]

TOKEN_PATH = "/connect/token"  # noqa: S105 (a path)
SCOPE = "PublicApi.Access"


class TokenApi(SandboxApi["KiotVietSandbox"]):
    """The identity server (``id.kiotviet.vn``), served by the same app."""

    @route("POST", TOKEN_PATH)
    async def token(self, request: Request) -> Response:
        """Issue an access token for valid client credentials."""
        raw = (await request.body()).decode("utf-8", errors="replace")
        if "json" in request.headers.get("content-type", ""):
            return json_response({"error": "invalid_request"}, 400)
        form = {key.lower(): value for key, value in parse_qsl(raw, keep_blank_values=True)}
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        scope = form.get("scopes", form.get("scope", SCOPE)) or SCOPE
        if scope != SCOPE:
            return json_response({"error": "invalid_scope"}, 400)
        sandbox = self.sandbox
        client_ok = hmac.compare_digest(form.get("client_id", ""), sandbox.client_id)
        secret_ok = hmac.compare_digest(form.get("client_secret", ""), sandbox.client_secret)
        if not (client_ok and secret_ok):
            return json_response({"error": "invalid_client"}, 400)
        with sandbox.lock:
            issued = sandbox.tokens.issue(sandbox.client_id, sandbox.clock.time())
        return json_response(
            {
                "access_token": issued.value,
                "expires_in": int(sandbox.tokens.ttl),
                "token_type": "Bearer",
                "scope": SCOPE,
            }
        )
