"""``/webhooks``: register (``{"Webhook": {"Type", "Url", "IsActive", "Secret"}}``), list,
read and delete subscriptions. One registration per type: a second one for a type replaces
the first (KiotViet's own plugin deletes same-type ones before registering)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_pos.sandbox.api.gateway import KiotVietApi, KiotVietError, Query, read_body
from omnisdk_pos.webhooks import WEBHOOK_TYPES

__all__ = ["Subscription", "WebhooksApi"]


@dataclass
class Subscription:
    """One registered webhook."""

    id: int
    type: str
    url: str
    active: bool
    description: str
    secret: str | None

    def as_json(self, retailer_id: int) -> dict[str, Any]:
        """As ``GET /webhooks`` shows it (the secret is never shown)."""
        return {
            "id": self.id,
            "type": self.type,
            "url": self.url,
            "isActive": self.active,
            "retailerId": retailer_id,
            "description": self.description,
        }


class WebhooksApi(KiotVietApi):
    """Webhook subscriptions."""

    @route("GET", "/webhooks")
    async def list_webhooks(self, request: Request) -> Response:
        """Every subscription (paged)."""
        with self.sandbox.lock:
            rid = self.sandbox.shop.retailer_id
            rows = [s.as_json(rid) for s in self.sandbox.subscriptions.values()]
            return self.listing(Query(request), rows)

    @route("POST", "/webhooks")
    async def register(self, request: Request) -> Response:
        """Register one webhook type to a URL (with an optional Base64 ``Secret``)."""
        body = await read_body(request)
        spec = body.get("webhook", body)
        if not isinstance(spec, dict):
            raise KiotVietError(400, "BadRequest", "Webhook phải là một đối tượng")
        kind = str(spec.get("type") or "").strip().lower()
        url = str(spec.get("url") or "").strip()
        if kind not in WEBHOOK_TYPES:
            raise KiotVietError(400, "BadRequest", f"Loại webhook không hợp lệ: {kind!r}")
        if not url.startswith(("http://", "https://")):
            raise KiotVietError(400, "BadRequest", "Url không hợp lệ")
        secret = spec.get("secret") or None
        if secret is not None and len(str(secret)) < 8:
            raise KiotVietError(400, "BadRequest", "Secret phải có ít nhất 8 ký tự")
        with self.sandbox.lock:
            subs = self.sandbox.subscriptions
            for old in [s for s in subs.values() if s.type == kind]:
                del subs[old.id]
            sub = Subscription(
                id=self.sandbox.shop.new_id(0),
                type=kind,
                url=url,
                active=spec.get("isActive", True) not in (False, "false", "False"),
                description=str(spec.get("description") or ""),
                secret=str(secret) if secret else None,
            )
            subs[sub.id] = sub
            return self.answer(sub.as_json(self.sandbox.shop.retailer_id))

    @route("GET", "/webhooks/{hook_id:int}")
    async def one(self, request: Request) -> Response:
        """One subscription."""
        with self.sandbox.lock:
            sub = self.sandbox.subscriptions.get(request.path_params["hook_id"])
            if sub is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy webhook")
            return self.answer(sub.as_json(self.sandbox.shop.retailer_id))

    @route("DELETE", "/webhooks/{hook_id:int}")
    async def delete(self, request: Request) -> Response:
        """Remove a subscription."""
        with self.sandbox.lock:
            if self.sandbox.subscriptions.pop(request.path_params["hook_id"], None) is None:
                raise KiotVietError(404, "NotFound", "Không tìm thấy webhook")
            return self.answer({"message": "Xóa dữ liệu thành công"})
