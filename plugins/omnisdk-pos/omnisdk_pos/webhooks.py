"""KiotViet webhooks: the signature in every variant it may use, and the envelope's events.

A delivery is ``POST`` JSON in PascalCase, one envelope for every ``.update`` type::

    {"Id": "<guid>", "Attempt": 1,
     "Notifications": [{"Action": "invoice.update.500123456", "Data": [{...}, ...]}]}

``Id`` is the delivery's GUID (the dedupe key), ``Action`` is ``<type>.<retailerId>``.
``Data`` mirrors the REST object in PascalCase (``InvoiceDetails``, ``Inventories``...);
``__type`` is a serializer hint and is dropped. Deletes carry ids: ``Data`` = ``[1000002]``
or, as the doc shows, ``{"RemoveId": [1000002]}``; both are read.

The signature header ``X-Hub-Signature`` is HMAC-SHA256 of the **raw body**. KiotViet's doc
does not pin down whether the key is the registered (Base64) secret text or its decoded
bytes, nor whether the digest is hex or Base64, nor a ``sha256=`` prefix; so
:func:`verify_signature` accepts the four combinations (and the prefix), constant-time, and
always needs the secret. Re-serialised JSON never verifies: the received bytes are hashed.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "SIGNATURE_HEADER",
    "SUBSCRIBED_TYPES",
    "WEBHOOK_TYPES",
    "Digest",
    "KeyMode",
    "Notification",
    "WebhookEnvelope",
    "camel_case",
    "candidate_signatures",
    "parse_envelope",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Hub-Signature"
"""The header carrying the HMAC of the body (only when a ``Secret`` was registered)."""

WEBHOOK_TYPES = (
    "customer.update",
    "customer.delete",
    "product.update",
    "product.delete",
    "stock.update",
    "order.update",
    "invoice.update",
    "pricebook.update",
    "pricebook.delete",
    "pricebookdetail.update",
    "pricebookdetail.delete",
    "category.update",
    "category.delete",
    "branch.update",
    "branch.delete",
)
"""Every webhook type KiotViet has (there is no ``.create``: creation fires ``.update``)."""

SUBSCRIBED_TYPES = (
    "invoice.update",
    "order.update",
    "stock.update",
    "product.update",
    "product.delete",
    "customer.update",
)
"""The types the channel registers: sales, stock, catalog and customers."""


class KeyMode(enum.StrEnum):
    """Which bytes key the HMAC."""

    TEXT = "text"
    """The UTF-8 of the registered secret as sent (its Base64 form): variants A and B."""
    DECODED = "decoded"
    """The Base64-decoded secret (the random text the merchant picked): variants C and D."""


class Digest(enum.StrEnum):
    """How the HMAC is written in the header."""

    HEX = "hex"
    BASE64 = "base64"


def _key(secret: str, mode: KeyMode) -> bytes:
    if mode is KeyMode.TEXT:
        return secret.encode("utf-8")
    try:
        return base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret is not Base64, so it has no decoded form") from None


def sign(
    secret: str,
    body: bytes,
    *,
    key_mode: KeyMode = KeyMode.TEXT,
    digest: Digest = Digest.HEX,
    prefix: str = "",
) -> str:
    """The ``X-Hub-Signature`` of ``body`` for the registered ``secret`` in one variant."""
    mac = hmac.new(_key(secret, key_mode), body, hashlib.sha256).digest()
    text = mac.hex() if digest is Digest.HEX else base64.b64encode(mac).decode("ascii")
    return prefix + text


def candidate_signatures(secret: str, body: bytes) -> list[str]:
    """The header values of every variant (A-D) for ``body``; those that cannot be made
    (a secret that is not Base64 has no decoded form) are left out."""
    found: list[str] = []
    for mode in KeyMode:
        for digest in Digest:
            try:
                found.append(sign(secret, body, key_mode=mode, digest=digest))
            except ValueError:
                continue
    return found


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` in any variant KiotViet may use.

    An optional ``sha256=`` prefix is stripped; hex compares case-insensitively; every
    comparison is constant-time and all are made (no early exit that leaks which variant).
    """
    if not secret or not header:
        return False
    given = header.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    matched = False
    for candidate in candidate_signatures(secret, body):
        is_hex = len(candidate) == 64
        left = given.lower() if is_hex else given
        matched |= hmac.compare_digest(left.encode(), candidate.encode())
    return matched


def camel_case(value: Any) -> Any:
    """A webhook object in REST spelling: keys with a lower-case first letter (``OnHand`` ->
    ``onHand``), ``__type`` hints dropped, nested objects and lists too."""
    if isinstance(value, dict):
        return {
            (key[:1].lower() + key[1:]): camel_case(item)
            for key, item in value.items()
            if key != "__type"
        }
    if isinstance(value, list):
        return [camel_case(item) for item in value]
    return value


@dataclass(frozen=True)
class Notification:
    """One ``Notifications[]`` entry: its type (``invoice.update``), the retailer id in its
    ``Action``, and its data (REST-spelled objects, or the removed ids of a delete)."""

    type: str
    retailer_id: int | None
    objects: list[dict[str, Any]]
    removed_ids: list[int]


@dataclass(frozen=True)
class WebhookEnvelope:
    """A decoded delivery: its id, attempt and notifications."""

    id: str
    attempt: int
    notifications: list[Notification]
    raw: dict[str, Any]


def _action(action: str) -> tuple[str, int | None]:
    parts = action.strip().split(".")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError(f"Action {action!r} is not <object>.<event>[.<retailerId>]")
    retailer = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return f"{parts[0].lower()}.{parts[1].lower()}", retailer


def _removed(data: Any) -> list[int]:
    if isinstance(data, dict):
        data = data.get("RemoveId", data.get("removeId", []))
    if not isinstance(data, list):
        raise ValueError("a delete notification's Data is a list of ids or {RemoveId: [...]}")
    return [int(item) for item in data if not isinstance(item, bool)]


def parse_envelope(body: bytes) -> WebhookEnvelope:
    """Decode a delivery body; ``ValueError`` saying what is wrong when it is not one.

    Numbers with a fraction are read as exact :class:`~decimal.Decimal` (prices).
    """
    decoded = json.loads(body, parse_float=Decimal)
    if not isinstance(decoded, dict) or not isinstance(decoded.get("Notifications"), list):
        raise ValueError("a KiotViet webhook is a JSON object with a Notifications list")
    delivery = decoded.get("Id")
    if not isinstance(delivery, str) or not delivery.strip():
        raise ValueError("the webhook has no Id (the delivery's GUID)")
    attempt = decoded.get("Attempt", 1)
    notifications = []
    for index, entry in enumerate(decoded["Notifications"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("Action"), str):
            raise ValueError(f"Notifications[{index}] has no Action")
        kind, retailer = _action(entry["Action"])
        data = entry.get("Data", [])
        if kind.endswith(".delete"):
            notifications.append(Notification(kind, retailer, [], _removed(data)))
            continue
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ValueError(f"Notifications[{index}].Data must be a list of objects")
        notifications.append(Notification(kind, retailer, camel_case(data), []))
    return WebhookEnvelope(
        id=delivery.strip(),
        attempt=int(attempt) if isinstance(attempt, int) else 1,
        notifications=notifications,
        raw=decoded,
    )
