"""Sandbox handlers of Shopee's Returns API (``v2.returns``).

``get_return_list`` pages with ``page_no`` (from 0) and ``page_size`` (1-100) over a create
or update time window of at most 15 days, optionally by ``status``, newest change last;
``get_return_detail`` answers one ``return_sn``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_shopee.sandbox.api.gateway import (
    ShopeeApi,
    ShopeeApiError,
    int_param,
    json_number,
    param_error,
    shopee_response,
)
from omnisdk_shopee.sandbox.state.returns import RETURN_STATUSES

if TYPE_CHECKING:
    from omnisdk_shopee.sandbox.state.returns import SandboxReturn

__all__ = ["MAX_RETURN_PAGE", "MAX_RETURN_WINDOW", "ReturnsApi"]

MAX_RETURN_PAGE = 100
MAX_RETURN_WINDOW = 15 * 86400


class ReturnsApi(ShopeeApi):
    """Shopee's return endpoints, served for one sandbox."""

    def _window(self, request: Request, field: str) -> tuple[int, int] | None:
        since = int_param(request, f"{field}_from")
        until = int_param(request, f"{field}_to")
        if since is None and until is None:
            return None
        if since is None or until is None:
            raise param_error(f"{field}_from and {field}_to go together.")
        if until < since or until - since > MAX_RETURN_WINDOW:
            raise param_error(f"{field} range should be within 15 days.")
        return since, until

    @route("GET", "/api/v2/returns/get_return_list")
    def get_return_list(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/returns/get_return_list``."""
        page_no = int_param(request, "page_no", required=True) or 0
        page_size = int_param(request, "page_size", required=True) or 0
        if page_no < 0 or not 1 <= page_size <= MAX_RETURN_PAGE:
            raise param_error(f"page_no >= 0 and page_size in [1, {MAX_RETURN_PAGE}].")
        created = self._window(request, "create_time")
        updated = self._window(request, "update_time")
        status = request.query_params.get("status") or ""
        if status and status not in RETURN_STATUSES:
            raise param_error(f"status {status!r}.")

        def wanted(entry: SandboxReturn) -> bool:
            return (
                (created is None or created[0] <= entry.create_time <= created[1])
                and (updated is None or updated[0] <= entry.update_time <= updated[1])
                and (not status or entry.status == status)
            )

        matching = sorted(
            (entry for entry in self.sandbox.returns if wanted(entry)),
            key=lambda entry: (entry.update_time, entry.return_sn),
        )
        start = page_no * page_size
        page = matching[start : start + page_size]
        self.sandbox.note_operation(request, "returns.read", items=len(page))
        return shopee_response(
            self.sandbox.request_id(),
            {
                "more": start + page_size < len(matching),
                "return": [entry.detail(json_number) for entry in page],
            },
        )

    @route("GET", "/api/v2/returns/get_return_detail")
    def get_return_detail(self, request: Request, body: dict[str, Any]) -> Response:
        """``GET /api/v2/returns/get_return_detail``."""
        return_sn = request.query_params.get("return_sn") or ""
        if not return_sn:
            raise param_error("return_sn is required.")
        found = next((r for r in self.sandbox.returns if r.return_sn == return_sn), None)
        if found is None:
            raise ShopeeApiError("error_not_found", f"return_sn {return_sn} not found.")
        return shopee_response(self.sandbox.request_id(), found.detail(json_number))
