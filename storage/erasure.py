"""Erasure of one case's personal data (on request, or by retention), and the purge records that say what went.

Withdrawal (cases.erase) takes what she gave us. Erasure takes that and everything staff wrote about her:
notes, alert notes, share justifications and partners' action notes, reasons for shares without consent
and their refusals, duty staff's reasons for opening the case, Marac actions, the partner's reference,
the DASH reason, and every message's content. What stays is what the reports need: the reference,
service, IDVA, dates, statuses, levels, scores, counts and codes, and the audit log (ids and codes only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage import cases, deliveries
from storage.db import Row, Tx, parse_ts, ts

REASONS = ("her_request", "not_needed", "other")  # asked for in the workspace or on the CLI
RETENTION = "retention"  # the daily round's reason: the service's retention period ran out
KINDS = ("request", "retention")

_HER_ALERTS = "SELECT id FROM alerts WHERE case_id = ?"
_HER_SHARES = "SELECT id FROM shares WHERE case_id = ?"


async def _count(tx: Tx, sql: str, case_id: int) -> int:
    return int(await tx.scalar(sql, (case_id,)) or 0)


async def _close_if_open(tx: Tx, case: cases.Case, now: datetime) -> bool:
    if case.status in ("closed", "withdrawn"):
        return False
    await cases.close(tx, case.id, now)
    return True


async def erase_case(tx: Tx, case_id: int, now: datetime, reason: str) -> dict[str, int]:
    """Erase everything personal about a case and everything written about her; return what went, per kind.

    Closes the case first if it is open. Marks the unit as erasing (secure delete, then a WAL wipe).
    """
    if reason not in (*REASONS, RETENTION):
        raise ValueError(f"unknown erasure reason {reason!r}")
    tx.erasing()
    case = await cases.get(tx, case_id)
    counts = {"cases_closed": int(await _close_if_open(tx, case, now))}
    # What withdrawal erases, counted before it goes.
    counts["answers"] = await _count(tx, "SELECT COUNT(*) FROM answers WHERE case_id = ?", case_id)
    counts["messages_from_her"] = await _count(
        tx, "SELECT COUNT(*) FROM inbound_messages WHERE case_id = ? AND body_enc IS NOT NULL", case_id
    )
    await cases.erase(tx, case_id)
    # A provider's message id lets anyone with the provider's console find her number: a placeholder stays.
    await tx.execute(
        "UPDATE inbound_messages SET provider_id = 'erased-' || id WHERE case_id = ? "
        "AND provider_id NOT LIKE 'erased-%'",
        (case_id,),
    )
    await tx.execute(
        "UPDATE sms_deliveries SET provider_id = 'erased-' || rowid WHERE case_id = ? "
        "AND provider_id NOT LIKE 'erased-%'",
        (case_id,),
    )
    # What staff wrote about her.
    steps: dict[str, str] = {
        "notes": "DELETE FROM case_notes WHERE case_id = ?",
        "access_reasons": "DELETE FROM access_reasons WHERE case_id = ?",
        "alert_notes": "UPDATE alerts SET note_enc = NULL WHERE case_id = ? AND note_enc IS NOT NULL",
        "share_texts": "UPDATE shares SET justification_enc = NULL, action_note_enc = NULL WHERE case_id = ? "
        "AND (justification_enc IS NOT NULL OR action_note_enc IS NOT NULL)",
        "share_request_texts": "UPDATE share_requests SET reason_enc = NULL, refusal_enc = NULL WHERE case_id = ? "
        "AND (reason_enc IS NOT NULL OR refusal_enc IS NOT NULL)",
        "marac_actions": "UPDATE marac_meetings SET actions_enc = NULL WHERE case_id = ? AND actions_enc IS NOT NULL",
        "partner_refs": "UPDATE case_partner_links SET partner_ref_enc = NULL WHERE case_id = ? "
        "AND partner_ref_enc IS NOT NULL",
        "inbox_items": f"DELETE FROM inbox WHERE alert_id IN ({_HER_ALERTS})",
    }
    for kind, sql in steps.items():
        counts[kind] = await tx.changes(sql, (case_id,))
    # A partner's inbox line for a share names the share and carries their reference for her case.
    for row in await tx.all(_HER_SHARES, (case_id,)):
        share_id = int(row["id"])
        counts["inbox_items"] += await tx.changes(
            "DELETE FROM inbox WHERE alert_id IS NULL AND (body LIKE ? OR body LIKE ?)",
            (f"%share S-{share_id} %", f"%share S-{share_id}:%"),
        )
    # A share still on its way goes without the partner's reference (it goes: a partner may need to act).
    await tx.execute(
        "UPDATE outbox SET message = json_set(message, '$.partner_ref', '') WHERE status = 'pending' "
        "AND json_extract(message, '$.kind') = 'share' "
        f"AND json_extract(message, '$.share_id') IN ({_HER_SHARES})",
        (case_id,),
    )
    # Every finished message to or about her keeps only its compact delivery record.
    finished = await tx.all(
        "SELECT id FROM outbox WHERE status != 'pending' AND (case_id = ? "
        f"OR alert_id IN ({_HER_ALERTS}) OR (json_extract(message, '$.kind') = 'share' "
        f"AND json_extract(message, '$.share_id') IN ({_HER_SHARES})))",
        (case_id, case_id, case_id),
    )
    counts["sent_messages"] = await deliveries.archive(tx, [int(r["id"]) for r in finished])
    await tx.execute("UPDATE cases SET erased_at = ?, erase_reason = ? WHERE id = ?", (ts(now), reason, case_id))
    return counts


async def due_for_retention(tx: Tx, service_id: int, closed_before: datetime, limit: int) -> list[int]:
    """Closed or withdrawn cases of a service, closed before the cut-off and not yet erased (oldest first)."""
    rows = await tx.all(
        "SELECT id FROM cases WHERE service_id = ? AND status IN ('closed', 'withdrawn') AND erased_at IS NULL "
        "AND closed_at IS NOT NULL AND closed_at < ? ORDER BY closed_at, id LIMIT ?",
        (service_id, ts(closed_before), limit),
    )
    return [int(r["id"]) for r in rows]


async def remove_delivery_records(
    tx: Tx, service_id: int, before: datetime, unowned_before: datetime
) -> dict[str, int]:
    """Remove a service's delivery records queued before the cut-off: compact records, SMS bookkeeping and
    finished outbox rows. Records that belong to no service (an unknown sender's one line, an SMS without a
    case) go after `unowned_before`, the shortest period of any service."""
    mine = (
        "(case_id IN (SELECT id FROM cases WHERE service_id = ?) "
        "OR practitioner_id IN (SELECT id FROM practitioners WHERE service_id = ?))"
    )
    svc, text, epoch = service_id, ts(before), int(before.timestamp())
    counts = {
        "delivery_records": await tx.changes(
            f"DELETE FROM deliveries WHERE queued_at < ? AND {mine}", (epoch, svc, svc)
        ),
        "sms_records": await tx.changes(
            "DELETE FROM sms_deliveries WHERE sent_at < ? AND case_id IN (SELECT id FROM cases WHERE service_id = ?)",
            (text, svc),
        ),
        "finished_outbox": await tx.changes(
            f"DELETE FROM outbox WHERE status != 'pending' AND created_at < ? AND {mine}", (text, svc, svc)
        ),
    }
    nobody = "case_id IS NULL AND practitioner_id IS NULL"
    counts["delivery_records"] += await tx.changes(
        f"DELETE FROM deliveries WHERE queued_at < ? AND {nobody}", (int(unowned_before.timestamp()),)
    )
    counts["sms_records"] += await tx.changes(
        "DELETE FROM sms_deliveries WHERE sent_at < ? AND case_id IS NULL", (ts(unowned_before),)
    )
    counts["finished_outbox"] += await tx.changes(
        f"DELETE FROM outbox WHERE status != 'pending' AND created_at < ? AND {nobody}", (ts(unowned_before),)
    )
    return counts


# --- the purge report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purge:
    """One erasure or retention pass: what went, per kind, and the references of the cases erased."""

    id: int
    service_id: int
    at: datetime
    kind: str  # request | retention
    actor: str
    reason: str | None
    counts: dict[str, int]
    case_refs: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def record(
    tx: Tx,
    service_id: int,
    now: datetime,
    kind: str,
    actor: str,
    counts: Mapping[str, int],
    case_refs: list[str],
    reason: str | None = None,
) -> int:
    """Put a purge on record (counts of nothing are left out)."""
    if kind not in KINDS:
        raise ValueError(f"unknown purge kind {kind!r}")
    kept = {k: int(v) for k, v in sorted(counts.items()) if v}
    return await tx.execute(
        "INSERT INTO purges (service_id, at, kind, actor, reason, counts, case_refs) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (service_id, ts(now), kind, actor, reason, json.dumps(kept), json.dumps(sorted(case_refs))),
    )


def _purge(row: Row) -> Purge:
    return Purge(
        id=row["id"],
        service_id=row["service_id"],
        at=parse_ts(row["at"]),
        kind=row["kind"],
        actor=row["actor"],
        reason=row["reason"],
        counts={str(k): int(v) for k, v in json.loads(row["counts"]).items()},
        case_refs=tuple(str(r) for r in json.loads(row["case_refs"])),
    )


async def of_service(tx: Tx, service_id: int, limit: int = 500) -> list[Purge]:
    """A service's purges, newest first."""
    rows = await tx.all("SELECT * FROM purges WHERE service_id = ? ORDER BY id DESC LIMIT ?", (service_id, limit))
    return [_purge(r) for r in rows]


async def get(tx: Tx, service_id: int, purge_id: int) -> Purge | None:
    """One purge of this service (another service's does not exist for it)."""
    row = await tx.one("SELECT * FROM purges WHERE id = ? AND service_id = ?", (purge_id, service_id))
    return _purge(row) if row else None
