"""Inbound messages: stored exactly once per (channel, provider message id)."""

from __future__ import annotations

from datetime import datetime

from storage.db import Tx, ts

BODY = b"inbound.body"  # associated data of encrypted message bodies


async def record(tx: Tx, channel: str, provider_id: str, received_at: datetime) -> int | None:
    """Store the arrival; None when this provider id was seen before (a redelivery)."""
    return await tx.insert(
        "INSERT INTO inbound_messages (channel, provider_id, received_at) VALUES (?, ?, ?) "
        "ON CONFLICT (channel, provider_id) DO NOTHING",
        (channel, provider_id, ts(received_at)),
    )


async def attach(tx: Tx, message_id: int, case_id: int | None, body_enc: bytes | None) -> None:
    await tx.execute(
        "UPDATE inbound_messages SET case_id = ?, body_enc = ? WHERE id = ?", (case_id, body_enc, message_id)
    )


async def mark_failed(tx: Tx, message_id: int) -> None:
    await tx.execute("UPDATE inbound_messages SET failed = 1 WHERE id = ?", (message_id,))
