"""The Lazada platform, emulated: an in-memory JSON REST API for tests and demos.

``state.py`` holds the platform's data and the rules that change it, ``api/`` its REST API
(one module per area), and ``app.py`` the :class:`LazadaSandbox` that serves both with the
control API (``/_sandbox/*``) and fault injection of :class:`omnisdk.testing.Sandbox`.
"""

from omnisdk_lazada.sandbox.app import LazadaSandbox

__all__ = ["LazadaSandbox"]
