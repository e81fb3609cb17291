"""Edges besides the catalog: app webhook subscriptions, the SDK's crash reports, and the
order endpoints Meta removed (answered with the error Meta returns for them now)."""

from __future__ import annotations

import secrets

import httpx
from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk_facebook.sandbox.api.gateway import GraphApi, GraphError, Params

__all__ = ["REMOVED_EDGES", "OtherEdgesApi", "removed"]

REMOVED_EDGES = frozenset({
    "commerce_orders", "acknowledge_order", "acknowledge_orders", "shipments", "cancellations",
    "refunds", "items", "payments", "returns", "commerce_returns", "order_management_apps",
    "update_shipment", "commerce_payouts", "commerce_transactions", "commerce_merchant_settings",
})
"""Commerce Order Management edges: removed from every Graph version on 2026-10-27."""
HANDSHAKE_TIMEOUT = 5.0
"""Seconds the callback URL has to answer the subscription handshake."""


def removed(edge: str) -> GraphError:
    """The refusal of a removed order endpoint."""
    return GraphError(
        f"(#12) {edge} is deprecated: the Commerce Order Management API was removed from all "
        "versions on 2026-10-27",
        code=12,
        type="OAuthException",
    )


class OtherEdgesApi(GraphApi):
    """``/{app_id}/subscriptions``, ``/{app_id}/instruments``, removed order edges, and the
    Graph error for any other edge."""

    @route("POST", "/{node}/subscriptions")
    async def subscribe(self, request: Request, params: Params) -> Response:
        """Subscribe a callback URL: Meta's handshake first, then the subscription."""
        sandbox = self.sandbox
        if request.path_params["node"] != sandbox.app_id:
            raise sandbox.missing(request.path_params["node"])
        url = params.get("callback_url") or ""
        token = params.get("verify_token") or ""
        fields = [f for f in (params.get("fields") or "").split(",") if f]
        if params.get("object") != "page" or not url.startswith(("http://", "https://")):
            raise GraphError("(#100) object must be page and callback_url an http(s) URL",
                             code=100, type="GraphMethodException")
        challenge = str(secrets.randbelow(10**10))
        query = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": token}
        try:
            async with httpx.AsyncClient(timeout=HANDSHAKE_TIMEOUT) as client:
                answer = await client.get(url, params=query)
            passed = answer.status_code == 200 and answer.text == challenge
        except httpx.HTTPError:
            passed = False
        if not passed:
            raise GraphError("(#2200) Callback verification failed: the URL did not answer "
                             "hub.challenge", code=2200, type="OAuthException")
        with sandbox.lock:
            sandbox.subscriptions[url] = fields or ["messages"]
        return json_response({"success": True})

    @route("POST", "/{node}/instruments")
    async def crash_report(self, request: Request, params: Params) -> Response:
        """The SDK's crash report (``bizsdk_crash_report``): accepted and dropped."""
        return json_response({"success": True})

    @route("GET", "/{node}/{edge}")
    @route("POST", "/{node}/{edge}")
    @route("DELETE", "/{node}/{edge}")
    async def other(self, request: Request, params: Params) -> Response:
        """A removed order edge, or an edge this Graph does not have."""
        edge = request.path_params["edge"]
        if edge in REMOVED_EDGES:
            raise removed(edge)
        raise GraphError(f"(#100) Tried accessing nonexisting field ({edge})",
                         code=100, type="GraphMethodException")
