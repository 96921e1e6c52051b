"""The workspace's alert queue: unresolved alerts with who was told and the next rung; resolutions and notes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage import alerts
from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts, ts

NOTE = Field("alerts", "note_enc")


class Outcome(StrEnum):
    """How an alert ended: the fixed list a practitioner picks from (and the figures a report counts)."""

    SAFE = "safe"  # spoke to her: safe
    ACTION = "action"  # spoke to her: action taken (see Action)
    NOT_REACHED = "not_reached"
    FALSE_ALARM = "false_alarm"
    MARAC = "marac"  # referred to Marac


class Action(StrEnum):
    """What was done when the outcome is ACTION."""

    POLICE = "police"
    REFUGE = "refuge"
    SAFETY_PLAN = "safety_plan"
    OTHER = "other"


@dataclass(frozen=True)
class Told:
    """One practitioner told of an alert, at one rung of its ladder."""

    step: int
    role: str
    practitioner_id: int
    at: datetime


@dataclass(frozen=True)
class NextRung:
    """The next escalation still to come: its rung and when it fires unless someone acknowledges."""

    step: int
    due_at: datetime


@dataclass(frozen=True)
class QueuedAlert:
    """An unresolved alert as the queue shows it."""

    id: int
    service_id: int
    case_id: int
    case_ref: str
    idva_id: int
    severity: str
    reason: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    told: tuple[Told, ...]
    next_rung: NextRung | None
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    signals: tuple[str, ...] = ()  # fact codes: what happened (storage.alerts.codes), never her words

    @property
    def rung(self) -> int | None:
        """The highest rung reached so far (0 = the first); None if nobody has been told yet."""
        return max((t.step for t in self.told), default=None)


_SEVERITY_ORDER = "CASE alerts.severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'raised' THEN 2 ELSE 3 END"


async def version(tx: Tx, service_id: int) -> int:
    """A number that moves whenever the service's queue may have changed (kept by triggers, migration 14)."""
    value = await tx.scalar("SELECT version FROM alert_queue_versions WHERE service_id = ?", (service_id,))
    return int(value or 0)


async def queue(tx: Tx, service_id: int, idva_id: int | None = None) -> list[QueuedAlert]:
    """The service's unresolved alerts, or only those on one IDVA's cases: unacknowledged first, then by
    severity, oldest first within each."""
    scope = "alerts.service_id = ? AND alerts.resolved_at IS NULL"
    params: tuple[int, ...] = (service_id,)
    if idva_id is not None:
        scope += " AND cases.idva_id = ?"
        params += (idva_id,)
    return await _items(tx, scope, params)


async def item(tx: Tx, alert_id: int) -> QueuedAlert | None:
    """One alert as the queue shows it, resolved or not."""
    found = await _items(tx, "alerts.id = ?", (alert_id,))
    return found[0] if found else None


async def open_on_case(tx: Tx, case_id: int) -> bool:
    """Whether a case has an alert nobody has resolved yet (it is open until then, acknowledged or not)."""
    value = await tx.scalar("SELECT 1 FROM alerts WHERE case_id = ? AND resolved_at IS NULL LIMIT 1", (case_id,))
    return value is not None


async def _items(tx: Tx, where: str, params: tuple[int, ...]) -> list[QueuedAlert]:
    rows = await tx.all(
        "SELECT alerts.*, cases.ref, cases.idva_id FROM alerts JOIN cases ON cases.id = alerts.case_id "
        f"WHERE {where} ORDER BY alerts.acknowledged_at IS NOT NULL, {_SEVERITY_ORDER}, alerts.id",
        params,
    )
    if not rows:
        return []
    ids = tuple(r["id"] for r in rows)
    marks = ", ".join("?" for _ in ids)
    told: dict[int, list[Told]] = {}
    for n in await tx.all(f"SELECT * FROM alert_notifications WHERE alert_id IN ({marks}) ORDER BY id", ids):
        told.setdefault(n["alert_id"], []).append(Told(n["step"], n["role"], n["practitioner_id"], parse_ts(n["at"])))
    upcoming: dict[int, NextRung] = {}
    for t in await tx.all(
        f"SELECT alert_id, due_at, payload FROM timers WHERE kind = 'escalate' AND done_at IS NULL "
        f"AND alert_id IN ({marks}) ORDER BY due_at DESC",  # the earliest last, so it is the one kept
        ids,
    ):
        upcoming[t["alert_id"]] = NextRung(int(json.loads(t["payload"])["step"]), parse_ts(t["due_at"]))
    return [_queued(r, tuple(told.get(r["id"], ())), upcoming.get(r["id"])) for r in rows]


def _queued(row: Row, told: tuple[Told, ...], next_rung: NextRung | None) -> QueuedAlert:
    return QueuedAlert(
        id=row["id"],
        service_id=row["service_id"],
        case_id=row["case_id"],
        case_ref=row["ref"],
        idva_id=row["idva_id"],
        severity=row["severity"],
        reason=row["reason"],
        created_at=parse_ts(row["created_at"]),
        acknowledged_at=parse_ts(row["acknowledged_at"]) if row["acknowledged_at"] else None,
        acknowledged_by=row["acknowledged_by"],
        told=told,
        next_rung=next_rung,
        resolved_at=parse_ts(row["resolved_at"]) if row["resolved_at"] else None,
        resolved_by=row["resolved_by"],
        signals=alerts.codes(row["signals"]),
    )


async def resolve(
    tx: Tx,
    crypto: Crypto,
    alert_id: int,
    practitioner_id: int,
    outcome: Outcome,
    action: Action | None,
    note: str | None,
    now: datetime,
) -> bool:
    """Record how an acknowledged alert ended; False if it was resolved already (or never acknowledged)."""
    if (outcome is Outcome.ACTION) != (action is not None):
        raise ValueError("an action goes with the outcome 'action taken', and only with it")
    note_enc = crypto.encrypt(note, NOTE.at(alert_id)) if note else None
    changed = await tx.changes(
        "UPDATE alerts SET resolved_at = ?, resolved_by = ?, outcome = ?, outcome_action = ?, note_enc = ? "
        "WHERE id = ? AND resolved_at IS NULL AND acknowledged_at IS NOT NULL",
        (ts(now), practitioner_id, outcome.value, action.value if action else None, note_enc, alert_id),
    )
    return changed == 1


@dataclass(frozen=True)
class Resolution:
    """How an alert was dealt with, and how long each part took."""

    alert_id: int
    created_at: datetime
    acknowledged_at: datetime
    acknowledged_by: int | None
    resolved_at: datetime
    resolved_by: int | None
    outcome: str  # an Outcome, or 'unrecorded' for alerts closed before resolving existed
    action: Action | None
    note: str | None

    @property
    def time_to_acknowledge(self) -> timedelta:
        return self.acknowledged_at - self.created_at

    @property
    def time_to_resolve(self) -> timedelta:
        return self.resolved_at - self.created_at


async def resolution(tx: Tx, crypto: Crypto, alert_id: int) -> Resolution | None:
    """The resolution of an alert, its note decrypted; None while it is unresolved."""
    row = await tx.one("SELECT * FROM alerts WHERE id = ? AND resolved_at IS NOT NULL", (alert_id,))
    if row is None:
        return None
    return Resolution(
        alert_id=alert_id,
        created_at=parse_ts(row["created_at"]),
        acknowledged_at=parse_ts(row["acknowledged_at"] or row["resolved_at"]),
        acknowledged_by=row["acknowledged_by"],
        resolved_at=parse_ts(row["resolved_at"]),
        resolved_by=row["resolved_by"],
        outcome=row["outcome"],
        action=Action(row["outcome_action"]) if row["outcome_action"] else None,
        note=crypto.decrypt_optional(row["note_enc"], NOTE.at(alert_id)),
    )
