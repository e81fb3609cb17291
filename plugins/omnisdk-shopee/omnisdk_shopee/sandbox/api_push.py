"""Sandbox handlers of Shopee's push configuration paths (public, partner-level calls).

``set_app_push_config`` sets the callback URL (where the sandbox then delivers signed pushes),
switches push codes (``int[]``) on or off and blocks shops; ``get_lost_push_message``
returns, 100 at a time, the pushes that could not be delivered (sent while no callback URL
was set) from the last three days; ``confirm_consumed_lost_push_message`` acknowledges them
up to a message id. Shopee's test push to a newly registered URL is not emulated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk_shopee.sandbox.gateway import ShopeeApiError, read_body, shopee_response
from omnisdk_shopee.webhooks import PUSH_TOPICS

if TYPE_CHECKING:
    from omnisdk_shopee.sandbox.app import ShopeeSandbox

__all__ = ["LOST_PAGE", "routes"]

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
        raise ShopeeApiError(
            "error_param", f"Wrong parameters, detail: {name} must list push codes 1-13."
        )
    return list(value)


def routes(sandbox: ShopeeSandbox) -> list[BaseRoute]:
    """The push routes of ``sandbox``."""
    known = set(PUSH_TOPICS)

    async def get_app_push_config(request: Request) -> Response:
        with sandbox.lock:
            sandbox.verify(request)
            return shopee_response(sandbox.request_id(), dict(sandbox.push_config))

    async def set_app_push_config(request: Request) -> Response:
        body = await read_body(request)
        with sandbox.lock:
            sandbox.verify(request)
            url = body.get("callback_url")
            if url is not None:
                if not isinstance(url, str) or (
                    url and not url.startswith(("http://", "https://"))
                ):
                    raise ShopeeApiError(
                        "error_param",
                        "this callback_url is invalid, please check your callback_url.",
                    )
                sandbox.push_config["callback_url"] = url
                sandbox.webhook_url = url or None
            on, off = _codes(body, "set_push_config_on"), _codes(body, "set_push_config_off")
            if on and not sandbox.push_config["callback_url"] and not sandbox.webhook_url:
                raise ShopeeApiError(
                    "error_param",
                    "Your app's callback_url is empty, please input a callback_url before you "
                    "turn on push config.",
                )
            blocked = body.get("blocked_shop_id_list")
            if blocked is not None:
                if not isinstance(blocked, list) or len(blocked) > MAX_BLOCKED_SHOPS:
                    raise ShopeeApiError(
                        "error_param",
                        f"Wrong parameters, detail: at most {MAX_BLOCKED_SHOPS} blocked shops.",
                    )
                sandbox.push_config["blocked_shop_id"] = [int(shop) for shop in blocked]
            enabled = set(sandbox.push_config["push_config_on_list"]) - set(off) | set(on)
            sandbox.push_config["push_config_on_list"] = sorted(enabled)
            sandbox.push_config["push_config_off_list"] = sorted(set(known) - enabled)
            return shopee_response(sandbox.request_id(), {"result": "success"})

    async def get_lost_push_message(request: Request) -> Response:
        with sandbox.lock:
            sandbox.verify(request)
            oldest = sandbox.now() - LOST_KEPT_SECONDS
            recent = [m for m in sandbox.lost_pushes if m["timestamp"] >= oldest]
            page = recent[:LOST_PAGE]
            return shopee_response(
                sandbox.request_id(),
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

    async def confirm_consumed(request: Request) -> Response:
        body = await read_body(request)
        with sandbox.lock:
            sandbox.verify(request)
            last = body.get("last_message_id")
            if isinstance(last, bool) or not isinstance(last, int):
                raise ShopeeApiError(
                    "error_param", "Wrong parameters, detail: last_message_id is required."
                )
            sandbox.lost_pushes = [m for m in sandbox.lost_pushes if m["message_id"] > last]
            return shopee_response(sandbox.request_id(), {})

    return [
        Route("/api/v2/push/get_app_push_config", get_app_push_config, methods=["GET"]),
        Route("/api/v2/push/set_app_push_config", set_app_push_config, methods=["POST"]),
        Route("/api/v2/push/get_lost_push_message", get_lost_push_message, methods=["GET"]),
        Route(
            "/api/v2/push/confirm_consumed_lost_push_message", confirm_consumed, methods=["POST"]
        ),
    ]
