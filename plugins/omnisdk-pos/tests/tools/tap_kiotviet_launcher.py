"""Run the Singer tap ``tap-kiotviet`` (PyPI 0.0.1) against a KiotViet sandbox.

Run with the tap's own virtualenv's python (its dependencies clash with omnisdk's)::

    TAP_KIOTVIET_API_URL=http://127.0.0.1:8081 TAP_KIOTVIET_TOKEN_URL=.../connect/token \\
        .venv-tools/tap-kiotviet/bin/python tap_kiotviet_launcher.py --config config.json

What the launcher changes, and nothing else: the two hosts the tap hard-codes
(``https://id.kiotviet.vn/connect/token`` and ``https://public.kiotapi.com/``) point at the
sandbox, and the tap's streams for branches, products, orders and invoices are switched on
(the published 0.0.1 has them commented out and discovers only ``returns``). Its customers
stream reads ``GET /customers/{customerId}`` per invoice with a JSONPath that only works on a
list, so the launcher serves customers from ``GET /customers`` with the tap's own base
class, paginator and schema.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from tap_kiotviet import client, tap
from tap_kiotviet.kiotviet_paginator import KiotVietPaginator
from tap_kiotviet.streams import BranchesStream, InvoicesStream, OrdersStream, ProductsStream
from tap_kiotviet.streams.CustomersStream import SCHEMAS_DIR


class CustomersListStream(client.KiotVietStream):
    """Customers from the list endpoint (the tap's own stream only fits a list answer)."""

    name = "customers"
    path = "customers"
    primary_keys: ClassVar[list[str]] = ["id"]
    schema_filepath = SCHEMAS_DIR / "customers.json"
    replication_method = "FULL_TABLE"
    records_jsonpath = "data[*]"

    def get_new_paginator(self) -> KiotVietPaginator:
        return KiotVietPaginator()

    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        params = super().get_url_params(context)
        if next_page_token:
            params["currentItem"] = int(next_page_token.path)
        return params


def main() -> None:
    api = os.environ["TAP_KIOTVIET_API_URL"].rstrip("/") + "/"
    client.KiotVietOauth.auth_endpoint = os.environ["TAP_KIOTVIET_TOKEN_URL"]
    client.KiotVietStream.url_base = property(lambda self: api)  # type: ignore[assignment]
    tap.STREAM_TYPES[:] = [
        BranchesStream,
        ProductsStream,
        CustomersListStream,
        OrdersStream,
        InvoicesStream,
    ]
    tap.TapKiotViet.cli()


if __name__ == "__main__":
    main()
