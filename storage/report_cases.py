"""The report's first section until the engagement figures land: cases enrolled and set up in the period.

Counted by risk level at intake, over the cases the filters cover (storage/report_scope.py). Every level
has a row, so a month with none still says so.
"""

from __future__ import annotations

from datetime import tzinfo

from safety.report_tables import Filters, Section, Table, period_bounds
from storage.db import Tx, ts
from storage.report_scope import cases_in_scope

INTAKE_LEVELS = (("high", "High"), ("medium", "Medium"), ("standard", "Standard"))


async def section(tx: Tx, service_id: int, filters: Filters, tz: tzinfo) -> Section:
    start, end = period_bounds(filters, tz)
    where, params = cases_in_scope(service_id, filters)
    rows = await tx.all(
        "SELECT c.intake_level,"
        " sum(c.created_at >= ? AND c.created_at < ?) AS enrolled,"
        " sum(c.onboarded_at IS NOT NULL AND c.onboarded_at >= ? AND c.onboarded_at < ?) AS set_up"
        f" FROM cases c WHERE {where} GROUP BY c.intake_level",
        (ts(start), ts(end), ts(start), ts(end), *params),
    )
    counts = {r["intake_level"]: (r["enrolled"] or 0, r["set_up"] or 0) for r in rows}
    table = Table(
        key="cases.by_intake_level",
        title="Cases enrolled and set up in the period, by risk at intake",
        row_heading="Risk at intake",
        columns=("Enrolled", "Set up"),
        rows=tuple((label, counts.get(level, (0, 0))) for level, label in INTAKE_LEVELS),
        totals=False,  # a case set up in the period may have been enrolled before it
    )
    return Section("cases", "Cases", tables=(table,))
