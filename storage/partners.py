"""Partner agencies, their agreements, a case's links to a partner's people, her consents, and shares.

A partner's people are practitioners with the role 'partner' (storage/practitioners.py holds their
names and channels); this module keeps what is particular to sharing. Shares are append-only records
except for the acknowledgement and the action the partner records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from safety.sharing import Agreement, Basis, Consent, Decision, Kind
from storage import practitioners
from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts, ts

PARTNER_REF = Field("case_partner_links", "partner_ref_enc")
JUSTIFICATION = Field("shares", "justification_enc")
ACTION_NOTE = Field("shares", "action_note_enc")


@dataclass(frozen=True)
class Partner:
    id: int
    service_id: int
    name: str
    kind: str
    agreement: Agreement
    ack_minutes: int
    active: bool = True  # False once the service ended the agreement: nothing more goes to them


@dataclass(frozen=True)
class Link:
    """A case linked to one of a partner's people, under the partner's own reference."""

    id: int
    case_id: int
    partner_id: int
    contact_id: int
    partner_ref: str | None


def _partner(row: Row) -> Partner:
    kinds = frozenset(Kind(k) for k in row["kinds"].split(",") if k)
    agreement = Agreement(row["agreement_ref"], Basis(row["lawful_basis"]), kinds, bool(row["personal_details"]))
    return Partner(
        row["id"], row["service_id"], row["name"], row["kind"], agreement, row["ack_minutes"], bool(row["active"])
    )


async def create(
    tx: Tx, service_id: int, name: str, kind: str, agreement: Agreement, now: datetime, ack_minutes: int = 30
) -> int:
    return await tx.execute(
        "INSERT INTO partners (service_id, name, kind, agreement_ref, lawful_basis, kinds, personal_details, "
        "ack_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            service_id,
            name,
            kind,
            agreement.reference,
            agreement.basis.value,
            ",".join(sorted(k.value for k in agreement.kinds)),
            int(agreement.personal_details),
            ack_minutes,
            ts(now),
        ),
    )


async def get(tx: Tx, partner_id: int) -> Partner | None:
    row = await tx.one("SELECT * FROM partners WHERE id = ?", (partner_id,))
    return _partner(row) if row else None


async def link(
    tx: Tx,
    crypto: Crypto,
    case_id: int,
    partner_id: int,
    contact_id: int,
    partner_ref: str | None,
    actor: str,
    now: datetime,
) -> int:
    """Link a case to one of a partner's people (the contact must be that partner's)."""
    owner = await tx.scalar("SELECT partner_id FROM practitioners WHERE id = ? AND role = 'partner'", (contact_id,))
    if owner != partner_id:
        raise ValueError(f"practitioner {contact_id} is not one of partner {partner_id}'s people")
    ended = await tx.scalar(
        "SELECT id FROM case_partner_links WHERE case_id = ? AND contact_id = ? AND unlinked_at IS NOT NULL",
        (case_id, contact_id),
    )
    if ended is not None:  # linked again after an unlink: the same row, under the reference given now
        link_id = int(ended)
        await tx.execute(
            "UPDATE case_partner_links SET unlinked_at = NULL, partner_ref_enc = NULL, linked_at = ?, linked_by = ? "
            "WHERE id = ?",
            (ts(now), actor, link_id),
        )
    else:
        link_id = await tx.execute(
            "INSERT INTO case_partner_links (case_id, partner_id, contact_id, linked_at, linked_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (case_id, partner_id, contact_id, ts(now), actor),
        )
    if partner_ref:
        blob = crypto.encrypt(partner_ref, PARTNER_REF.at(link_id))
        await tx.execute("UPDATE case_partner_links SET partner_ref_enc = ? WHERE id = ?", (blob, link_id))
    return link_id


async def unlink(tx: Tx, case_id: int, contact_id: int, now: datetime) -> int | None:
    """End the case's current link to this person (nothing more goes to them about it); the link's id, or
    None when there was none. The row stays, with its reference, so past shares still show under it."""
    link_id = await tx.scalar(
        "SELECT id FROM case_partner_links WHERE case_id = ? AND contact_id = ? AND unlinked_at IS NULL",
        (case_id, contact_id),
    )
    if link_id is None:
        return None
    await tx.execute("UPDATE case_partner_links SET unlinked_at = ? WHERE id = ?", (ts(now), link_id))
    return int(link_id)


async def links(tx: Tx, crypto: Crypto, case_id: int, *, ended_too: bool = False) -> list[Link]:
    """The case's current links (with `ended_too`, also those since unlinked), oldest first."""
    current = "" if ended_too else " AND unlinked_at IS NULL"
    rows = await tx.all(f"SELECT * FROM case_partner_links WHERE case_id = ?{current} ORDER BY id", (case_id,))
    return [
        Link(
            r["id"],
            r["case_id"],
            r["partner_id"],
            r["contact_id"],
            crypto.decrypt(r["partner_ref_enc"], PARTNER_REF.at(r["id"])) if r["partner_ref_enc"] else None,
        )
        for r in rows
    ]


async def record_consent(
    tx: Tx,
    case_id: int,
    partner_id: int,
    kind: Kind | str,
    agreed: bool,
    text_version: str,
    how: str,
    actor: str,
    now: datetime,
) -> int:
    """Append her answer for one partner and kind; the latest answer is the one that holds."""
    value = kind.value if isinstance(kind, Kind) else kind
    return await tx.execute(
        "INSERT INTO partner_consents (case_id, partner_id, kind, agreed, text_version, how, at, recorded_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, partner_id, value, int(agreed), text_version, how, ts(now), actor),
    )


async def consents(tx: Tx, case_id: int, partner_id: int) -> Mapping[Kind, Consent]:
    """Her latest answer per kind for this partner (kinds she never answered are absent)."""
    rows = await tx.all(
        "SELECT c.* FROM partner_consents c WHERE c.case_id = ? AND c.partner_id = ? AND c.id = "
        "(SELECT max(id) FROM partner_consents d WHERE d.case_id = c.case_id AND d.partner_id = c.partner_id "
        "AND d.kind = c.kind)",
        (case_id, partner_id),
    )
    return {
        Kind(r["kind"]): Consent(r["id"], bool(r["agreed"]), r["text_version"])
        for r in rows
        if r["kind"] in Kind._value2member_map_
    }


async def consented_to_details(tx: Tx, case_id: int, partner_id: int) -> bool:
    """Her latest answer on whether her name and number may go to this partner (no answer is no)."""
    agreed = await tx.scalar(
        "SELECT agreed FROM partner_consents WHERE case_id = ? AND partner_id = ? AND kind = 'personal_details' "
        "ORDER BY id DESC LIMIT 1",
        (case_id, partner_id),
    )
    return bool(agreed)


async def record_share(
    tx: Tx,
    *,
    service_id: int,
    case_id: int,
    partner_id: int,
    contact_id: int,
    kind: str,
    alert_id: int | None,
    decision: Decision,
    content: Mapping[str, object],
    now: datetime,
    crypto: Crypto | None = None,
    justification: str | None = None,
    requested_by: str | None = None,
) -> int:
    """Put a share on record: the basis and the consent or override it rests on, and what went. A share from
    the workspace also keeps who asked for it (an audit actor) and why (encrypted: it needs `crypto`).

    The agreement it went under is copied in as it stands now: a later change to the agreement must not
    change what past shares are reported to have rested on."""
    override = decision.override
    row = await tx.one("SELECT agreement_ref, lawful_basis FROM partners WHERE id = ?", (partner_id,))
    if row is not None:
        content = {**content, "agreement_ref": row["agreement_ref"], "agreement_basis": row["lawful_basis"]}
    share_id = await tx.execute(
        "INSERT INTO shares (service_id, case_id, partner_id, contact_id, kind, alert_id, basis, consent_id, "
        "content, approved_by, requested_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            service_id,
            case_id,
            partner_id,
            contact_id,
            kind,
            alert_id,
            decision.basis.value,
            decision.consent.consent_id if decision.consent else None,
            json.dumps(content, sort_keys=True),
            override.approved_by if override else None,
            requested_by,
            ts(now),
        ),
    )
    if justification:
        if crypto is None:
            raise ValueError("a justification is stored encrypted: pass crypto")
        blob = crypto.encrypt(justification, JUSTIFICATION.at(share_id))
        await tx.execute("UPDATE shares SET justification_enc = ? WHERE id = ?", (blob, share_id))
    return share_id


async def justification(tx: Tx, crypto: Crypto, share_id: int) -> str | None:
    """Why a share from the workspace was made, decrypted."""
    blob = await tx.scalar("SELECT justification_enc FROM shares WHERE id = ?", (share_id,))
    return crypto.decrypt(blob, JUSTIFICATION.at(share_id)) if blob else None


# --- for the workspace: a service's partners and their people, a case's consents and share status -------

PARTNER_KINDS = ("drive", "marac", "police", "childrens_social_care", "probation", "other")
CONSENT_KINDS = ("risk_changes", "urgent_alerts", "checkin_summaries", "personal_details")
CONSENT_HOW = ("in_person", "through_idva")


class NameTaken(ValueError):
    """The service already has a partner of that name."""


async def create_unique(
    tx: Tx, service_id: int, name: str, kind: str, agreement: Agreement, now: datetime, ack_minutes: int
) -> int:
    """create(), or NameTaken when the service already has a partner of that name (read in the same unit)."""
    if await tx.scalar("SELECT 1 FROM partners WHERE service_id = ? AND name = ?", (service_id, name)):
        raise NameTaken(name)
    return await create(tx, service_id, name, kind, agreement, now, ack_minutes)


async def of_service(tx: Tx, service_id: int) -> list[Partner]:
    """The service's active partners, by name."""
    rows = await tx.all("SELECT * FROM partners WHERE service_id = ? AND active = 1 ORDER BY name, id", (service_id,))
    return [_partner(r) for r in rows]


@dataclass(frozen=True)
class Person:
    """One of a partner's people: a practitioner row with the role 'partner'."""

    id: int
    partner_id: int
    name: str
    duty: bool
    channels: tuple[str, ...]  # channel names only, in order


async def people_of_service(tx: Tx, crypto: Crypto, service_id: int) -> list[Person]:
    """The active people of the service's partners, by partner then id."""
    rows = await tx.all(
        "SELECT p.id, p.partner_id, p.partner_duty FROM practitioners p JOIN partners a ON a.id = p.partner_id "
        "WHERE a.service_id = ? AND p.role = 'partner' AND p.active = 1 ORDER BY p.partner_id, p.id",
        (service_id,),
    )
    out = []
    for r in rows:
        found = await practitioners.get(tx, crypto, r["id"])
        name = found.name if found else f"#{r['id']}"
        out.append(
            Person(
                r["id"],
                r["partner_id"],
                name,
                bool(r["partner_duty"]),
                tuple(await practitioners.channel_names(tx, r["id"])),
            )
        )
    return out


@dataclass(frozen=True)
class ConsentShown:
    """Her latest answer for one partner and kind, as the case page shows it."""

    id: int
    partner_id: int
    kind: str
    agreed: bool
    text_version: str
    how: str
    at: datetime
    recorded_by: str


async def latest_consents(tx: Tx, case_id: int) -> list[ConsentShown]:
    """Her latest answer per partner and kind (personal details too), by partner and kind."""
    rows = await tx.all(
        "SELECT c.* FROM partner_consents c WHERE c.case_id = ? AND c.id = "
        "(SELECT max(id) FROM partner_consents d WHERE d.case_id = c.case_id AND d.partner_id = c.partner_id "
        "AND d.kind = c.kind) ORDER BY c.partner_id, c.kind",
        (case_id,),
    )
    return [
        ConsentShown(
            r["id"],
            r["partner_id"],
            r["kind"],
            bool(r["agreed"]),
            r["text_version"],
            r["how"],
            parse_ts(r["at"]),
            r["recorded_by"],
        )
        for r in rows
    ]


async def linked(tx: Tx, case_id: int, contact_id: int) -> bool:
    """The case is (still) linked to this person."""
    return bool(
        await tx.scalar(
            "SELECT 1 FROM case_partner_links WHERE case_id = ? AND contact_id = ? AND unlinked_at IS NULL",
            (case_id, contact_id),
        )
    )


# --- Acknowledgement, escalation and what the partner did (bot/share_followup.py decides who may) ---

ACTION_CODES = (
    "perpetrator_visited",
    "bail_condition_enforced",
    "marac_action_raised",
    "safeguarding_referral",
    "no_action_needed",
    "other",
)


@dataclass(frozen=True)
class ShareStatus:
    """One share as it stands: to whom and on which basis it went, acknowledged or not, and what was done."""

    id: int
    service_id: int
    case_id: int
    partner_id: int
    contact_id: int
    alert_id: int | None
    kind: str
    basis: str
    content: Mapping[str, object]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    action: str | None
    action_at: datetime | None
    requested_by: str | None = None  # an audit actor, for a share made from the workspace
    approved_by: int | None = None  # the second manager, for a share without her consent (flagged)

    @property
    def flagged(self) -> bool:
        """It went without her consent: reports flag it."""
        return self.basis != "consent"


async def share_status(tx: Tx, share_id: int) -> ShareStatus | None:
    r = await tx.one("SELECT * FROM shares WHERE id = ?", (share_id,))
    return _share_status(r) if r else None


def _share_status(r: Row) -> ShareStatus:
    return ShareStatus(
        id=r["id"],
        service_id=r["service_id"],
        case_id=r["case_id"],
        partner_id=r["partner_id"],
        contact_id=r["contact_id"],
        alert_id=r["alert_id"],
        kind=r["kind"],
        basis=r["basis"],
        content=json.loads(r["content"]),
        created_at=parse_ts(r["created_at"]),
        acknowledged_at=parse_ts(r["acknowledged_at"]) if r["acknowledged_at"] else None,
        acknowledged_by=r["acknowledged_by"],
        action=r["action"],
        action_at=parse_ts(r["action_at"]) if r["action_at"] else None,
        requested_by=r["requested_by"],
        approved_by=r["approved_by"],
    )


async def duty_contacts(tx: Tx, partner_id: int) -> list[int]:
    """The partner's active duty contacts: an unacknowledged share escalates to them first."""
    rows = await tx.all(
        "SELECT id FROM practitioners WHERE partner_id = ? AND partner_duty = 1 AND active = 1 ORDER BY id",
        (partner_id,),
    )
    return [r["id"] for r in rows]


async def partner_of(tx: Tx, practitioner_id: int) -> int | None:
    """The partner an active partner's person works for; None for staff or an inactive person."""
    value = await tx.scalar(
        "SELECT partner_id FROM practitioners WHERE id = ? AND active = 1 AND role = 'partner'", (practitioner_id,)
    )
    return None if value is None else int(value)


async def acknowledge_share(tx: Tx, share_id: int, practitioner_id: int, now: datetime) -> bool:
    """Record the first acknowledgement; False if the share was acknowledged already."""
    return (
        await tx.changes(
            "UPDATE shares SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL",
            (ts(now), practitioner_id, share_id),
        )
        == 1
    )


async def record_action(
    tx: Tx, crypto: Crypto, share_id: int, action_code: str, note: str | None, now: datetime
) -> None:
    """What the partner did about the share: a code from ACTION_CODES and an optional note (encrypted).

    A later record replaces an earlier one (a partner may correct it); the audit keeps each.
    """
    if action_code not in ACTION_CODES:
        raise ValueError(f"unknown action {action_code!r}: one of {', '.join(ACTION_CODES)}")
    blob = crypto.encrypt(note, ACTION_NOTE.at(share_id)) if note and note.strip() else None
    changed = await tx.changes(
        "UPDATE shares SET action = ?, action_note_enc = ?, action_at = ? WHERE id = ?",
        (action_code, blob, ts(now), share_id),
    )
    if changed != 1:
        raise ValueError(f"no share {share_id}")


async def action_note(tx: Tx, crypto: Crypto, share_id: int) -> str | None:
    blob = await tx.scalar("SELECT action_note_enc FROM shares WHERE id = ?", (share_id,))
    return crypto.decrypt(blob, ACTION_NOTE.at(share_id)) if blob else None


async def share_statuses(tx: Tx, case_id: int) -> list[ShareStatus]:
    """Every share of the case, newest first."""
    rows = await tx.all("SELECT * FROM shares WHERE case_id = ? ORDER BY id DESC", (case_id,))
    return [_share_status(r) for r in rows]


async def shares_to_partner(tx: Tx, partner_id: int, limit: int = 500) -> list[ShareStatus]:
    """The shares sent to one partner, newest first (who of its people may see each is bot/share_followup's)."""
    rows = await tx.all("SELECT * FROM shares WHERE partner_id = ? ORDER BY id DESC LIMIT ?", (partner_id, limit))
    return [_share_status(r) for r in rows]


async def partner_ref_of(tx: Tx, crypto: Crypto, case_id: int, partner_id: int, contact_id: int) -> str | None:
    """The partner's own reference for a shared case: the link to this person, else any link to the partner."""
    found = [k for k in await links(tx, crypto, case_id, ended_too=True) if k.partner_id == partner_id]
    mine = [k for k in found if k.contact_id == contact_id]
    return next((k.partner_ref for k in mine + found if k.partner_ref), None)


# --- changing an agreement and a duty contact (Manage → Partners) ---------------------------------------


async def end_agreement(tx: Tx, service_id: int, partner_id: int) -> bool:
    """The service ends its agreement with a partner: nothing more is shared with them, automatically or
    from the workspace. What was shared stays on record. False when the service has no such active partner."""
    return (
        await tx.changes(
            "UPDATE partners SET active = 0 WHERE id = ? AND service_id = ? AND active = 1", (partner_id, service_id)
        )
        > 0
    )


async def update_agreement(tx: Tx, service_id: int, partner_id: int, agreement: Agreement, ack_minutes: int) -> bool:
    """Change a partner's agreement (reference, basis, kinds, personal details) and its minutes before escalation.

    False when the service has no such active partner. Shares already made keep what they went under: a
    share's record holds its own basis, consent and the agreement's reference and basis as they were."""
    return (
        await tx.changes(
            "UPDATE partners SET agreement_ref = ?, lawful_basis = ?, kinds = ?, personal_details = ?, "
            "ack_minutes = ? WHERE id = ? AND service_id = ? AND active = 1",
            (
                agreement.reference,
                agreement.basis.value,
                ",".join(sorted(k.value for k in agreement.kinds)),
                int(agreement.personal_details),
                ack_minutes,
                partner_id,
                service_id,
            ),
        )
        == 1
    )


async def set_duty(tx: Tx, service_id: int, practitioner_id: int, duty: bool) -> int | None:
    """Mark or unmark one of the service's partner people as their partner's duty contact; their partner's id,
    or None when the service has no such active person."""
    partner_id = await tx.scalar(
        "SELECT p.partner_id FROM practitioners p JOIN partners a ON a.id = p.partner_id "
        "WHERE p.id = ? AND p.role = 'partner' AND p.active = 1 AND a.service_id = ?",
        (practitioner_id, service_id),
    )
    if partner_id is None:
        return None
    await tx.execute("UPDATE practitioners SET partner_duty = ? WHERE id = ?", (int(duty), practitioner_id))
    return int(partner_id)
