"""Every share of a service on record, for the manager's report (bot/web/share_report.py).

One row per share with what went, to whom, when, on which basis and consent text, the agreement's lawful
basis, the acknowledgement and the action. Names of people are decrypted here; the partner's own
reference for the case is not read at all: the report identifies a case by our reference.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from storage import practitioners
from storage.crypto import Crypto
from storage.db import Row, Tx, parse_ts, ts
from storage.partners import JUSTIFICATION


@dataclass(frozen=True)
class ShareRecord:
    id: int
    case_ref: str
    partner_id: int
    partner_name: str
    contact_name: str
    kind: str
    level: str | None
    reason: str  # the alert's words (a reason code, or the summary's phrase); never her words
    facts: tuple[str, ...]
    created_at: datetime
    raised_at: datetime  # the risk change: the alert's time, else the share's own
    alert_id: int | None
    basis: str
    agreement_basis: str
    agreement_ref: str
    consent_version: str | None
    justification: str | None
    requested_by: str | None
    approved_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    action: str | None
    action_at: datetime | None

    @property
    def without_consent(self) -> bool:
        return self.basis != "consent"


QUERY = """
SELECT s.*, c.ref AS case_ref, p.name AS partner_name, p.lawful_basis AS agreement_basis,
       p.agreement_ref AS agreement_ref, pc.text_version AS consent_version, a.created_at AS alert_at
FROM shares s
JOIN cases c ON c.id = s.case_id
JOIN partners p ON p.id = s.partner_id
LEFT JOIN partner_consents pc ON pc.id = s.consent_id
LEFT JOIN alerts a ON a.id = s.alert_id
WHERE s.service_id = ? AND p.service_id = s.service_id
"""


async def of_service(
    tx: Tx,
    crypto: Crypto,
    service_id: int,
    *,
    partner_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ShareRecord]:
    """The service's shares made in [since, until) (either open), to one partner or all; oldest first."""
    sql = QUERY
    params: list[object] = [service_id]
    if partner_id is not None:
        sql += " AND s.partner_id = ?"
        params.append(partner_id)
    if since is not None:
        sql += " AND s.created_at >= ?"
        params.append(ts(since))
    if until is not None:
        sql += " AND s.created_at < ?"
        params.append(ts(until))
    rows = await tx.all(sql + " ORDER BY s.created_at, s.id", tuple(params))
    names: dict[int, str] = {}

    async def name(pid: int | None) -> str | None:
        if pid is None:
            return None
        if pid not in names:
            found = await practitioners.get(tx, crypto, pid)
            names[pid] = found.name if found else f"#{pid}"
        return names[pid]

    return [await _record(r, crypto, name) for r in rows]


Namer = Callable[[int | None], Awaitable[str | None]]  # a practitioner's id -> their name


async def _record(r: Row, crypto: Crypto, named: Namer) -> ShareRecord:
    content = json.loads(r["content"])
    justification = (
        crypto.decrypt(r["justification_enc"], JUSTIFICATION.at(r["id"])) if r["justification_enc"] else None
    )
    created = parse_ts(r["created_at"])
    return ShareRecord(
        id=r["id"],
        case_ref=r["case_ref"],
        partner_id=r["partner_id"],
        partner_name=r["partner_name"],
        contact_name=await named(r["contact_id"]) or "",
        kind=r["kind"],
        level=content.get("level"),
        reason=str(content.get("reason", "")),
        facts=tuple(content.get("facts") or ()),
        created_at=created,
        raised_at=parse_ts(r["alert_at"]) if r["alert_at"] else created,
        alert_id=r["alert_id"],
        basis=r["basis"],
        agreement_basis=str(content.get("agreement_basis", r["agreement_basis"])),  # as when it went
        agreement_ref=str(content.get("agreement_ref", r["agreement_ref"])),
        consent_version=r["consent_version"],
        justification=justification,
        requested_by=r["requested_by"],
        approved_by=await named(r["approved_by"]),
        acknowledged_at=parse_ts(r["acknowledged_at"]) if r["acknowledged_at"] else None,
        acknowledged_by=await named(r["acknowledged_by"]),
        action=r["action"],
        action_at=parse_ts(r["action_at"]) if r["action_at"] else None,
    )
