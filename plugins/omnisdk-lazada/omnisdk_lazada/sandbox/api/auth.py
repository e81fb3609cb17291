"""Sandbox handlers of Lazada's token paths (served on the same app as the API; in life they
are on ``auth.lazada.com/rest``).

``/auth/token/create`` spends a code, ``/auth/token/refresh`` a refresh token; both answer
flat (no ``data``), with lifetimes on the sandbox clock. The create answer lists the seller's
countries as ``country_user_info``, the refresh answer as ``country_user_info_list``, as
Lazada's docs show them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_lazada.sandbox.api.gateway import Call, LazadaApi, lazada_response
from omnisdk_lazada.sandbox.state.grants import Grant, TokenRefused

__all__ = ["AuthApi"]


class AuthApi(LazadaApi):
    """Lazada's token endpoints, served for one sandbox."""

    @route("GET", "/auth/token/create")
    @route("POST", "/auth/token/create")
    def token_create(self, request: Request, call: Call) -> Response:
        """``/auth/token/create``."""
        code = call.get("code")
        if code is None:
            raise self.sandbox.policy.error("MissingParameter", "missing required parameter: code")
        now = self.sandbox.clock.time()
        try:
            access, refresh = self.sandbox.grants.exchange(code, now)
        except TokenRefused as refused:
            raise self.sandbox.policy.error(refused.code, refused.message) from None
        return self._tokens(access, refresh, now, "country_user_info")

    @route("GET", "/auth/token/refresh")
    @route("POST", "/auth/token/refresh")
    def token_refresh(self, request: Request, call: Call) -> Response:
        """``/auth/token/refresh``."""
        token = call.get("refresh_token")
        if token is None:
            raise self.sandbox.policy.error(
                "MissingParameter", "missing required parameter: refresh_token"
            )
        now = self.sandbox.clock.time()
        try:
            access, refresh = self.sandbox.grants.rotate(token, now)
        except TokenRefused as refused:
            raise self.sandbox.policy.error(refused.code, refused.message) from None
        return self._tokens(access, refresh, now, "country_user_info_list")

    def _tokens(self, access: Grant, refresh: Grant, now: float, list_key: str) -> Response:
        sandbox = self.sandbox
        return lazada_response(
            sandbox.request_id(),
            flat={
                "access_token": access.value,
                "expires_in": int(access.expires - now),
                "refresh_token": refresh.value,
                "refresh_expires_in": int(refresh.expires - now),
                "account": sandbox.account_email,
                "account_platform": "seller_center",
                "country": sandbox.site.lower(),
                list_key: [
                    {
                        "country": sandbox.site.lower(),
                        "seller_id": sandbox.seller_id,
                        "user_id": sandbox.seller_id,
                        "short_code": sandbox.short_code,
                    }
                ],
            },
        )
