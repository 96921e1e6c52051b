"""Shares without her consent that wait for a second manager (migration 0022, docs/sharing.md).

A request fixes what would go (content JSON: codes only) and why (encrypted). It sends nothing. A
manager who is not the requester approves it (the share is then recorded in `shares` and share_id set)
or refuses it with a reason. Deciding is one guarded UPDATE: a request is decided once, never twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts, ts

REASON = Field("share_requests", "reason_enc")
REFUSAL = Field("share_requests", "refusal_enc")


@dataclass(frozen=True)
class Request:
    id: int
    service_id: int
    case_id: int
    case_ref: str
    partner_id: int
    contact_id: int
    kind: str
    basis: str
    alert_id: int | None
    content: Mapping[str, object]
    reason: str
    requested_by: int
    requested_at: datetime
    status: str
    decided_by: int | None
    decided_at: datetime | None
    share_id: int | None


async def create(
    tx: Tx,
    crypto: Crypto,
    *,
    service_id: int,
    case_id: int,
    partner_id: int,
    contact_id: int,
    kind: str,
    basis: str,
    alert_id: int | None,
    content: Mapping[str, object],
    reason: str,
    requested_by: int,
    now: datetime,
) -> int:
    request_id = await tx.execute(
        "INSERT INTO share_requests (service_id, case_id, partner_id, contact_id, kind, basis, alert_id, content, "
        "requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (service_id, case_id, partner_id, contact_id, kind, basis, alert_id, json.dumps(content, sort_keys=True),
         requested_by, ts(now)),
    )
    blob = crypto.encrypt(reason, REASON.at(request_id))
    await tx.execute("UPDATE share_requests SET reason_enc = ? WHERE id = ?", (blob, request_id))
    return request_id


def _request(crypto: Crypto, r: Row) -> Request:
    return Request(
        id=r["id"],
        service_id=r["service_id"],
        case_id=r["case_id"],
        case_ref=r["case_ref"],
        partner_id=r["partner_id"],
        contact_id=r["contact_id"],
        kind=r["kind"],
        basis=r["basis"],
        alert_id=r["alert_id"],
        content=json.loads(r["content"]),
        reason=crypto.decrypt(r["reason_enc"], REASON.at(r["id"])) if r["reason_enc"] else "",
        requested_by=r["requested_by"],
        requested_at=parse_ts(r["requested_at"]),
        status=r["status"],
        decided_by=r["decided_by"],
        decided_at=parse_ts(r["decided_at"]) if r["decided_at"] else None,
        share_id=r["share_id"],
    )


_SELECT = "SELECT q.*, c.ref AS case_ref FROM share_requests q JOIN cases c ON c.id = q.case_id"


async def get(tx: Tx, crypto: Crypto, request_id: int) -> Request | None:
    r = await tx.one(f"{_SELECT} WHERE q.id = ?", (request_id,))
    return _request(crypto, r) if r else None


async def pending_of_service(tx: Tx, crypto: Crypto, service_id: int) -> list[Request]:
    """The service's requests still waiting for a manager, oldest first."""
    rows = await tx.all(f"{_SELECT} WHERE q.service_id = ? AND q.status = 'pending' ORDER BY q.id", (service_id,))
    return [_request(crypto, r) for r in rows]


async def of_case(tx: Tx, crypto: Crypto, case_id: int) -> list[Request]:
    """Every request of the case, newest first."""
    rows = await tx.all(f"{_SELECT} WHERE q.case_id = ? ORDER BY q.id DESC", (case_id,))
    return [_request(crypto, r) for r in rows]


async def approve(tx: Tx, request_id: int, manager_id: int, share_id: int, now: datetime) -> bool:
    """Mark it approved with the share that went; False if it was no longer pending (decided already)."""
    changed = await tx.changes(
        "UPDATE share_requests SET status = 'approved', decided_by = ?, decided_at = ?, share_id = ? "
        "WHERE id = ? AND status = 'pending' AND requested_by != ?",
        (manager_id, ts(now), share_id, request_id, manager_id),
    )
    return changed == 1


async def refuse(tx: Tx, crypto: Crypto, request_id: int, manager_id: int, why: str, now: datetime) -> bool:
    """Mark it refused with the manager's reason (encrypted); False if it was no longer pending."""
    blob = crypto.encrypt(why, REFUSAL.at(request_id))
    changed = await tx.changes(
        "UPDATE share_requests SET status = 'refused', decided_by = ?, decided_at = ?, refusal_enc = ? "
        "WHERE id = ? AND status = 'pending' AND requested_by != ?",
        (manager_id, ts(now), blob, request_id, manager_id),
    )
    return changed == 1


async def refusal(tx: Tx, crypto: Crypto, request_id: int) -> str | None:
    blob = await tx.scalar("SELECT refusal_enc FROM share_requests WHERE id = ?", (request_id,))
    return crypto.decrypt(blob, REFUSAL.at(request_id)) if blob else None
