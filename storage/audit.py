"""The audit log: who did what to which case, and when. Holds no personal data."""

from __future__ import annotations

from datetime import datetime

from storage.db import Row, Tx, ts


async def log(tx: Tx, now: datetime, actor: str, action: str, case_id: int | None = None, detail: str = "") -> None:
    await tx.execute(
        "INSERT INTO audit_log (at, actor, action, case_id, detail) VALUES (?, ?, ?, ?, ?)",
        (ts(now), actor, action, case_id, detail),
    )


async def for_case(tx: Tx, case_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM audit_log WHERE case_id = ? ORDER BY id", (case_id,))
