"""The practitioner inbox: a channel that keeps alert texts for the CLI (and later the dashboard)."""

from __future__ import annotations

from datetime import datetime

from storage.db import Row, Tx, ts


async def add(tx: Tx, practitioner_id: int, alert_id: int | None, body: str, now: datetime) -> int:
    return await tx.execute(
        "INSERT INTO inbox (practitioner_id, alert_id, body, created_at) VALUES (?, ?, ?, ?)",
        (practitioner_id, alert_id, body, ts(now)),
    )


async def for_practitioner(tx: Tx, practitioner_id: int, unread_only: bool = False) -> list[Row]:
    where = " AND read_at IS NULL" if unread_only else ""
    return await tx.all(f"SELECT * FROM inbox WHERE practitioner_id = ?{where} ORDER BY id", (practitioner_id,))


async def mark_read(tx: Tx, practitioner_id: int, now: datetime) -> None:
    await tx.execute(
        "UPDATE inbox SET read_at = ? WHERE practitioner_id = ? AND read_at IS NULL", (ts(now), practitioner_id)
    )
