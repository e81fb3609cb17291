"""``/webhooks``: subscribe a URL to order topics, list subscriptions, unsubscribe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from omnisdk.testing.sandbox import SandboxError, UnknownObject, json_response, read_json
from omnisdk_example.webhooks import TOPICS

if TYPE_CHECKING:
    from omnisdk_example.sandbox.app import ExampleSandbox

__all__ = ["WebhooksApi"]


class WebhooksApi:
    """Webhook subscriptions (the last one subscribed receives the deliveries)."""

    def __init__(self, sandbox: ExampleSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[BaseRoute]:
        """This area's paths."""
        return [
            Route("/webhooks", self.subscribe, methods=["POST"]),
            Route("/webhooks", self.unsubscribe, methods=["DELETE"]),
            Route("/webhooks", self.list_subscriptions, methods=["GET"]),
        ]

    async def subscribe(self, request: Request) -> Response:
        """``POST /webhooks {"url", "topics"?}``: deliver those topics (default all) there."""
        self.sandbox.authorise(request)
        body = await read_json(request)
        url = body.get("url") if isinstance(body, dict) else None
        topics = body.get("topics", list(TOPICS)) if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SandboxError("url must be an http(s) URL", field="url")
        if not isinstance(topics, list) or not set(topics) <= set(TOPICS):
            raise SandboxError(f"topics must be among {list(TOPICS)}", field="topics")
        with self.sandbox.lock:
            self.sandbox.subscriptions[url] = topics
            self.sandbox.webhook_url = url
        return json_response({"url": url, "topics": topics}, 201)

    async def unsubscribe(self, request: Request) -> Response:
        """``DELETE /webhooks?url=``."""
        self.sandbox.authorise(request)
        url = request.query_params.get("url", "")
        with self.sandbox.lock:
            if self.sandbox.subscriptions.pop(url, None) is None:
                raise UnknownObject("webhook subscription", url)
            if self.sandbox.webhook_url == url:
                self.sandbox.webhook_url = next(iter(self.sandbox.subscriptions), None)
        return json_response({"url": url, "deleted": True})

    async def list_subscriptions(self, request: Request) -> Response:
        """``GET /webhooks``: every subscription."""
        self.sandbox.authorise(request)
        with self.sandbox.lock:
            subscriptions = self.sandbox.subscriptions.items()
            return json_response({"webhooks": [{"url": u, "topics": t} for u, t in subscriptions]})
