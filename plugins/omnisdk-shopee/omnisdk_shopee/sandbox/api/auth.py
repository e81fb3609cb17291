"""Sandbox handlers of Shopee's authorisation paths.

``shop/auth_partner`` checks the signed link and, standing in for the seller's approval page,
redirects at once to ``redirect?code=...&shop_id=...``; ``auth/token/get`` spends the code;
``auth/access_token/get`` spends a refresh token for a new pair. Both token answers are flat
(no ``response`` wrapper), as Shopee's are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from omnisdk.testing.api import route
from omnisdk_shopee.sandbox.api.gateway import (
    ShopeeApi,
    ShopeeApiError,
    param_error,
    shopee_response,
)
from omnisdk_shopee.sandbox.state.grants import Grant, TokenRefused

if TYPE_CHECKING:
    from omnisdk_shopee.sandbox.app import ShopeeSandbox

__all__ = ["AuthApi"]


def _shop(sandbox: ShopeeSandbox, body: dict[str, Any]) -> int:
    if body.get("partner_id") not in (sandbox.partner_id, str(sandbox.partner_id)):
        raise param_error("partner_id in the body does not match the query.")
    shop = body.get("shop_id")
    if isinstance(shop, bool) or not isinstance(shop, int | str) or not str(shop).isdigit():
        raise param_error("shop_id is required.")
    if int(shop) != sandbox.shop_id:
        raise ShopeeApiError("error_auth", "Invalid partner_id or shopid.")
    return int(shop)


class AuthApi(ShopeeApi):
    """Shopee's authorisation endpoints, served for one sandbox."""

    @route("GET", "/api/v2/shop/auth_partner")
    def auth_partner(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/shop/auth_partner``."""
        redirect = request.query_params.get("redirect") or ""
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise param_error("redirect must be a URL.")
        code = self.sandbox.grants.issue_code(self.sandbox.shop_id, self.sandbox.clock.time())
        query = "&".join(
            part
            for part in (parts.query, urlencode({"code": code, "shop_id": self.sandbox.shop_id}))
            if part
        )
        return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)

    @route("POST", "/api/v2/auth/token/get")
    def token_get(self, request: Request, body: dict[str, Any]) -> Response:
        """``POST /api/v2/auth/token/get``."""
        shop = _shop(self.sandbox, body)
        now = self.sandbox.clock.time()
        try:
            access, refresh = self.sandbox.grants.exchange(str(body.get("code") or ""), shop, now)
        except TokenRefused as refused:
            raise ShopeeApiError(refused.code, refused.message) from None
        return self._tokens(access, refresh, now, shop_id_list=[shop], merchant_id_list=[])

    @route("POST", "/api/v2/auth/access_token/get")
    def access_token_get(self, request: Request, body: dict[str, Any]) -> Response:
        """``POST /api/v2/auth/access_token/get``."""
        shop = _shop(self.sandbox, body)
        now = self.sandbox.clock.time()
        try:
            access, refresh = self.sandbox.grants.rotate(
                str(body.get("refresh_token") or ""), shop, now
            )
        except TokenRefused as refused:
            raise self.sandbox.policy.error(refused.code, refused.message) from None
        return self._tokens(access, refresh, now, partner_id=self.sandbox.partner_id, shop_id=shop)

    def _tokens(self, access: Grant, refresh: Grant, now: float, **extra: Any) -> Response:
        """A token answer: flat (no ``response`` wrapper), as Shopee's are."""
        return shopee_response(
            self.sandbox.request_id(),
            flat={
                "access_token": access.value,
                "refresh_token": refresh.value,
                "expire_in": int(access.expires - now),
                **extra,
            },
        )
