"""The catalog paths: the catalog node, its items (cursor paging, filters), items batches
and their status checks."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omnisdk.testing.api import route
from omnisdk.testing.responses import json_response
from omnisdk_facebook.sandbox.api.gateway import GraphApi, GraphError, Params
from omnisdk_facebook.sandbox.state.catalog import CatalogItem

__all__ = ["MAX_BATCH_REQUESTS", "MAX_PAGE", "CatalogApi"]

MAX_BATCH_REQUESTS = 5000
"""Meta's cap on the ``requests`` of one ``items_batch`` call."""
MAX_PAGE = 1000
"""The largest ``limit`` of a ``/products`` page the sandbox serves."""
DEFAULT_PAGE = 25
"""Items per page when the call gives no ``limit``."""
_STOCK_KEYS = frozenset({"id", "quantity_to_sell_on_facebook", "inventory", "availability"})
_PRICE_KEYS = frozenset({"id", "price", "sale_price", "sale_price_effective_date"})
_FILTER_FIELDS = frozenset({"retailer_id", "retailer_product_group_id", "availability", "name"})


def _invalid(message: str, *, subcode: int | None = None) -> GraphError:
    return GraphError(f"(#100) {message}", code=100, type="GraphMethodException",
                      subcode=subcode)


def _cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode(f"cursor:{item_id}".encode()).decode().rstrip("=")


def _uncursor(text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        prefix, _, number = raw.partition(":")
        if prefix != "cursor":
            raise ValueError(raw)
        return int(number)
    except ValueError:
        raise _invalid("after is not a cursor this API gave out") from None


def _matches(item: CatalogItem, rules: Any) -> bool:
    if not isinstance(rules, dict):
        raise _invalid("filter must be a JSON object")
    shown = item.graph(sorted(_FILTER_FIELDS))
    for name, ops in rules.items():
        if name not in _FILTER_FIELDS or not isinstance(ops, dict):
            raise _invalid(f"filter on {name!r} is not supported")
        value = shown.get(name)
        for op, wanted in ops.items():
            if op == "eq" and value != wanted:
                return False
            if op == "neq" and value == wanted:
                return False
            if op in ("is_any", "is_not_any"):
                if not isinstance(wanted, list):
                    raise _invalid(f"filter {op} takes a list")
                if (value in wanted) != (op == "is_any"):
                    return False
            if op == "contains" and not (isinstance(value, str) and str(wanted) in value):
                return False
            if op not in ("eq", "neq", "is_any", "is_not_any", "contains"):
                raise _invalid(f"filter operator {op!r} is not supported")
    return True


def _limit(params: Params) -> int:
    raw = params.get("limit")
    try:
        limit = DEFAULT_PAGE if raw is None else int(raw)
    except ValueError:
        raise _invalid("limit must be an integer") from None
    if not 1 <= limit <= MAX_PAGE:
        raise _invalid(f"limit must be between 1 and {MAX_PAGE}")
    return limit


class CatalogApi(GraphApi):
    """``/{catalog_id}``, ``/{catalog_id}/products``, ``/items_batch``,
    ``/check_batch_request_status``, and reads of one item by its Graph id."""

    def use_case(self, request: Request) -> str:
        """``items_batch`` counts as catalog_batch, other catalog calls as catalog_management."""
        if request.url.path.endswith("/items_batch"):
            return "catalog_batch"
        return "catalog_management"

    @route("GET", "/{node}")
    async def node(self, request: Request, params: Params) -> Response:
        """The catalog node, or one item by its Graph id."""
        sandbox = self.sandbox
        node = request.path_params["node"]
        fields = [f for f in params.get("fields", "").split(",") if f]
        with sandbox.lock:
            catalog = sandbox.catalog
            if node == catalog.id:
                full = {
                    "id": catalog.id, "name": catalog.name, "vertical": "commerce",
                    "product_count": len(catalog.items),
                }
                return json_response({k: v for k, v in full.items() if k in fields or k == "id"})
            item = catalog.by_graph_id(node)
            if item is not None:
                return json_response(item.graph(fields or ["retailer_id", "name"]))
        raise sandbox.missing(node)

    @route("GET", "/{node}/products")
    async def products(self, request: Request, params: Params) -> Response:
        """A page of items, ``after`` a cursor, optionally filtered."""
        sandbox = self.sandbox
        sandbox.require_catalog(request.path_params["node"])
        limit = _limit(params)
        fields = [f for f in params.get("fields", "").split(",") if f]
        rules = None
        if params.get("filter"):
            try:
                rules = json.loads(params["filter"])
            except ValueError:
                raise _invalid("filter is not JSON") from None
        after = _uncursor(params["after"]) if params.get("after") else None
        with sandbox.lock:
            rows = [
                item for item in sandbox.catalog.items.values()
                if (after is None or int(item.id) > after)
                and (rules is None or _matches(item, rules))
            ]
            rows.sort(key=lambda item: int(item.id))
            total = len(rows) + (0 if after is None else -1)
            page = rows[:limit]
            data = [item.graph(fields) for item in page]
        sandbox.note_operation(request, "products.read", items=len(data))
        body: dict[str, Any] = {"data": data}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0].id),
                                          "after": _cursor(page[-1].id)}}
            if len(rows) > limit:
                body["paging"]["next"] = str(
                    request.url.include_query_params(after=_cursor(page[-1].id))
                )
        if params.get("summary") in ("true", "1", "total_count"):
            body["summary"] = {"total_count": max(total, len(data))}
        return json_response(body)

    @route("POST", "/{node}/items_batch")
    async def items_batch(self, request: Request, params: Params) -> Response:
        """Validate the requests, accept the valid ones under a handle."""
        sandbox = self.sandbox
        sandbox.require_catalog(request.path_params["node"])
        if params.get("item_type") != "PRODUCT_ITEM":
            raise _invalid("item_type must be PRODUCT_ITEM")
        try:
            requests = json.loads(params.get("requests") or "")
        except ValueError:
            raise _invalid("requests must be a JSON array") from None
        if not isinstance(requests, list) or not requests:
            raise _invalid("requests must be a non-empty JSON array")
        if len(requests) > MAX_BATCH_REQUESTS:
            raise _invalid(f"requests: at most {MAX_BATCH_REQUESTS} per call, got {len(requests)}")
        upsert = params.get("allow_upsert", "true").lower()
        if upsert not in ("true", "false"):
            raise _invalid("allow_upsert must be true or false")
        validation: list[dict[str, Any]] = []
        accepted: list[tuple[int, str, dict[str, Any]]] = []
        with sandbox.lock:
            for line, entry in enumerate(requests, start=1):
                method = entry.get("method") if isinstance(entry, dict) else None
                data = entry.get("data") if isinstance(entry, dict) else None
                problem = sandbox.catalog.validate(method, data)
                if problem is None and isinstance(data, dict) and isinstance(method, str):
                    accepted.append((line, method, data))
                else:
                    retailer = data.get("id") if isinstance(data, dict) else None
                    validation.append({
                        "retailer_id": str(retailer) if retailer is not None else f"line {line}",
                        "errors": [{"message": problem}],
                        "warnings": [],
                    })
            handle = sandbox.new_handle()
            sandbox.batches.submit(handle, accepted, allow_upsert=upsert == "true")
        sandbox.note_operation(request, _operation(requests), items=len(requests))
        return json_response({"handles": [handle], "validation_status": validation})

    @route("GET", "/{node}/check_batch_request_status")
    async def batch_status(self, request: Request, params: Params) -> Response:
        """The status (and, once done, the errors) of a batch by handle."""
        sandbox = self.sandbox
        sandbox.require_catalog(request.path_params["node"])
        handle = params.get("handle")
        if not handle:
            raise _invalid("handle is required")
        with sandbox.lock:
            batch = sandbox.batches.check(handle, sandbox.catalog, sandbox.clock.now())
            if batch is None:
                raise _invalid(f"no batch with handle {handle}")
            load = params.get("load_ids_of_invalid_requests") in ("true", "1")
            report = batch.report(load_ids=load)
        sandbox.note_operation(request, "batch.status")
        return json_response({"data": [report]})


def _operation(requests: list[Any]) -> str:
    """``stock.write``, ``price.write`` or ``products.write``: what a batch carries."""
    keys: set[str] = set()
    methods: set[Any] = set()
    for entry in requests:
        if isinstance(entry, dict):
            methods.add(entry.get("method"))
            if isinstance(entry.get("data"), dict):
                keys.update(entry["data"])
    if methods == {"UPDATE"} and keys <= _STOCK_KEYS and keys & _STOCK_KEYS - {"id"}:
        return "stock.write"
    if methods == {"UPDATE"} and keys <= _PRICE_KEYS and keys & _PRICE_KEYS - {"id"}:
        return "price.write"
    return "products.write"
