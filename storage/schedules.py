"""Per-case check-in schedules, kept as the manager typed them (parsed by flows.schedule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.db import Tx, ts


@dataclass(frozen=True)
class StoredSchedule:
    spec: str
    jitter_minutes: int
    anchor: date | None  # the local day an "every N days" schedule counts from


async def put(tx: Tx, case_id: int, stored: StoredSchedule, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO schedules (case_id, spec, jitter_minutes, anchor, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (case_id) DO UPDATE SET spec = excluded.spec, jitter_minutes = excluded.jitter_minutes, "
        "anchor = excluded.anchor, updated_at = excluded.updated_at",
        (case_id, stored.spec, stored.jitter_minutes, stored.anchor.isoformat() if stored.anchor else None, ts(now)),
    )


async def get(tx: Tx, case_id: int) -> StoredSchedule | None:
    row = await tx.one("SELECT spec, jitter_minutes, anchor FROM schedules WHERE case_id = ?", (case_id,))
    if row is None:
        return None
    anchor = date.fromisoformat(row["anchor"]) if row["anchor"] else None
    return StoredSchedule(row["spec"], row["jitter_minutes"], anchor)
