"""Graph API request authentication: the access token and its ``appsecret_proof``.

``appsecret_proof`` is the lowercase hex HMAC-SHA256 of the access token keyed by the app
secret. Meta requires it on every call of an app with "Require App Secret" on; the channel
always sends it, in the query string next to ``access_token`` (as Meta's own SDK does, for
GET, POST and DELETE alike).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["appsecret_proof", "proof_matches"]


def appsecret_proof(app_secret: str, access_token: str) -> str:
    """``hex(HMAC-SHA256(key=app_secret, msg=access_token))``."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def proof_matches(app_secret: str, access_token: str, proof: str | None) -> bool:
    """Whether ``proof`` is the right ``appsecret_proof`` for the token (constant time)."""
    if not proof:
        return False
    return hmac.compare_digest(appsecret_proof(app_secret, access_token), proof.lower())
