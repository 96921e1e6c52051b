"""Aggregate figures for digests and reports: counts only, never survivor words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.db import Tx, ts


@dataclass(frozen=True)
class CaseloadDay:
    """How one IDVA's caseload's check-ins went in a period."""

    statuses: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    open_alerts: int = 0


async def caseload(tx: Tx, idva_id: int, since: datetime, until: datetime) -> CaseloadDay:
    window = (idva_id, ts(since), ts(until))
    statuses = await tx.all(
        "SELECT k.status, count(*) AS n FROM checkins k JOIN cases c ON c.id = k.case_id "
        "WHERE c.idva_id = ? AND k.due_at >= ? AND k.due_at < ? GROUP BY k.status",
        window,
    )
    levels = await tx.all(
        "SELECT a.level, count(*) AS n FROM assessments a JOIN cases c ON c.id = a.case_id "
        "WHERE c.idva_id = ? AND a.at >= ? AND a.at < ? GROUP BY a.level",
        window,
    )
    alerts = await tx.one(
        "SELECT count(*) AS n, sum(a.acknowledged_at IS NULL) AS open FROM alerts a JOIN cases c ON c.id = a.case_id "
        "WHERE c.idva_id = ? AND a.created_at >= ? AND a.created_at < ?",
        window,
    )
    return CaseloadDay(
        statuses={r["status"]: r["n"] for r in statuses},
        levels={r["level"]: r["n"] for r in levels},
        alerts=int(alerts["n"] or 0) if alerts else 0,
        open_alerts=int(alerts["open"] or 0) if alerts else 0,
    )
