"""The report's "Outcomes at closure" section, Insights-style: cases closed in the period by reason, and for
those closed with an outcome recorded, safety at closure (with Drive's "increased safety at closure" share),
each abuse type, and quality of life.

Cases counted: those in scope (storage.report_scope) that the service closed in the period (cases.closed_at);
a withdrawal is hers, not a closure, and is not counted. A case closed without an outcome (from the CLI)
is counted by reason as "Not recorded" and is left out of every outcome table and of every figure's base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

from safety.closure_outcomes import ABUSE_TYPES, CESSATION, CHANGE, CLOSE_REASONS
from safety.report_tables import (
    TOTAL,
    CellRef,
    Figure,
    Filters,
    Section,
    Table,
    period_bounds,
    share_text,
)
from storage.db import Row, Tx, ts
from storage.report_scope import cases_in_scope

NOT_RECORDED = "Not recorded"


async def section(tx: Tx, service_id: int, filters: Filters, tz: tzinfo) -> Section:
    start, end = period_bounds(filters, tz)
    where, params = cases_in_scope(service_id, filters)
    closed = await tx.all(
        f"SELECT o.* FROM cases c LEFT JOIN case_outcomes o ON o.case_id = c.id "
        f"WHERE {where} AND c.status = 'closed' AND c.closed_at >= ? AND c.closed_at < ? ORDER BY c.id",
        [*params, ts(start), ts(end)],
    )
    recorded = [r for r in closed if r["case_id"] is not None]
    base = len(recorded)
    tables = (
        _by_reason(closed),
        _one_column(
            "outcomes.safety", "Her safety at closure", "Safety against when support began", CHANGE, recorded, "safety"
        ),
        _abuse_types(recorded),
        _one_column(
            "outcomes.quality_of_life",
            "Her quality of life at closure",
            "Quality of life against when support began",
            CHANGE,
            recorded,
            "quality_of_life",
        ),
    )
    figures = (
        Figure(
            "outcomes.safety_improved",
            "Increased safety at closure (share of closures with an outcome recorded)",
            share_text(sum(1 for r in recorded if r["safety"] == "improved"), base, "no outcomes recorded"),
            base,
            (CellRef("outcomes.safety", CHANGE["improved"], "Cases"), CellRef("outcomes.safety", TOTAL, "Cases")),
        ),
        Figure(
            "outcomes.quality_of_life_improved",
            "Improved quality of life at closure (share of closures with an outcome recorded)",
            share_text(sum(1 for r in recorded if r["quality_of_life"] == "improved"), base, "no outcomes recorded"),
            base,
            (
                CellRef("outcomes.quality_of_life", CHANGE["improved"], "Cases"),
                CellRef("outcomes.quality_of_life", TOTAL, "Cases"),
            ),
        ),
    )
    return Section("outcomes", "Outcomes at closure", tables, figures)


def _by_reason(closed: Sequence[Row]) -> Table:
    counts = dict.fromkeys((*CLOSE_REASONS, None), 0)
    for r in closed:
        reason = r["close_reason"]
        counts[reason if reason in CLOSE_REASONS else None] += 1
    rows = [(label, (counts[code],)) for code, label in CLOSE_REASONS.items()]
    return Table(
        "outcomes.closed_by_reason",
        "Cases closed in the period, by reason",
        "Reason for closure",
        ("Cases",),
        (*rows, (NOT_RECORDED, (counts[None],))),
        note=f'"{NOT_RECORDED}": closed without the outcome form (from the command line).',
    )


def _one_column(
    key: str, title: str, row_heading: str, labels: Mapping[str, str], recorded: Sequence[Row], column: str
) -> Table:
    return Table(
        key,
        title,
        row_heading,
        ("Cases",),
        tuple((label, (sum(1 for r in recorded if r[column] == code),)) for code, label in labels.items()),
        note="Cases closed in the period with an outcome recorded.",
    )


def _abuse_types(recorded: Sequence[Row]) -> Table:
    rows = tuple(
        (label, tuple(sum(1 for r in recorded if r[kind] == code) for code in CESSATION))
        for kind, label in ABUSE_TYPES.items()
    )
    return Table(
        "outcomes.abuse_types",
        "Each type of abuse at closure",
        "Type of abuse",
        tuple(CESSATION.values()),
        rows,
        # With totals, so suppression sees that each row adds up to the closures (shown in the other tables): a
        # lone hidden cell in a row would otherwise be that number less the row's shown cells.
        note="Cases closed in the period with an outcome recorded; each row adds up to that number of cases. The "
        "total row counts answers across the four types, so each case is in it four times.",
    )
