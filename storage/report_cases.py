"""The report's first section until the engagement figures land: cases enrolled and set up in the period.

Counted by channel, over the cases the filters cover (storage/report_scope.py).
"""

from __future__ import annotations

from datetime import tzinfo

from safety.report_tables import Filters, Section, Table, period_bounds
from storage.db import Tx, ts
from storage.report_scope import cases_in_scope


async def section(tx: Tx, service_id: int, filters: Filters, tz: tzinfo) -> Section:
    start, end = period_bounds(filters, tz)
    where, params = cases_in_scope(service_id, filters)
    rows = await tx.all(
        "SELECT c.channel,"
        " sum(c.created_at >= ? AND c.created_at < ?) AS enrolled,"
        " sum(c.onboarded_at IS NOT NULL AND c.onboarded_at >= ? AND c.onboarded_at < ?) AS set_up"
        f" FROM cases c WHERE {where} GROUP BY c.channel ORDER BY c.channel",
        (ts(start), ts(end), ts(start), ts(end), *params),
    )
    table = Table(
        key="cases.by_channel",
        title="Cases enrolled and set up in the period, by channel",
        row_heading="Channel",
        columns=("Enrolled", "Set up"),
        rows=tuple((r["channel"], (r["enrolled"] or 0, r["set_up"] or 0)) for r in rows),
        totals=False,  # a case set up in the period may have been enrolled before it
    )
    return Section("cases", "Cases", tables=(table,))
