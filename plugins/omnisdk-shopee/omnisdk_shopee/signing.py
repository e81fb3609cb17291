"""Shopee's request and push signatures (Open Platform API v2).

Every call carries ``partner_id``, ``timestamp`` (unix seconds) and ``sign`` in its query string;
shop calls add ``access_token`` and ``shop_id``, merchant calls ``access_token`` and
``merchant_id``. ``sign`` is the lowercase hex HMAC-SHA256, keyed with the partner key string
(UTF-8, not hex-decoded), of a base string made of those fields only — never the request's other
parameters or body::

    public    f"{partner_id}{path}{timestamp}"
    shop      f"{partner_id}{path}{timestamp}{access_token}{shop_id}"
    merchant  f"{partner_id}{path}{timestamp}{access_token}{merchant_id}"

``path`` is the API path alone (``/api/v2/product/get_item_list``): no host, no query string.

Push deliveries carry an ``Authorization`` header: the lowercase hex HMAC-SHA256, with the same
key, of ``callback_url + "|" + raw_body``, where ``callback_url`` is exactly the URL registered
with Shopee and ``raw_body`` the bytes received.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field

__all__ = [
    "PUBLIC_PATH_PREFIXES",
    "TIMESTAMP_VALIDITY_SECONDS",
    "SignatureKind",
    "Signer",
    "base_string",
    "hmac_sha256_hex",
    "kind_for_path",
    "push_signature",
    "verify_push_signature",
]

TIMESTAMP_VALIDITY_SECONDS = 300
"""How long a signed timestamp stays valid: Shopee says it "expires in 5 minutes"."""

PUBLIC_PATH_PREFIXES: tuple[str, ...] = (
    "/api/v2/auth/",
    "/api/v2/shop/auth_partner",
    "/api/v2/shop/cancel_auth_partner",
    "/api/v2/public/",
    "/api/v2/push/",
)
"""Paths signed with the short (public) base string."""


class SignatureKind(enum.StrEnum):
    """Which base string a call is signed with."""

    PUBLIC = "public"
    """Partner-level calls: authorisation, token exchange and refresh, push configuration."""
    SHOP = "shop"
    """Calls on one shop: products, orders, logistics..."""
    MERCHANT = "merchant"
    """Calls on a main (merchant) account: ``merchant_id`` takes ``shop_id``'s place."""


def kind_for_path(path: str) -> SignatureKind:
    """The signature kind Shopee expects for ``path`` (public or shop).

    Merchant calls cannot be told from the path alone; ask for them explicitly.
    """
    if path.startswith(PUBLIC_PATH_PREFIXES):
        return SignatureKind.PUBLIC
    if path.startswith("/api/v2/merchant/"):
        return SignatureKind.MERCHANT
    return SignatureKind.SHOP


def base_string(
    partner_id: int,
    path: str,
    timestamp: int,
    *,
    access_token: str | None = None,
    shop_id: int | None = None,
    merchant_id: int | None = None,
) -> str:
    """The string Shopee signs for one call.

    With no ``access_token`` the public form; with ``shop_id`` the shop form; with
    ``merchant_id`` the merchant form. Raises ``ValueError`` for an impossible combination.
    """
    if "?" in path or not path.startswith("/"):
        raise ValueError(f"sign the API path alone (like /api/v2/shop/get_shop_info), got {path!r}")
    public = f"{int(partner_id)}{path}{int(timestamp)}"
    if access_token is None:
        if shop_id is not None or merchant_id is not None:
            raise ValueError("a shop or merchant signature needs the access token")
        return public
    if shop_id is not None and merchant_id is None:
        return f"{public}{access_token}{int(shop_id)}"
    if merchant_id is not None and shop_id is None:
        return f"{public}{access_token}{int(merchant_id)}"
    raise ValueError("an access-token signature needs exactly one of shop_id and merchant_id")


def hmac_sha256_hex(key: str, message: bytes | str) -> str:
    """Lowercase hex HMAC-SHA256 of ``message`` keyed with the UTF-8 bytes of ``key``."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


def push_signature(partner_key: str, callback_url: str, body: bytes) -> str:
    """The ``Authorization`` value Shopee sends with a push to ``callback_url``."""
    return hmac_sha256_hex(partner_key, callback_url.encode("utf-8") + b"|" + body)


def verify_push_signature(
    partner_key: str, callback_url: str, body: bytes, authorization: str | None
) -> bool:
    """True when ``authorization`` is the push signature of ``body`` (constant-time compare)."""
    if not authorization:
        return False
    expected = push_signature(partner_key, callback_url, body)
    return hmac.compare_digest(expected, authorization.strip().lower())


@dataclass(frozen=True)
class Signer:
    """Signs calls for one partner (app). The key never shows in its repr."""

    partner_id: int
    partner_key: str = field(repr=False)

    def sign(
        self,
        path: str,
        timestamp: int,
        *,
        access_token: str | None = None,
        shop_id: int | None = None,
        merchant_id: int | None = None,
    ) -> str:
        """The ``sign`` query parameter for a call to ``path`` at ``timestamp``."""
        base = base_string(
            self.partner_id,
            path,
            timestamp,
            access_token=access_token,
            shop_id=shop_id,
            merchant_id=merchant_id,
        )
        return hmac_sha256_hex(self.partner_key, base)

    def common_params(
        self,
        path: str,
        timestamp: int,
        *,
        access_token: str | None = None,
        shop_id: int | None = None,
        merchant_id: int | None = None,
    ) -> dict[str, str]:
        """The common query parameters (``partner_id``, ``timestamp``, ``sign``, and
        ``access_token`` with ``shop_id`` or ``merchant_id``) for one call."""
        params = {"partner_id": str(self.partner_id), "timestamp": str(int(timestamp))}
        if access_token is not None:
            params["access_token"] = access_token
            if shop_id is not None:
                params["shop_id"] = str(shop_id)
            if merchant_id is not None:
                params["merchant_id"] = str(merchant_id)
        params["sign"] = self.sign(
            path, timestamp, access_token=access_token, shop_id=shop_id, merchant_id=merchant_id
        )
        return params

    def push_signature(self, callback_url: str, body: bytes) -> str:
        """The ``Authorization`` header of a push of ``body`` to ``callback_url``."""
        return push_signature(self.partner_key, callback_url, body)

    def verify_push(self, callback_url: str, body: bytes, authorization: str | None) -> bool:
        """True when ``authorization`` signs ``body`` for ``callback_url``."""
        return verify_push_signature(self.partner_key, callback_url, body, authorization)
