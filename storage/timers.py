"""Timers: every timed thing (check-ins due, reminders, expiries, escalations) lives in one table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Row, Tx, parse_ts, ts


@dataclass(frozen=True)
class Timer:
    id: int
    kind: str
    key: str
    case_id: int | None
    alert_id: int | None
    service_id: int | None
    due_at: datetime
    payload: dict[str, Any]


def _timer(row: Row) -> Timer:
    return Timer(
        row["id"],
        row["kind"],
        row["key"],
        row["case_id"],
        row["alert_id"],
        row["service_id"],
        parse_ts(row["due_at"]),
        json.loads(row["payload"]),
    )


async def add(
    tx: Tx,
    kind: str,
    key: str,
    due_at: datetime,
    *,
    case_id: int | None = None,
    alert_id: int | None = None,
    service_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a timer unless one with the same (kind, key) exists; True if added."""
    added = await tx.insert(
        "INSERT INTO timers (kind, key, case_id, alert_id, service_id, due_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (kind, key) DO NOTHING",
        (kind, key, case_id, alert_id, service_id, ts(due_at), json.dumps(payload or {})),
    )
    return added is not None


async def due(tx: Tx, now: datetime, limit: int = 100, case_id: int | None = None) -> list[Timer]:
    if case_id is None:
        rows = await tx.all(
            "SELECT * FROM timers WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?", (ts(now), limit)
        )
    else:
        rows = await tx.all(
            "SELECT * FROM timers WHERE done_at IS NULL AND due_at <= ? AND case_id = ? ORDER BY due_at, id LIMIT ?",
            (ts(now), case_id, limit),
        )
    return [_timer(r) for r in rows]


async def postpone(tx: Tx, timer_id: int, due_at: datetime, payload: dict[str, Any], done: bool = False) -> None:
    """Try a failed timer again later (or give up on it: `done`)."""
    await tx.execute(
        "UPDATE timers SET due_at = ?, payload = ?, done_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?",
        (ts(due_at), json.dumps(payload), int(done), ts(due_at), timer_id),
    )


async def bring_forward_escalation(tx: Tx, alert_id: int, now: datetime) -> bool:
    """Make the alert's next rung due now; False if no rung is left."""
    return (
        await tx.changes(
            "UPDATE timers SET due_at = ? WHERE id = (SELECT id FROM timers WHERE alert_id = ? AND kind = 'escalate' "
            "AND done_at IS NULL ORDER BY due_at LIMIT 1)",
            (ts(now), alert_id),
        )
        == 1
    )


async def claim(tx: Tx, timer_id: int, now: datetime) -> bool:
    """Mark a timer done; False if someone else already did (it fires once)."""
    return await tx.changes("UPDATE timers SET done_at = ? WHERE id = ? AND done_at IS NULL", (ts(now), timer_id)) == 1


async def cancel(tx: Tx, now: datetime, case_id: int, kinds: tuple[str, ...]) -> None:
    marks = ", ".join("?" for _ in kinds)
    await tx.execute(
        f"UPDATE timers SET done_at = ? WHERE case_id = ? AND done_at IS NULL AND kind IN ({marks})",
        (ts(now), case_id, *kinds),
    )


async def pending_for_case(tx: Tx, case_id: int, kind: str) -> list[Timer]:
    rows = await tx.all(
        "SELECT * FROM timers WHERE case_id = ? AND kind = ? AND done_at IS NULL ORDER BY due_at", (case_id, kind)
    )
    return [_timer(r) for r in rows]


async def cancel_for_alert(tx: Tx, now: datetime, alert_id: int) -> None:
    """An acknowledged alert escalates no further."""
    await tx.execute(
        "UPDATE timers SET done_at = ? WHERE alert_id = ? AND kind = 'escalate' AND done_at IS NULL",
        (ts(now), alert_id),
    )


async def cancel_all(tx: Tx, now: datetime, case_id: int) -> None:
    await tx.execute(
        "UPDATE timers SET done_at = ? WHERE case_id = ? AND done_at IS NULL AND kind != 'escalate'", (ts(now), case_id)
    )


async def put(
    tx: Tx, kind: str, key: str, due_at: datetime, *, case_id: int | None = None, payload: dict[str, Any] | None = None
) -> None:
    """Add or re-arm a timer (re-planning the same slot after a schedule change)."""
    await tx.execute(
        "INSERT INTO timers (kind, key, case_id, due_at, payload) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, done_at = NULL",
        (kind, key, case_id, ts(due_at), json.dumps(payload or {})),
    )


async def fired(tx: Tx, kind: str, key: str) -> bool:
    """Whether a timer went off (done at or after its due time), not merely cancelled before it."""
    value = await tx.scalar(
        "SELECT 1 FROM timers WHERE kind = ? AND key = ? AND done_at IS NOT NULL AND done_at >= due_at", (kind, key)
    )
    return value is not None


async def cancel_keys(tx: Tx, now: datetime, kind: str, keys: tuple[str, ...]) -> None:
    """Cancel the pending timers of one kind with these keys (e.g. a share's escalation rungs)."""
    marks = ", ".join("?" for _ in keys)
    await tx.execute(
        f"UPDATE timers SET done_at = ? WHERE kind = ? AND done_at IS NULL AND key IN ({marks})",
        (ts(now), kind, *keys),
    )
