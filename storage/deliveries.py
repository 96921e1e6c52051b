"""Compact delivery records: what stays of an outbox row once its content has gone, and the move itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.db import Tx, parse_ts

CHUNK = 200  # outbox rows looked at, and at most moved, per unit of work: the writer is never held long


@dataclass(frozen=True)
class Delivery:
    """One message's delivery, without its content: for the case timeline and the reports."""

    id: int  # the outbox row's id
    recipient: str  # survivor | practitioner
    case_id: int | None
    practitioner_id: int | None
    alert_id: int | None
    channel: str
    status: str  # pending | sent | failed | cancelled
    attempts: int
    queued_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None  # a provider's report (SMS); None where the channel reports nothing
    failed_at: datetime | None


@dataclass(frozen=True)
class Looked:
    """A chunk of outbox rows in id order: the finished ones among them, each with its owner's service."""

    finished: list[tuple[int, int | None, datetime]]  # (id, service id or None, queued at)
    last_id: int | None  # None: nothing at or after the start
    last_queued: datetime | None


async def look(tx: Tx, start: int, limit: int = CHUNK) -> Looked:
    """Read a chunk of outbox rows by primary key from `start` on (no scan of the rest of the table)."""
    rows = await tx.all(
        "SELECT o.id, o.status, o.created_at, COALESCE(c.service_id, p.service_id) AS service_id FROM outbox o "
        "LEFT JOIN cases c ON c.id = o.case_id LEFT JOIN practitioners p ON p.id = o.practitioner_id "
        "WHERE o.id >= ? ORDER BY o.id LIMIT ?",
        (start, limit),
    )
    finished = [(r["id"], r["service_id"], parse_ts(r["created_at"])) for r in rows if r["status"] != "pending"]
    last = rows[-1] if rows else None
    return Looked(finished, last["id"] if last else None, parse_ts(last["created_at"]) if last else None)


def _epoch(column: str) -> str:
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


async def archive(tx: Tx, ids: list[int]) -> int:
    """Replace finished outbox rows by their compact records; the rows and their content go (securely deleted)."""
    if not ids:
        return 0
    given = json.dumps(ids)
    await tx.execute(
        "INSERT INTO deliveries (id, recipient, case_id, practitioner_id, alert_id, channel, status, attempts, "
        "queued_at, sent_at, delivered_at, failed_at) "
        f"SELECT o.id, o.recipient, COALESCE(o.case_id, a.case_id), o.practitioner_id, o.alert_id, o.channel, "
        f"o.status, o.attempts, {_epoch('o.created_at')}, {_epoch('o.sent_at')}, "
        f"CASE WHEN d.status IN ('delivered', 'read') THEN {_epoch('d.updated_at')} END, "
        f"CASE WHEN o.status = 'failed' THEN {_epoch('o.next_attempt_at')} "
        f"WHEN d.status IN ('failed', 'undelivered') THEN {_epoch('d.updated_at')} END "
        "FROM outbox o LEFT JOIN alerts a ON a.id = o.alert_id "
        "LEFT JOIN sms_deliveries d ON o.channel = 'sms' AND d.provider_id = o.provider_id "
        "WHERE o.id IN (SELECT value FROM json_each(?)) AND o.status != 'pending'",
        (given,),
    )
    # The SMS bookkeeping row (segments, status) stays; it no longer points at a row that is gone.
    await tx.execute(
        "UPDATE sms_deliveries SET outbox_id = NULL WHERE outbox_id IN "
        "(SELECT id FROM deliveries WHERE id IN (SELECT value FROM json_each(?)))",
        (given,),
    )
    return await tx.changes(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM deliveries WHERE id IN (SELECT value FROM json_each(?)))",
        (given,),
    )


def _at(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    return parse_ts(str(value))


async def for_case(tx: Tx, case_id: int) -> list[Delivery]:
    """Every message to or about a case (its survivor's, and its alerts' to practitioners), oldest first,
    whether its outbox row still holds the content or only its compact record is left."""
    rows = await tx.all(
        "SELECT o.id, o.recipient, COALESCE(o.case_id, a.case_id) AS case_id, o.practitioner_id, o.alert_id, "
        "o.channel, o.status, o.attempts, o.created_at AS queued_at, o.sent_at, "
        "CASE WHEN d.status IN ('delivered', 'read') THEN d.updated_at END AS delivered_at, "
        "CASE WHEN o.status = 'failed' THEN o.next_attempt_at "
        "WHEN d.status IN ('failed', 'undelivered') THEN d.updated_at END AS failed_at "
        "FROM outbox o LEFT JOIN alerts a ON a.id = o.alert_id "
        "LEFT JOIN sms_deliveries d ON o.channel = 'sms' AND d.provider_id = o.provider_id "
        "WHERE o.case_id = ? OR o.alert_id IN (SELECT id FROM alerts WHERE case_id = ?) "
        "UNION ALL SELECT id, recipient, case_id, practitioner_id, alert_id, channel, status, attempts, queued_at, "
        "sent_at, delivered_at, failed_at FROM deliveries WHERE case_id = ? ORDER BY id",
        (case_id, case_id, case_id),
    )
    return [
        Delivery(
            r["id"],
            r["recipient"],
            r["case_id"],
            r["practitioner_id"],
            r["alert_id"],
            r["channel"],
            r["status"],
            r["attempts"],
            _at(r["queued_at"]) or datetime.min.replace(tzinfo=UTC),
            _at(r["sent_at"]),
            _at(r["delivered_at"]),
            _at(r["failed_at"]),
        )
        for r in rows
    ]


async def first_outbox_id(tx: Tx) -> int:
    """Where a pruning pass starts: the oldest outbox row left (0 when empty)."""
    return int(await tx.scalar("SELECT COALESCE(MIN(id), 0) FROM outbox"))
