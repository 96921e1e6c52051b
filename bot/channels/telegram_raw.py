"""What can still be read from a Telegram update that python-telegram-bot could not parse.

An update shaped by an older or newer Bot API (a field of another type, a required field
missing) must not be lost or stop the others: we find its update_id, its chat and its words in
the raw JSON, as far as they are there, so that it can be kept for a person and screened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

# Where a message sits in an update, whatever else the update holds.
MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)


@dataclass(frozen=True)
class RawUpdate:
    """The parts of an unparsed update we act on: all may be missing."""

    provider_id: str  # u<update_id>, as for parsed updates, so a redelivery is still dropped
    update_id: int | None
    chat: str | None
    text: str


def update_id(raw: object) -> int | None:
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read(raw: object) -> RawUpdate:
    """The update's id, chat and text or caption, found without trusting the update's shape."""
    uid = update_id(raw)
    if uid is not None:
        provider_id = f"u{uid}"
    else:  # never seen from Telegram; a digest still makes a redelivery of it a duplicate
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
        provider_id = f"x{digest[:32]}"
    chat, text = _chat_and_text(raw if isinstance(raw, dict) else {})
    return RawUpdate(provider_id, uid, chat, text)


def _chat_and_text(raw: dict[str, Any]) -> tuple[str | None, str]:
    for kind in MESSAGE_KINDS:
        message = raw.get(kind)
        if isinstance(message, dict):
            chat = message.get("chat")
            chat_id = _id(chat.get("id")) if isinstance(chat, dict) else None
            words = [message.get(key) for key in ("text", "caption")]
            return chat_id, "\n".join(w for w in words if isinstance(w, str))
    query = raw.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("from"), dict):
        return _id(query["from"].get("id")), ""
    return None, ""


def _id(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return value
    return None
