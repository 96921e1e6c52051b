"""The audit log: who did what to which case, and when. Holds no personal data."""

from __future__ import annotations

from datetime import datetime

from storage.db import Row, Tx, ts


async def log(
    tx: Tx,
    now: datetime,
    actor: str,
    action: str,
    case_id: int | None = None,
    detail: str = "",
    service_id: int | None = None,
) -> None:
    """One row; its service is the case's unless given (so each service's managers see their own)."""
    await tx.execute(
        "INSERT INTO audit_log (at, actor, action, case_id, detail, service_id)"
        " VALUES (?, ?, ?, ?, ?, COALESCE(?, (SELECT service_id FROM cases WHERE id = ?)))",
        (ts(now), actor, action, case_id, detail, service_id, case_id),
    )


async def for_case(tx: Tx, case_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM audit_log WHERE case_id = ? ORDER BY id", (case_id,))
