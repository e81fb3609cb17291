"""The Example platform, emulated: an in-memory JSON REST API for tests and demos.

``state.py`` holds the platform's data and the rules that change it, ``api/`` its REST API
(one module per area), and ``app.py`` the :class:`ExampleSandbox` that serves both with the
control API (``/_sandbox/*``) and fault injection of :class:`omnisdk.testing.Sandbox`.
"""

from omnisdk_example.sandbox.app import ExampleSandbox

__all__ = ["ExampleSandbox"]
