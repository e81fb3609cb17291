"""The Facebook sandbox: an emulated Meta catalog (Graph API) on loopback.

Needs the ``sandbox`` extra (``pip install 'omnisdk-facebook[sandbox]'``).
"""

from omnisdk_facebook.sandbox.app import FacebookSandbox

__all__ = ["FacebookSandbox"]
