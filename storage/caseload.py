"""The workspace's reads of cases: a person's caseload in two grouped queries, and one case's timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.alert_work import NOTE as ALERT_NOTE
from storage.checkins import ANSWER_TEXT
from storage.crypto import Crypto
from storage.db import Tx, parse_ts
from storage.practitioners import NAME as PRACTITIONER_NAME

TREND_POINTS = 12  # check-ins in a caseload row's sparkline
# What counts as "last check-in": one she took part in (a missed or system-missed one is not).
ANSWERED = ("completed", "partial", "ended", "pin_failed", "exited")


@dataclass(frozen=True)
class Scope:
    """Which cases of a service a person sees: every one, their own, and/or those with an open alert."""

    service_id: int
    every_case: bool = False
    idva_id: int | None = None
    open_alerts: bool = False

    @property
    def empty(self) -> bool:
        return not (self.every_case or self.idva_id is not None or self.open_alerts)


@dataclass(frozen=True)
class CaseSummary:
    id: int
    ref: str
    idva_id: int
    status: str
    channel: str
    language: str
    intake: str  # DASH: standard | medium | high
    now: str | None  # the latest complete check-in's level; None before the first
    trend: tuple[str, ...]  # up to TREND_POINTS levels, oldest first
    last_checkin: datetime | None
    missed: int
    open_alerts: int
    next_checkin: datetime | None
    name_enc: bytes | None  # decrypted only when a search needs it


def _opt_ts(value: str | None) -> datetime | None:
    return parse_ts(value) if value else None


_SEEN = (
    "SELECT id FROM cases c WHERE c.service_id = ?1 AND (?2 = 1 OR c.idva_id = ?3 OR (?4 = 1 AND "
    "EXISTS (SELECT 1 FROM alerts a WHERE a.case_id = c.id AND a.resolved_at IS NULL)))"
)
_ANSWERED = ", ".join(f"'{s}'" for s in ANSWERED)
_SUMMARY = f"""
WITH seen AS ({_SEEN}),
ck AS (SELECT case_id, MAX(CASE WHEN status IN ({_ANSWERED}) THEN COALESCE(ended_at, started_at, due_at) END)
          AS last_checkin, SUM(status = 'missed') AS missed
       FROM checkins WHERE case_id IN (SELECT id FROM seen) GROUP BY case_id),
al AS (SELECT case_id, COUNT(*) AS open_alerts FROM alerts
       WHERE resolved_at IS NULL AND case_id IN (SELECT id FROM seen) GROUP BY case_id),
nx AS (SELECT case_id, MIN(due_at) AS next_checkin FROM timers
       WHERE kind = 'checkin' AND done_at IS NULL AND case_id IN (SELECT id FROM seen) GROUP BY case_id)
SELECT c.id, c.ref, c.idva_id, c.status, c.channel, c.language, c.intake_level, c.name_enc,
       ck.last_checkin, COALESCE(ck.missed, 0) AS missed, COALESCE(al.open_alerts, 0) AS open_alerts,
       nx.next_checkin
FROM cases c JOIN seen ON seen.id = c.id LEFT JOIN ck ON ck.case_id = c.id LEFT JOIN al ON al.case_id = c.id
LEFT JOIN nx ON nx.case_id = c.id ORDER BY c.ref
"""
_TRENDS = f"""
SELECT case_id, level FROM (
    SELECT case_id, level, id, ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY id DESC) AS n FROM assessments
    WHERE complete = 1 AND case_id IN ({_SEEN}))
WHERE n <= {TREND_POINTS} ORDER BY case_id, id
"""


async def caseload(tx: Tx, scope: Scope) -> list[CaseSummary]:
    """Every case in scope with its figures, by reference: two queries whatever the number of cases."""
    if scope.empty:
        return []
    # Numbered parameters: the scope's test appears in both queries.
    params = (
        scope.service_id,
        int(scope.every_case),
        scope.idva_id if scope.idva_id is not None else -1,
        int(scope.open_alerts),
    )
    rows = await tx.all(_SUMMARY, params)
    trends: dict[int, list[str]] = {}
    for r in await tx.all(_TRENDS, params):
        trends.setdefault(r["case_id"], []).append(r["level"])
    return [
        CaseSummary(
            id=r["id"],
            ref=r["ref"],
            idva_id=r["idva_id"],
            status=r["status"],
            channel=r["channel"],
            language=r["language"],
            intake=r["intake_level"],
            now=trends[r["id"]][-1] if r["id"] in trends else None,
            trend=tuple(trends.get(r["id"], ())),
            last_checkin=_opt_ts(r["last_checkin"]),
            missed=int(r["missed"]),
            open_alerts=int(r["open_alerts"]),
            next_checkin=_opt_ts(r["next_checkin"]),
            name_enc=r["name_enc"],
        )
        for r in rows
    ]


# --- one case's timeline -------------------------------------------------------------------------

TIMELINE_CHECKINS = 200  # the most recent, for the chart and by default for the timeline


@dataclass(frozen=True)
class AnswerShown:
    question: str
    options: tuple[str, ...]
    signals: tuple[str, ...]
    text: str | None
    unanswered: bool


@dataclass(frozen=True)
class CheckinShown:
    id: int
    slot: str
    status: str
    due_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    level: str | None
    score: int | None
    change: str | None
    baseline: str | None
    complete: bool
    signals: tuple[str, ...]
    answers: tuple[AnswerShown, ...]

    @property
    def at(self) -> datetime:
        return self.ended_at or self.started_at or self.due_at


async def checkins_shown(tx: Tx, crypto: Crypto, case_id: int, limit: int = TIMELINE_CHECKINS) -> list[CheckinShown]:
    """A case's latest check-ins, oldest first, each with its assessment and answers (three queries)."""
    rows = await tx.all(
        # The latest assessment of each check-in, found through the case (assessments are indexed by case).
        "SELECT c.*, a.level, a.score, a.change, a.baseline, a.complete, a.signals FROM checkins c "
        "LEFT JOIN (SELECT checkin_id, MAX(id) AS latest FROM assessments WHERE case_id = ? GROUP BY checkin_id) m "
        "ON m.checkin_id = c.id LEFT JOIN assessments a ON a.id = m.latest "
        "WHERE c.case_id = ? ORDER BY c.id DESC LIMIT ?",
        (case_id, case_id, limit),
    )
    if not rows:
        return []
    answers: dict[int, list[AnswerShown]] = {}
    for a in await tx.all(
        "SELECT * FROM answers WHERE checkin_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (json.dumps([r["id"] for r in rows]),),
    ):
        answers.setdefault(a["checkin_id"], []).append(
            AnswerShown(
                a["question"],
                tuple(json.loads(a["options"])),
                tuple(json.loads(a["signals"])),
                crypto.decrypt_optional(a["text_enc"], ANSWER_TEXT.at(a["id"])),
                bool(a["unanswered"]),
            )
        )
    return [
        CheckinShown(
            id=r["id"],
            slot=r["slot"],
            status=r["status"],
            due_at=parse_ts(r["due_at"]),
            started_at=_opt_ts(r["started_at"]),
            ended_at=_opt_ts(r["ended_at"]),
            level=r["level"],
            score=r["score"],
            change=r["change"],
            baseline=r["baseline"],
            complete=bool(r["complete"]),
            signals=tuple(json.loads(r["signals"])) if r["signals"] else (),
            answers=tuple(answers.get(r["id"], ())),
        )
        for r in reversed(rows)
    ]


@dataclass(frozen=True)
class RiskPoint:
    """One complete check-in's level, for the chart."""

    at: datetime
    level: str
    score: int
    signals: tuple[str, ...]


async def risk_points(tx: Tx, case_id: int, limit: int = TIMELINE_CHECKINS) -> list[RiskPoint]:
    """The latest complete assessments, oldest first."""
    rows = await tx.all(
        "SELECT at, level, score, signals FROM assessments WHERE case_id = ? AND complete = 1 ORDER BY id DESC LIMIT ?",
        (case_id, limit),
    )
    return [RiskPoint(parse_ts(r["at"]), r["level"], r["score"], tuple(json.loads(r["signals"]))) for r in rows][::-1]


@dataclass(frozen=True)
class Rung:
    step: int
    role: str
    practitioner_id: int
    at: datetime


@dataclass(frozen=True)
class AlertShown:
    id: int
    severity: str
    reason: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    resolved_at: datetime | None
    resolved_by: int | None
    outcome: str | None
    outcome_action: str | None
    note: str | None  # the resolution's note, decrypted
    rungs: tuple[Rung, ...]
    signals: tuple[str, ...] = ()  # what happened, as fact codes (bot/alert_text.py says them in words)


async def alerts_shown(tx: Tx, crypto: Crypto, case_id: int) -> list[AlertShown]:
    """A case's alerts, oldest first, each with who was told at which rung and how it ended (two queries)."""
    rows = await tx.all("SELECT * FROM alerts WHERE case_id = ? ORDER BY id", (case_id,))
    rungs: dict[int, list[Rung]] = {}
    for n in await tx.all(
        "SELECT n.* FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id WHERE a.case_id = ? ORDER BY n.id",
        (case_id,),
    ):
        rungs.setdefault(n["alert_id"], []).append(Rung(n["step"], n["role"], n["practitioner_id"], parse_ts(n["at"])))
    return [
        AlertShown(
            id=r["id"],
            severity=r["severity"],
            reason=r["reason"],
            signals=tuple(code for code in r["signals"].split(",") if code),
            created_at=parse_ts(r["created_at"]),
            acknowledged_at=_opt_ts(r["acknowledged_at"]),
            acknowledged_by=r["acknowledged_by"],
            resolved_at=_opt_ts(r["resolved_at"]),
            resolved_by=r["resolved_by"],
            outcome=r["outcome"],
            outcome_action=r["outcome_action"],
            note=crypto.decrypt_optional(r["note_enc"], ALERT_NOTE.at(r["id"])),
            rungs=tuple(rungs.get(r["id"], ())),
        )
        for r in rows
    ]


async def names_of_service(tx: Tx, crypto: Crypto, service_id: int) -> dict[int, str]:
    """Every practitioner's name in a service, by id (for authors and who was told)."""
    rows = await tx.all("SELECT id, name_enc FROM practitioners WHERE service_id = ?", (service_id,))
    return {r["id"]: crypto.decrypt(r["name_enc"], PRACTITIONER_NAME.at(r["id"])) for r in rows}


async def active_idvas(tx: Tx, crypto: Crypto, service_id: int) -> dict[int, str]:
    """The active IDVAs of a service, by id, with their names: who a case may be given to."""
    rows = await tx.all(
        "SELECT p.id, p.name_enc FROM practitioners p JOIN practitioner_roles r ON r.practitioner_id = p.id "
        "WHERE p.service_id = ? AND p.active = 1 AND r.role = 'idva' ORDER BY p.id",
        (service_id,),
    )
    return {r["id"]: crypto.decrypt(r["name_enc"], PRACTITIONER_NAME.at(r["id"])) for r in rows}
