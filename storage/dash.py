"""DASH checklists and Marac meetings on a case; the latest DASH sets the case's intake level."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from safety import dash
from safety.dash import Answer, Answers
from safety.model import IntakeLevel
from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts, ts

REASON = Field("dash_assessments", "reason_enc")
ACTIONS = Field("marac_meetings", "actions_enc")
MAX_TEXT = 4000


@dataclass(frozen=True)
class DashRecord:
    id: int
    case_id: int
    recorded_at: datetime
    recorded_by: int
    answers: dict[int, Answer]  # empty once withdrawal erased them; ticks and level stay
    ticks: int
    judgement: IntakeLevel | None
    reason: str | None
    level: IntakeLevel


@dataclass(frozen=True)
class MaracMeeting:
    id: int
    case_id: int
    meeting_date: date
    actions: str | None
    recorded_by: int
    recorded_at: datetime
    heard: bool = True  # False: deferred, her case was not heard that day


async def add(
    tx: Tx,
    crypto: Crypto,
    case_id: int,
    recorded_by: int,
    answers: Answers,
    judgement: IntakeLevel | None,
    reason: str | None,
    now: datetime,
) -> DashRecord:
    """Record a DASH and make its level the case's intake level; the caller has checked the recorder's right."""
    record_id = await tx.next_id("dash_assessments")
    record = DashRecord(
        record_id, case_id, now, recorded_by, dict(answers), dash.ticks(answers), judgement, reason,
        dash.level(answers, judgement),
    )
    await tx.execute(
        "INSERT INTO dash_assessments (id, case_id, recorded_at, recorded_by, answers, ticks, judgement_level, "
        "reason_enc, level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record_id,
            case_id,
            ts(now),
            recorded_by,
            json.dumps(dash.answers_to_json(answers)),
            record.ticks,
            judgement.value if judgement else None,
            crypto.encrypt_optional(reason, REASON.at(record_id)),
            record.level.value,
        ),
    )
    await tx.execute("UPDATE cases SET intake_level = ? WHERE id = ?", (record.level.value, case_id))
    return record


def _record(crypto: Crypto, r: Row) -> DashRecord:
    return DashRecord(
        id=r["id"],
        case_id=r["case_id"],
        recorded_at=parse_ts(r["recorded_at"]),
        recorded_by=r["recorded_by"],
        answers={int(k): Answer(v) for k, v in json.loads(r["answers"]).items()},
        ticks=r["ticks"],
        judgement=IntakeLevel(r["judgement_level"]) if r["judgement_level"] else None,
        reason=crypto.decrypt_optional(r["reason_enc"], REASON.at(r["id"])),
        level=IntakeLevel(r["level"]),
    )


async def latest(tx: Tx, crypto: Crypto, case_id: int) -> DashRecord | None:
    """The case's most recent DASH, or None before the first."""
    row = await tx.one("SELECT * FROM dash_assessments WHERE case_id = ? ORDER BY id DESC LIMIT 1", (case_id,))
    return _record(crypto, row) if row else None


async def history(tx: Tx, crypto: Crypto, case_id: int) -> list[DashRecord]:
    """Every DASH on the case, oldest first: the risk trajectory a Marac referral shows."""
    rows = await tx.all("SELECT * FROM dash_assessments WHERE case_id = ? ORDER BY id", (case_id,))
    return [_record(crypto, r) for r in rows]


async def add_meeting(
    tx: Tx,
    crypto: Crypto,
    case_id: int,
    meeting_date: date,
    actions: str | None,
    recorded_by: int,
    now: datetime,
    heard: bool = True,
) -> int:
    """Record a Marac meeting the case was listed at: whether it was heard, and what it agreed."""
    meeting_id = await tx.next_id("marac_meetings")
    await tx.execute(
        "INSERT INTO marac_meetings (id, case_id, meeting_date, actions_enc, recorded_by, recorded_at, heard) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            meeting_id,
            case_id,
            meeting_date.isoformat(),
            crypto.encrypt_optional(actions, ACTIONS.at(meeting_id)),
            recorded_by,
            ts(now),
            int(heard),
        ),
    )
    return meeting_id


async def meetings(tx: Tx, crypto: Crypto, case_id: int) -> list[MaracMeeting]:
    """The case's Marac meetings, earliest first."""
    rows = await tx.all("SELECT * FROM marac_meetings WHERE case_id = ? ORDER BY meeting_date, id", (case_id,))
    return [
        MaracMeeting(
            r["id"],
            r["case_id"],
            date.fromisoformat(r["meeting_date"]),
            crypto.decrypt_optional(r["actions_enc"], ACTIONS.at(r["id"])),
            r["recorded_by"],
            parse_ts(r["recorded_at"]),
            bool(r["heard"]),
        )
        for r in rows
    ]


async def last_meeting_date(tx: Tx, case_id: int) -> date | None:
    """The date of the latest Marac that heard the case (the "repeat" criterion counts from it), or None."""
    value = await tx.scalar(
        "SELECT MAX(meeting_date) FROM marac_meetings WHERE case_id = ? AND heard = 1", (case_id,)
    )
    return date.fromisoformat(value) if value else None


async def escalation_incidents(tx: Tx, service_id: int) -> int:
    """The service's "potential escalation" threshold: incidents in 12 months that meet the Marac criteria."""
    return int(await tx.scalar("SELECT marac_escalation_incidents FROM services WHERE id = ?", (service_id,)))


async def checkin_signals(tx: Tx, case_id: int, since: datetime) -> list[tuple[datetime, frozenset[str]]]:
    """(when, signals) of each check-in answered since `since`: what the Marac criteria count incidents in."""
    rows = await tx.all(
        "SELECT checkin_id, at, signals FROM answers WHERE case_id = ? AND at >= ? ORDER BY id",
        (case_id, ts(since)),
    )
    first: dict[int, datetime] = {}
    signals: dict[int, set[str]] = {}
    for r in rows:
        first.setdefault(r["checkin_id"], parse_ts(r["at"]))
        signals.setdefault(r["checkin_id"], set()).update(json.loads(r["signals"]))
    return [(first[c], frozenset(signals[c])) for c in first]
