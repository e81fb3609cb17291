"""The app-install endpoints: OAuth's authorize redirect and the access-token grants.

``/admin/oauth/authorize`` stands in for the merchant approving the install and redirects at
once to the app's ``redirect_uri`` with a signed callback (``code``, ``shop``, ``hmac``...);
``/admin/oauth/access_token`` answers the authorization-code exchange (a permanent token)
and the client-credentials grant (a token living ``token_lifetime`` seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import urllib.parse
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from omnisdk.testing.api import SandboxApi, route
from omnisdk_shopify.sandbox.api.gateway import admin_json

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.app import ShopifySandbox  # noqa: F401 (in the base class)

__all__ = ["OAuthApi"]


class OAuthApi(SandboxApi["ShopifySandbox"]):
    """The OAuth endpoints of one sandbox."""

    @route("POST", "/admin/oauth/access_token")
    async def access_token(self, request: Request) -> Response:
        """``POST /admin/oauth/access_token``: client credentials or an authorization code."""
        sandbox = self.sandbox
        form = _form(request.headers.get("content-type", ""), await request.body())
        client_ok = str(form.get("client_id")) == sandbox.client_id and hmac.compare_digest(
            str(form.get("client_secret", "")).encode(), sandbox.client_secret.encode()
        )
        if not client_ok or not sandbox.installed:
            return admin_json(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
            )
        with sandbox.lock:
            token = f"shpat_{sandbox.rng.getrandbits(128):032x}"
            if form.get("grant_type") == "client_credentials":
                sandbox.issued_tokens[token] = sandbox.clock.time() + sandbox.token_lifetime
                return admin_json(
                    {
                        "access_token": token,
                        "scope": ",".join(sandbox.scopes),
                        "expires_in": sandbox.token_lifetime,
                    }
                )
            code = str(form.get("code", ""))
            if not code or sandbox.oauth_codes.pop(code, None) is None:
                return admin_json(
                    {
                        "error": "invalid_request",
                        "error_description": "The authorization code was not found or "
                        "was already used",
                    },
                    400,
                )
            sandbox.issued_tokens[token] = math.inf
        return admin_json({"access_token": token, "scope": ",".join(sandbox.scopes)})

    @route("GET", "/admin/oauth/authorize")
    async def authorize(self, request: Request) -> Response:
        """``GET /admin/oauth/authorize``: the merchant approves; redirect, signed, to the app."""
        sandbox = self.sandbox
        params = request.query_params
        if params.get("client_id") != sandbox.client_id or not params.get("redirect_uri"):
            return admin_json({"errors": "invalid client_id or redirect_uri"}, 400)
        with sandbox.lock:
            code = f"{sandbox.rng.getrandbits(128):032x}"
            sandbox.oauth_codes[code] = params.get("scope", "")
        shop = f"{sandbox.shop_name}.myshopify.com"
        callback = {
            "code": code,
            "host": base64.b64encode(f"{shop}/admin".encode()).decode().rstrip("="),
            "shop": shop,
            "state": params.get("state", ""),
            "timestamp": str(int(sandbox.clock.time())),
        }
        message = "&".join(f"{k}={v}" for k, v in sorted(callback.items()))
        callback["hmac"] = hmac.new(
            sandbox.client_secret.encode(), message.encode(), hashlib.sha256
        ).hexdigest()
        target = f"{params['redirect_uri']}?{urllib.parse.urlencode(callback)}"
        return RedirectResponse(target, status_code=302)


def _form(content_type: str, raw: bytes) -> dict[str, Any]:
    """The grant's parameters, sent as JSON or as a URL-encoded form."""
    if content_type.startswith("application/json"):
        try:
            form = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return form if isinstance(form, dict) else {}
    return dict(urllib.parse.parse_qsl(raw.decode()))
