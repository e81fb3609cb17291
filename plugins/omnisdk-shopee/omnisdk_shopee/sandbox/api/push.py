"""Sandbox handlers of Shopee's push configuration paths (public, partner-level calls).

``set_app_push_config`` sets the callback URL (where the sandbox then delivers signed pushes),
switches push codes (``int[]``) on or off and blocks shops; ``get_lost_push_message``
returns, 100 at a time, the pushes that could not be delivered (sent while no callback URL
was set) from the last three days; ``confirm_consumed_lost_push_message`` acknowledges them
up to a message id. Shopee's test push to a newly registered URL is not emulated.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_shopee.sandbox.api.gateway import (
    ShopeeApi,
    ShopeeApiError,
    param_error,
    shopee_response,
)
from omnisdk_shopee.webhooks import PUSH_TOPICS

__all__ = ["LOST_PAGE", "PushApi"]

LOST_PAGE = 100
LOST_KEPT_SECONDS = 3 * 86400
MAX_BLOCKED_SHOPS = 500


def _codes(body: dict[str, Any], name: str) -> list[int]:
    """A list of push codes (Shopee's ``int[]``), refused when anything else is in it."""
    value = body.get(name) or []
    if not isinstance(value, list) or not all(
        isinstance(code, int) and not isinstance(code, bool) and code in PUSH_TOPICS
        for code in value
    ):
        raise param_error(f"{name} must list push codes 1-13.")
    return list(value)


class PushApi(ShopeeApi):
    """Shopee's push configuration endpoints, served for one sandbox."""

    @route("GET", "/api/v2/push/get_app_push_config")
    def get_app_push_config(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/push/get_app_push_config``."""
        return shopee_response(self.sandbox.request_id(), dict(self.sandbox.push_config))

    @route("POST", "/api/v2/push/set_app_push_config")
    def set_app_push_config(self, request: Request, body: dict[str, Any]) -> Response:
        """``POST /api/v2/push/set_app_push_config``."""
        url = body.get("callback_url")
        if url is not None:
            if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
                raise ShopeeApiError(
                    "error_param",
                    "this callback_url is invalid, please check your callback_url.",
                )
            self.sandbox.push_config["callback_url"] = url
            self.sandbox.webhook_url = url or None
        on, off = _codes(body, "set_push_config_on"), _codes(body, "set_push_config_off")
        if on and not self.sandbox.push_config["callback_url"] and not self.sandbox.webhook_url:
            raise ShopeeApiError(
                "error_param",
                "Your app's callback_url is empty, please input a callback_url before you "
                "turn on push config.",
            )
        blocked = body.get("blocked_shop_id_list")
        if blocked is not None:
            if not isinstance(blocked, list) or len(blocked) > MAX_BLOCKED_SHOPS:
                raise param_error(f"at most {MAX_BLOCKED_SHOPS} blocked shops.")
            self.sandbox.push_config["blocked_shop_id"] = [int(shop) for shop in blocked]
        enabled = set(self.sandbox.push_config["push_config_on_list"]) - set(off) | set(on)
        self.sandbox.push_config["push_config_on_list"] = sorted(enabled)
        self.sandbox.push_config["push_config_off_list"] = sorted(set(PUSH_TOPICS) - enabled)
        return shopee_response(self.sandbox.request_id(), {"result": "success"})

    @route("GET", "/api/v2/push/get_lost_push_message")
    def get_lost_push_message(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/push/get_lost_push_message``."""
        oldest = self.sandbox.now() - LOST_KEPT_SECONDS
        recent = [m for m in self.sandbox.lost_pushes if m["timestamp"] >= oldest]
        page = recent[:LOST_PAGE]
        return shopee_response(
            self.sandbox.request_id(),
            {
                "push_message_list": [
                    {
                        key: value
                        for key, value in message.items()
                        if key in ("shop_id", "code", "timestamp", "data")
                    }
                    for message in page
                ],
                "has_next_page": len(recent) > LOST_PAGE,
                "last_message_id": page[-1]["message_id"] if page else 0,
            },
        )

    @route("POST", "/api/v2/push/confirm_consumed_lost_push_message")
    def confirm_consumed(self, request: Request, body: dict[str, Any]) -> Response:
        """``POST /api/v2/push/confirm_consumed_lost_push_message``."""
        last = body.get("last_message_id")
        if isinstance(last, bool) or not isinstance(last, int):
            raise param_error("last_message_id is required.")
        self.sandbox.lost_pushes = [m for m in self.sandbox.lost_pushes if m["message_id"] > last]
        return shopee_response(self.sandbox.request_id(), {})
