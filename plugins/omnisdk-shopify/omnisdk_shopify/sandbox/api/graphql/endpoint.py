"""The ``/admin/api/{version}/graphql.json`` endpoint: access check, then :func:`run_graphql`
on the shop under the token's cost bucket; webhooks the request caused are sent afterwards."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import SandboxApi, route
from omnisdk_shopify.sandbox.api.gateway import INVALID_TOKEN, admin_headers, admin_json
from omnisdk_shopify.sandbox.api.graphql.execute import run_graphql

if TYPE_CHECKING:
    from omnisdk_shopify.sandbox.app import ShopifySandbox  # noqa: F401 (in the base class)

__all__ = ["GraphQLApi"]


class GraphQLApi(SandboxApi["ShopifySandbox"]):
    """The Admin GraphQL endpoint of one sandbox."""

    @route("POST", "/admin/api/{version}/graphql.json")
    async def graphql(self, request: Request) -> Response:
        """``POST /admin/api/{version}/graphql.json``."""
        sandbox = self.sandbox
        version = request.path_params["version"]
        headers = admin_headers(sandbox, version)
        token = request.headers.get("x-shopify-access-token")
        if token is None or not sandbox.token_valid(token):
            return admin_json({"errors": INVALID_TOKEN}, 401, headers)
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError:
            return admin_json(
                {"errors": {"query": "Required parameter missing or invalid"}}, 400, headers
            )
        base_url = str(request.base_url).rstrip("/")
        with sandbox.lock:
            context = sandbox.graphql_context(base_url=base_url, api_version=version)
            status, body = run_graphql(payload, context, sandbox.cost_bucket(token))
            for topic, event in context.events:
                sandbox.emit_webhook(topic, event)
        if context.notes:
            operation, items = context.notes[0]
            sandbox.note_operation(request, operation, items=items)
        return admin_json(body, status, headers)
