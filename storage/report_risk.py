"""The report's "Risk" section: level at intake against level now, trajectories, and Marac.

Cases covered by the level tables: the cases in scope (storage.report_scope) that were active in the
period (set up before it ended and not closed or withdrawn before it began) or had a check-in due in it.

- Level at intake: the first DASH recorded on the case, else the level given at enrolment. (Each DASH
  overwrites cases.intake_level, the risk model's baseline, so that column alone is the latest DASH.)
- Level now: the latest complete check-in assessment before the period's end, else the level at intake.
- Intake is on the DASH scale (standard, medium, high), check-ins on Safecheck's (standard, raised, high,
  urgent); they compare as the risk model compares them: medium is raised (safety.model.IntakeLevel.level).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from safety.dash import HIGH_TICKS
from safety.model import IntakeLevel, Level
from safety.report_tables import Filters, Section, Table, period_bounds
from storage.db import Tx, ts
from storage.report_scope import cases_in_scope

INTAKE = tuple(IntakeLevel)  # rows, lowest first
NOW = tuple(Level)
IMPROVED, SAME, WORSE = "Improved", "No change", "Worse"

COVERED = (
    "Cases active in the period (set up before it ended, not closed or withdrawn before it began) or with a "
    "check-in due in it."
)


async def section(tx: Tx, service_id: int, filters: Filters, tz: ZoneInfo) -> Section:
    start, end = period_bounds(filters, tz)
    where, params = cases_in_scope(service_id, filters)
    rows = await tx.all(
        "SELECT c.intake_level, "
        "(SELECT d.level FROM dash_assessments d WHERE d.case_id = c.id ORDER BY d.recorded_at, d.id LIMIT 1) "
        "AS first_dash, "
        "(SELECT s.level FROM assessments s WHERE s.case_id = c.id AND s.complete = 1 AND s.at < ? "
        "ORDER BY s.at DESC, s.id DESC LIMIT 1) AS level_now "
        f"FROM cases c WHERE {where} AND ("
        "(c.onboarded_at IS NOT NULL AND c.onboarded_at < ? AND (c.closed_at IS NULL OR c.closed_at >= ?)) "
        "OR EXISTS (SELECT 1 FROM checkins k WHERE k.case_id = c.id AND k.due_at >= ? AND k.due_at < ?))",
        [ts(end), *params, ts(end), ts(start), ts(start), ts(end)],
    )
    pairs: list[tuple[IntakeLevel, Level]] = []
    for r in rows:
        intake = IntakeLevel(r["first_dash"] or r["intake_level"])
        pairs.append((intake, Level.parse(r["level_now"]) if r["level_now"] else intake.level))
    marac = await _marac(tx, where, params, filters, ts(start), ts(end))
    return Section("risk", "Risk", (_cross(pairs), _trajectories(pairs), marac))


def trajectory(intake: IntakeLevel, now: Level) -> str:
    if now < intake.level:
        return IMPROVED
    return SAME if now == intake.level else WORSE


def _cross(pairs: list[tuple[IntakeLevel, Level]]) -> Table:
    counts = {i: [0] * len(NOW) for i in INTAKE}
    for intake, now in pairs:
        counts[intake][NOW.index(now)] += 1
    return Table(
        "risk.intake_against_now",
        "Level at intake against level now",
        "Level at intake (DASH)",
        tuple(level.label.capitalize() for level in NOW),
        tuple((i.value.capitalize(), tuple(counts[i])) for i in INTAKE),
        note=f"{COVERED} Intake: the first DASH, else the level given at enrolment. Now: the latest complete "
        "check-in at the end of the period, else the intake level (a medium DASH counts as raised).",
    )


def _trajectories(pairs: list[tuple[IntakeLevel, Level]]) -> Table:
    labels = (IMPROVED, SAME, WORSE)
    counts = {label: [0] * len(INTAKE) for label in labels}
    for intake, now in pairs:
        counts[trajectory(intake, now)][INTAKE.index(intake)] += 1
    return Table(
        "risk.trajectories",
        "Risk trajectories: level now against level at intake",
        "Trajectory",
        tuple(f"{i.value.capitalize()} at intake" for i in INTAKE),
        tuple((label, tuple(counts[label])) for label in labels),
        note=f"{COVERED} Improved: the level now is lower than at intake; worse: higher (a medium DASH compares "
        "as raised).",
    )


async def _marac(tx: Tx, where: str, params: list[object], filters: Filters, start: str, end: str) -> Table:
    # Meetings are dated by the local day they sat, so the period's own dates bound them.
    heard = await tx.scalar(
        "SELECT COUNT(DISTINCT m.case_id) FROM marac_meetings m JOIN cases c ON c.id = m.case_id "
        f"WHERE {where} AND m.heard = 1 AND m.meeting_date >= ? AND m.meeting_date < ?",
        [*params, filters.start.isoformat(), filters.end.isoformat()],
    )
    dash = await tx.one(
        "SELECT COUNT(*) AS checklists, COUNT(DISTINCT d.case_id) AS cases FROM dash_assessments d "
        f"JOIN cases c ON c.id = d.case_id WHERE {where} AND d.ticks >= ? AND d.recorded_at >= ? "
        "AND d.recorded_at < ?",
        [*params, HIGH_TICKS, start, end],
    )
    assert dash is not None  # an aggregate always gives a row
    return Table(
        "risk.marac",
        "Marac",
        "What",
        ("Count",),
        (
            ("Cases heard at a Marac in the period", (int(heard or 0),)),
            (f"DASH checklists recorded with {HIGH_TICKS} or more ticks", (int(dash["checklists"]),)),
            (f"Cases with such a checklist ({HIGH_TICKS}+ ticks)", (int(dash["cases"]),)),
        ),
        totals=False,  # different things: adding them up means nothing
        note=f"A meeting counts when her case was heard (not deferred). {HIGH_TICKS} or more ticks on the DASH "
        "is the SafeLives threshold for referral to a Marac. Any case in scope counts here, active or not.",
    )
