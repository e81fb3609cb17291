"""The read-only status page: the engine's state in a browser, live, with no build step.

``omnisdk run`` serves it when ``[engine] status_page`` (or ``--status-page``) says where;
any other process with an open engine mounts :attr:`StatusPage.app` in its own Starlette
app. See ``docs/guide/status-page.md``.
"""

from omnisdk.statuspage.app import StatusPage
from omnisdk.statuspage.source import Overview, SkuStock, StatusSource, read_overview, read_sku

__all__ = ["Overview", "SkuStock", "StatusPage", "StatusSource", "read_overview", "read_sku"]
