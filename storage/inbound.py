"""Inbound messages: stored exactly once per (channel, provider message id)."""

from __future__ import annotations

from datetime import datetime

from storage.crypto import Crypto, Field
from storage.db import Tx, ts

BODY = Field("inbound_messages", "body_enc", legacy=b"inbound.body")


async def record(tx: Tx, channel: str, provider_id: str, received_at: datetime) -> int | None:
    """Store the arrival; None when this provider id was seen before (a redelivery)."""
    return await tx.insert(
        "INSERT INTO inbound_messages (channel, provider_id, received_at) VALUES (?, ?, ?) "
        "ON CONFLICT (channel, provider_id) DO NOTHING",
        (channel, provider_id, ts(received_at)),
    )


async def attach(tx: Tx, crypto: Crypto, message_id: int, case_id: int | None, body: str | None) -> None:
    """Tie the message to its case (if any) and keep its words encrypted (None: not kept)."""
    await tx.execute(
        "UPDATE inbound_messages SET case_id = ?, body_enc = ? WHERE id = ?",
        (case_id, crypto.encrypt_optional(body, BODY.at(message_id)), message_id),
    )


async def mark_failed(tx: Tx, message_id: int) -> None:
    await tx.execute("UPDATE inbound_messages SET failed = 1 WHERE id = ?", (message_id,))
