"""The Page's inbox: buyers' Messenger messages, as the sandbox's buyers write them.

There is no checkout on Meta any more: a buyer "orders" by writing to the Page (here with
the order button of the merchant's chat flow, whose quick-reply payload names the lines).
Nothing here touches the catalog: Meta takes no stock for a chat; the merchant's app
records the order it agrees on through the engine, which then pushes the lower figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["ChatMessage", "messenger_delivery"]


@dataclass(frozen=True)
class ChatMessage:
    """One message a buyer sent the Page."""

    mid: str
    sender_id: str
    sent_at: datetime
    text: str
    payload: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The message as the control API's state shows it."""
        return {
            "id": self.mid,
            "status": "message",
            "sender_id": self.sender_id,
            "sent_at": self.sent_at.isoformat(),
            "text": self.text,
            "payload": self.payload,
        }


def messenger_delivery(page_id: str, message: ChatMessage) -> dict[str, Any]:
    """The ``object: page`` webhook delivery of ``message``."""
    stamp = int(message.sent_at.timestamp() * 1000)
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": stamp,
                "messaging": [
                    {
                        "sender": {"id": message.sender_id},
                        "recipient": {"id": page_id},
                        "timestamp": stamp,
                        "message": {
                            "mid": message.mid,
                            "text": message.text,
                            "quick_reply": {
                                "payload": json.dumps(message.payload, ensure_ascii=False)
                            },
                        },
                    }
                ],
            }
        ],
    }
