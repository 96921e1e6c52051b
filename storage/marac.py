"""A case's Marac referral draft: the IDVA's own fields (encrypted), and the dates the referral reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.crypto import Crypto, Field
from storage.db import Tx, parse_ts, ts

REASON = Field("marac_referrals", "reason_enc", ("case_id",))
VIEWS = Field("marac_referrals", "views_enc", ("case_id",))
MAX_TEXT = 4000


@dataclass(frozen=True)
class IdvaFields:
    """What only the IDVA can add to the referral; both optional."""

    reason: str | None = None
    views: str | None = None
    updated_at: datetime | None = None


async def idva_fields(tx: Tx, crypto: Crypto, case_id: int) -> IdvaFields:
    row = await tx.one("SELECT * FROM marac_referrals WHERE case_id = ?", (case_id,))
    if row is None:
        return IdvaFields()
    return IdvaFields(
        crypto.decrypt_optional(row["reason_enc"], REASON.at(case_id)),
        crypto.decrypt_optional(row["views_enc"], VIEWS.at(case_id)),
        parse_ts(row["updated_at"]),
    )


async def save_idva_fields(
    tx: Tx, crypto: Crypto, case_id: int, reason: str | None, views: str | None, by: int, now: datetime
) -> None:
    """Replace the draft's IDVA fields (an empty one is stored as none)."""
    await tx.execute(
        "INSERT INTO marac_referrals (case_id, reason_enc, views_enc, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (case_id) DO UPDATE SET reason_enc = excluded.reason_enc, views_enc = excluded.views_enc, "
        "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        (
            case_id,
            crypto.encrypt_optional(reason or None, REASON.at(case_id)),
            crypto.encrypt_optional(views or None, VIEWS.at(case_id)),
            ts(now),
            by,
        ),
    )


@dataclass(frozen=True)
class CaseDates:
    intake: datetime
    last_checkin: datetime | None


async def case_dates(tx: Tx, case_id: int) -> CaseDates:
    """When the case was opened, and when she last answered a check-in (completed or partly)."""
    row = await tx.one(
        "SELECT created_at, (SELECT MAX(COALESCE(ended_at, started_at)) FROM checkins "
        "WHERE case_id = cases.id AND status IN ('completed', 'partial')) AS last_checkin FROM cases WHERE id = ?",
        (case_id,),
    )
    assert row is not None, "the caller has the case"
    return CaseDates(parse_ts(row["created_at"]), parse_ts(row["last_checkin"]) if row["last_checkin"] else None)
