"""``/webhooks``: subscribe a URL to order topics, list subscriptions, unsubscribe.

The subscriptions are what :meth:`ExampleSandbox.webhook_subscribers` reads, so
:meth:`~omnisdk.testing.Sandbox.emit_webhook` delivers each topic to every URL subscribed to it
(and to the control API's URL).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk.testing.sandbox import SandboxError, UnknownObject, read_json
from omnisdk_example.sandbox.api.gateway import ExampleApi
from omnisdk_example.webhooks import TOPICS

__all__ = ["WebhooksApi"]


class WebhooksApi(ExampleApi):
    """Webhook subscriptions: a URL and the topics delivered to it."""

    @route("POST", "/webhooks")
    async def subscribe(self, request: Request) -> Response:
        """``POST /webhooks {"url", "topics"?}``: deliver those topics (default all) there."""
        body = await read_json(request)
        url = body.get("url") if isinstance(body, dict) else None
        topics = body.get("topics", list(TOPICS)) if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SandboxError("url must be an http(s) URL", field="url")
        if not isinstance(topics, list) or not set(topics) <= set(TOPICS):
            raise SandboxError(f"topics must be among {list(TOPICS)}", field="topics")
        with self.sandbox.lock:
            self.sandbox.subscriptions[url] = topics
        return json_response({"url": url, "topics": topics}, 201)

    @route("DELETE", "/webhooks")
    async def unsubscribe(self, request: Request) -> Response:
        """``DELETE /webhooks?url=``."""
        url = request.query_params.get("url", "")
        with self.sandbox.lock:
            if self.sandbox.subscriptions.pop(url, None) is None:
                raise UnknownObject("webhook subscription", url)
        return json_response({"url": url, "deleted": True})

    @route("GET", "/webhooks")
    async def list_subscriptions(self, request: Request) -> Response:
        """``GET /webhooks``: every subscription."""
        with self.sandbox.lock:
            subscriptions = self.sandbox.subscriptions.items()
            return json_response({"webhooks": [{"url": u, "topics": t} for u, t in subscriptions]})
