"""Alerts to practitioners, who was notified at each rung, and acknowledgements."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Row, Tx, parse_ts, ts


@dataclass(frozen=True)
class Alert:
    id: int
    service_id: int
    case_id: int
    case_ref: str
    severity: str
    reason: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    signals: tuple[str, ...] = ()  # fact codes (safety.signals.alert_facts): what happened, never her words


def codes(stored: str | None) -> tuple[str, ...]:
    """The fact codes of an alerts.signals column value (comma-separated, '' for none)."""
    return tuple(code for code in (stored or "").split(",") if code)


def _alert(row: Row) -> Alert:
    return Alert(
        id=row["id"],
        service_id=row["service_id"],
        case_id=row["case_id"],
        case_ref=row["ref"],
        severity=row["severity"],
        reason=row["reason"],
        created_at=parse_ts(row["created_at"]),
        acknowledged_at=parse_ts(row["acknowledged_at"]) if row["acknowledged_at"] else None,
        acknowledged_by=row["acknowledged_by"],
        signals=codes(row["signals"]),
    )


_SELECT = "SELECT alerts.*, cases.ref FROM alerts JOIN cases ON cases.id = alerts.case_id"


async def create(
    tx: Tx, service_id: int, case_id: int, severity: str, reason: str, now: datetime, signals: Sequence[str] = ()
) -> int:
    """A new alert; `signals` are fact codes, kept in the order given (catalog order, most serious first)."""
    if any("," in code or not code for code in signals):
        raise ValueError("an alert's signals are non-empty codes without commas")
    return await tx.execute(
        "INSERT INTO alerts (service_id, case_id, severity, reason, created_at, signals) VALUES (?, ?, ?, ?, ?, ?)",
        (service_id, case_id, severity, reason, ts(now), ",".join(signals)),
    )


async def get(tx: Tx, alert_id: int) -> Alert | None:
    row = await tx.one(f"{_SELECT} WHERE alerts.id = ?", (alert_id,))
    return _alert(row) if row else None


async def list_for_service(tx: Tx, service_id: int, open_only: bool = False) -> list[Alert]:
    where = " AND alerts.acknowledged_at IS NULL" if open_only else ""
    rows = await tx.all(f"{_SELECT} WHERE alerts.service_id = ?{where} ORDER BY alerts.id", (service_id,))
    return [_alert(r) for r in rows]


async def for_case(tx: Tx, case_id: int) -> list[Alert]:
    return [_alert(r) for r in await tx.all(f"{_SELECT} WHERE alerts.case_id = ? ORDER BY alerts.id", (case_id,))]


async def acknowledge(tx: Tx, alert_id: int, practitioner_id: int, now: datetime) -> bool:
    """Record the first acknowledgement; False if it was already acknowledged."""
    changed = await tx.changes(
        "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL",
        (ts(now), practitioner_id, alert_id),
    )
    return changed == 1


async def notified(tx: Tx, alert_id: int, step: int, role: str, practitioner_id: int, now: datetime) -> bool:
    """Record that a practitioner was told at a rung; False if they already were."""
    added = await tx.insert(
        "INSERT INTO alert_notifications (alert_id, step, role, practitioner_id, at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (alert_id, step, role, practitioner_id, ts(now)),
    )
    return added is not None


async def notifications(tx: Tx, alert_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM alert_notifications WHERE alert_id = ? ORDER BY id", (alert_id,))


async def open_exists(tx: Tx, case_id: int, reason: str) -> bool:
    value = await tx.scalar(
        "SELECT 1 FROM alerts WHERE case_id = ? AND reason = ? AND acknowledged_at IS NULL LIMIT 1", (case_id, reason)
    )
    return value is not None


@dataclass(frozen=True)
class Acknowledger:
    """An active practitioner, as far as acknowledging alerts goes."""

    id: int
    service_id: int
    roles: frozenset[str]


async def acknowledger(tx: Tx, practitioner_id: int) -> Acknowledger | None:
    """The service and roles of an active practitioner; None if unknown or inactive."""
    row = await tx.one("SELECT id, service_id FROM practitioners WHERE id = ? AND active = 1", (practitioner_id,))
    if row is None:
        return None
    roles = await tx.all("SELECT role FROM practitioner_roles WHERE practitioner_id = ?", (practitioner_id,))
    return Acknowledger(row["id"], row["service_id"], frozenset(r["role"] for r in roles))


async def was_told(tx: Tx, alert_id: int, practitioner_id: int) -> bool:
    """Whether the alert was sent to this practitioner, at any rung."""
    value = await tx.scalar(
        "SELECT 1 FROM alert_notifications WHERE alert_id = ? AND practitioner_id = ? LIMIT 1",
        (alert_id, practitioner_id),
    )
    return value is not None


async def open_sent_to(tx: Tx, case_id: int, practitioner_id: int, before: datetime) -> list[Alert]:
    """A case's open alerts that reached this practitioner (sent on any channel) no later than `before`."""
    rows = await tx.all(
        f"{_SELECT} WHERE alerts.case_id = ? AND alerts.acknowledged_at IS NULL AND (EXISTS ("
        "SELECT 1 FROM outbox o WHERE o.alert_id = alerts.id AND o.practitioner_id = ? AND o.status = 'sent' "
        "AND o.sent_at <= ?) OR EXISTS ("  # an alert open for longer than its outbox row kept its content
        "SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.practitioner_id = ? AND d.status = 'sent' "
        "AND d.sent_at <= ?)) ORDER BY alerts.id",
        (case_id, practitioner_id, ts(before), practitioner_id, int(before.timestamp())),
    )
    return [_alert(r) for r in rows]


def _token_hash(token: str) -> bytes:
    # A random 128-bit token needs no key: nobody can search for one by hashing guesses.
    return hashlib.sha256(token.encode()).digest()


async def new_button(tx: Tx, alert_id: int, practitioner_id: int, now: datetime) -> str:
    """A fresh, unguessable token for an Acknowledge button; only its hash is kept."""
    token = secrets.token_urlsafe(16)
    await tx.execute(
        "INSERT INTO alert_buttons (alert_id, practitioner_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
        (alert_id, practitioner_id, _token_hash(token), ts(now)),
    )
    return token


async def button_alert(tx: Tx, token: str) -> int | None:
    """The alert an Acknowledge button was made for; None for a token we never gave out."""
    value = await tx.scalar("SELECT alert_id FROM alert_buttons WHERE token_hash = ?", (_token_hash(token),))
    return None if value is None else int(value)
