"""Returns (trả hàng): ``GET /returns`` (``lastModifiedFrom``, ``orderBy``, paging) and
``GET /returns/{id}``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk_pos.sandbox.api.gateway import KiotVietApi, KiotVietError, Query

__all__ = ["ReturnsApi"]


class ReturnsApi(KiotVietApi):
    """Returns against invoices."""

    @route("GET", "/returns")
    async def list_returns(self, request: Request) -> Response:
        """``GET /returns``: oldest change first."""
        query = Query(request)
        self.sandbox.note_operation(request, "returns.read")
        with self.sandbox.lock:
            since = query.time("lastModifiedFrom")
            rows = sorted(self.sandbox.returns, key=lambda r: (r.modified, r.id))
            rows = [r for r in rows if since is None or r.modified >= since]
            return self.listing(query, [r.as_json(self.sandbox.shop) for r in rows])

    @route("GET", "/returns/{return_id}")
    async def one_return(self, request: Request) -> Response:
        """``GET /returns/{id}``."""
        key = request.path_params["return_id"]
        with self.sandbox.lock:
            found = next((r for r in self.sandbox.returns if str(r.id) == key), None)
            if found is None:
                raise KiotVietError(404, "NotFound", f"Không tìm thấy phiếu trả hàng {key}")
            return self.answer(found.as_json(self.sandbox.shop))
