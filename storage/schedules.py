"""Per-case check-in schedules, kept as the manager typed them (parsed by flows.schedule)."""

from __future__ import annotations

from datetime import datetime

from storage.db import Tx, ts


async def put(tx: Tx, case_id: int, spec: str, jitter_minutes: int, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO schedules (case_id, spec, jitter_minutes, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (case_id) DO UPDATE SET spec = excluded.spec, jitter_minutes = excluded.jitter_minutes, "
        "updated_at = excluded.updated_at",
        (case_id, spec, jitter_minutes, ts(now)),
    )


async def get(tx: Tx, case_id: int) -> tuple[str, int] | None:
    row = await tx.one("SELECT spec, jitter_minutes FROM schedules WHERE case_id = ?", (case_id,))
    return (row["spec"], row["jitter_minutes"]) if row else None
