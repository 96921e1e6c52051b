"""A subject access export: everything Safecheck holds about one survivor's case, decrypted, as JSON-ready data.

Parts: the case record (name, number, channel, language, time zone, safe times, status, dates, check-in mode,
Telegram auto-delete), her consents, her schedule, every check-in with its questions, answers and her own
words and its assessment, the alerts with their ladder (who was told, at which rung) and how each ended,
the messages sent to her (the content while the outbox still holds it, else the delivery record) with the
SMS delivery reports, the messages she sent, case notes, partner links, her partner consents, shares and
share requests, DASH assessments, Marac meetings and the referral draft, the reasons staff recorded for
opening her case, and the audit entries about her case. Times are ISO 8601 in the service's time zone.

Text written by staff or partners may hold other people's information (a neighbour, a child, the
perpetrator): each such text is a `Reviewable` the manager sees before release, and one they withhold is
replaced by a marker naming the reason, never its text. Her own words are hers and are not reviewed.

Deliberately not included (`NOT_INCLUDED` names every table so a new one cannot slip past unconsidered):
- the hashes of her exit word, codeword and PINs, her activation code's and her address's lookup hashes:
  keyed hashes are not readable information about her, and a copy of them outside the database would let
  anyone who later got the keys test guesses at her codeword offline. When she set them is included.
- the conversation's internal position, timers, Telegram message ids and alert buttons' token hashes:
  the machinery's bookkeeping, holding nothing about her that the parts above do not already show.
- the practitioner inbox, and alert messages to staff: they carry her case reference and the alert's
  reason only, both already in her alerts and their ladder.
- staff accounts, sessions and channels: about staff, not about her (staff are named where they acted).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage import accounts, alert_work, cases, checkins, dash, inbound, marac, notes, partners, share_requests
from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts
from storage.practitioners import NAME as PRACTITIONER_NAME

FORMAT = "safecheck-subject-access-1"

# Why a manager withholds a text: a closed list, so the audit and the export name the reason by code.
WITHHOLD_REASONS: Mapping[str, str] = {
    "third_party": "withheld: may identify another person",
    "serious_harm": "withheld: likely to cause serious harm to her or someone else",
    "crime": "withheld: would prejudice the prevention or detection of crime",
    "legal_privilege": "withheld: legally privileged",
}

# Tables holding something about a case (a case_id or an alert_id column), and where each goes.
INCLUDED = frozenset({
    "cases", "consents", "schedules", "telegram_prefs", "checkins", "answers", "assessments", "alerts",
    "alert_notifications", "outbox", "deliveries", "sms_deliveries", "inbound_messages", "case_notes",
    "case_partner_links", "partner_consents", "shares", "share_requests", "dash_assessments", "marac_meetings",
    "marac_referrals", "access_reasons", "audit_log", "case_outcomes",
})
NOT_INCLUDED: Mapping[str, str] = {
    "conversations": "the flow's internal position",
    "timers": "scheduling bookkeeping; her schedule is included",
    "telegram_messages": "Telegram message ids, kept only to delete them",
    "alert_buttons": "token hashes of alert buttons",
    "inbox": "alert texts to staff: case reference and reason, already in her alerts",
}

Render = Callable[[dict[str, Any], str, str], str | None]


@dataclass(frozen=True)
class Reviewable:
    """A text written by staff or a partner that may identify someone else: reviewed before release."""

    id: str  # e.g. "case_note:12": stable, with no personal data, so the audit can name it
    part: str  # what it is, for the review page
    at: str | None
    by: str | None
    text: str


@dataclass
class _Builder:
    crypto: Crypto
    zone: ZoneInfo
    names: dict[int, str]
    withheld: Mapping[str, str]
    reviewed: list[Reviewable] = field(default_factory=list)

    def when(self, value: str | int | None) -> str | None:
        if value is None:
            return None
        try:
            at = datetime.fromtimestamp(value, UTC) if isinstance(value, int) else parse_ts(value)
        except ValueError:  # not one of storage's stamps: shown as stored rather than lost
            return str(value)
        return at.astimezone(self.zone).isoformat()

    def who(self, value: int | str | None) -> str | None:
        """A practitioner id or an audit actor, as a name where it is one of the service's people."""
        if isinstance(value, str) and value.startswith("practitioner:") and value[13:].isdigit():
            value = int(value[13:])
        if isinstance(value, int):
            return self.names.get(value, f"practitioner {value}")
        return value

    def review(self, item: str, part: str, blob: bytes | None, column: Field, row: int, at: str | None,
               by: str | None) -> str | None:
        """The decrypted text, listed for review; its withholding marker instead if the manager withheld it."""
        if blob is None:
            return None
        text = self.crypto.decrypt(blob, column.at(row))
        self.reviewed.append(Reviewable(item, part, at, by, text))
        reason = self.withheld.get(item)
        return text if reason is None else f"[{WITHHOLD_REASONS.get(reason, WITHHOLD_REASONS['third_party'])}]"


@dataclass(frozen=True)
class Export:
    data: dict[str, Any]
    reviewed: tuple[Reviewable, ...]


async def gather(
    tx: Tx, crypto: Crypto, case_id: int, now: datetime, *, withheld: Mapping[str, str] | None = None,
    render: Render | None = None,
) -> Export:
    """Everything held about the case; `withheld` maps reviewable ids to a reason code; `render` turns a
    stored message into the text she received (None where it cannot)."""
    case = await cases.get(tx, case_id)
    svc = await tx.one("SELECT name, timezone FROM services WHERE id = ?", (case.service_id,))
    assert svc is not None
    people = await tx.all("SELECT id, name_enc FROM practitioners WHERE service_id = ?", (case.service_id,))
    names = {p["id"]: crypto.decrypt(p["name_enc"], PRACTITIONER_NAME.at(p["id"])) for p in people}
    b = _Builder(crypto, ZoneInfo(svc["timezone"]), names, withheld or {})
    agencies = {r["id"]: r["name"] for r in await tx.all("SELECT id, name FROM partners WHERE service_id = ?",
                                                          (case.service_id,))}
    data: dict[str, Any] = {
        "format": FORMAT,
        "service": svc["name"],
        "time_zone": svc["timezone"],
        "prepared_at": now.astimezone(b.zone).isoformat(),
        "case": await _case(tx, b, case),
        "consents": [dict(r) | {"at": b.when(r["at"]), "agreed": bool(r["agreed"])}
                     for r in await tx.all("SELECT topic, agreed, text_version, how, at FROM consents "
                                           "WHERE case_id = ? ORDER BY id", (case_id,))],
        "schedule": await _schedule(tx, b, case_id),
        "outcome_at_closure": await _outcome(tx, b, case_id),
        "checkins": await _checkins(tx, b, case_id),
        "alerts": await _alerts(tx, b, case_id),
        "messages_to_her": await _sent(tx, b, case_id, render),
        "messages_from_her": [
            {"received_at": b.when(r["received_at"]), "channel": r["channel"], "failed": bool(r["failed"]),
             "text": crypto.decrypt_optional(r["body_enc"], inbound.BODY.at(r["id"]))}
            for r in await tx.all("SELECT * FROM inbound_messages WHERE case_id = ? ORDER BY id", (case_id,))
        ],
        "case_notes": [
            {"at": b.when(r["at"]), "by": b.who(r["author_id"]),
             "text": b.review(f"case_note:{r['id']}", "Case note", r["body_enc"], notes.BODY, r["id"],
                              b.when(r["at"]), b.who(r["author_id"]))}
            for r in await tx.all("SELECT * FROM case_notes WHERE case_id = ? ORDER BY id", (case_id,))
        ],
        **await _partners(tx, b, case_id, agencies),
        **await _dash_marac(tx, b, case_id),
        "access_reasons": [
            {"at": b.when(r["at"]), "by": b.who(r["practitioner_id"]),
             "reason": b.review(f"access_reason:{r['id']}", "Reason given for opening her case", r["reason_enc"],
                                accounts.ACCESS_REASON, r["id"], b.when(r["at"]), b.who(r["practitioner_id"]))}
            for r in await tx.all("SELECT a.*, s.practitioner_id FROM access_reasons a JOIN sessions s "
                                  "ON s.id = a.session_id WHERE a.case_id = ? ORDER BY a.id", (case_id,))
        ],
        "audit": [
            {"at": b.when(r["at"]), "by": b.who(r["actor"]), "action": r["action"], "detail": r["detail"]}
            for r in await tx.all("SELECT * FROM audit_log WHERE case_id = ? ORDER BY id", (case_id,))
        ],
    }
    data["withheld"] = [{"item": r.id, "reason": b.withheld[r.id]} for r in b.reviewed if r.id in b.withheld]
    return Export(data, tuple(b.reviewed))


async def _case(tx: Tx, b: _Builder, case: cases.Case) -> dict[str, Any]:
    row = await tx.one("SELECT * FROM cases WHERE id = ?", (case.id,))
    prefs = await tx.one("SELECT autodelete_minutes FROM telegram_prefs WHERE case_id = ?", (case.id,))
    assert row is not None

    def at(value: datetime | None) -> str | None:
        return value.astimezone(b.zone).isoformat() if value else None

    return {
        "reference": case.ref,
        "name": cases.name_of(b.crypto, case),
        "number": cases.address_of(b.crypto, case),
        "channel": case.channel,
        "language": case.language,
        "time_zone": case.timezone,
        "safe_times": [str(w) for w in case.safe_windows],
        "status": case.status,
        "idva": b.who(case.idva_id),
        "intake_level": case.intake_level.value,
        "no_contact_order": case.no_contact_order,
        "checkin_mode": case.checkin_mode,
        "cover_theme": case.cover_theme,
        "secrets_on_channel": case.secrets_on_channel,
        "secrets_set_in_person_at": at(case.secrets_set_in_person_at),
        "exit_pause_minutes": case.exit_pause_minutes,
        "missed_checkin_alerts_agreed": case.missed_alerts_agreed,
        "telegram_autodelete_minutes": prefs["autodelete_minutes"] if prefs else None,
        "created_at": b.when(row["created_at"]),
        "onboarded_at": at(case.onboarded_at),
        "paused_until": at(case.paused_until),
        "closed_at": b.when(row["closed_at"]),
        # Erasure on request: when her personal data went, and why (a code).
        "erased_at": b.when(row["erased_at"]),
        "erase_reason": row["erase_reason"],
    }


async def _outcome(tx: Tx, b: _Builder, case_id: int) -> dict[str, Any] | None:
    """The outcome recorded at closure (codes only)."""
    row = await tx.one("SELECT * FROM case_outcomes WHERE case_id = ?", (case_id,))
    if row is None:
        return None
    found = {k: v for k, v in dict(row).items() if k != "case_id"}
    return found | {"recorded_at": b.when(row["recorded_at"]), "recorded_by": b.who(row["recorded_by"])}


async def _schedule(tx: Tx, b: _Builder, case_id: int) -> dict[str, Any] | None:
    row = await tx.one("SELECT spec, jitter_minutes, anchor, updated_at FROM schedules WHERE case_id = ?", (case_id,))
    return None if row is None else dict(row) | {"updated_at": b.when(row["updated_at"])}


async def _checkins(tx: Tx, b: _Builder, case_id: int) -> list[dict[str, Any]]:
    answers: dict[int, list[dict[str, Any]]] = {}
    for a in await tx.all("SELECT * FROM answers WHERE case_id = ? ORDER BY id", (case_id,)):
        answers.setdefault(a["checkin_id"], []).append({
            "question": a["question"], "options": json.loads(a["options"]), "signals": json.loads(a["signals"]),
            "her_words": b.crypto.decrypt_optional(a["text_enc"], checkins.ANSWER_TEXT.at(a["id"])),
            "unanswered": bool(a["unanswered"]), "at": b.when(a["at"]),
        })
    assessed: dict[int | None, list[dict[str, Any]]] = {}
    for s in await tx.all("SELECT * FROM assessments WHERE case_id = ? ORDER BY id", (case_id,)):
        assessed.setdefault(s["checkin_id"], []).append({
            "at": b.when(s["at"]), "score": s["score"], "level": s["level"], "fear": s["fear"],
            "signals": json.loads(s["signals"]), "change": s["change"], "baseline": s["baseline"],
            "complete": bool(s["complete"]),
        })
    found = [
        {"slot": c["slot"], "due_at": b.when(c["due_at"]), "started_at": b.when(c["started_at"]),
         "ended_at": b.when(c["ended_at"]), "status": c["status"], "answers": answers.get(c["id"], []),
         "assessments": assessed.get(c["id"], [])}
        for c in await tx.all("SELECT * FROM checkins WHERE case_id = ? ORDER BY id", (case_id,))
    ]
    if None in assessed:  # assessments made outside a check-in (e.g. two missed in a row)
        found.append({"slot": None, "status": "outside_checkin", "answers": [], "assessments": assessed[None]})
    return found


async def _alerts(tx: Tx, b: _Builder, case_id: int) -> list[dict[str, Any]]:
    ladder: dict[int, list[dict[str, Any]]] = {}
    for n in await tx.all("SELECT n.* FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id "
                          "WHERE a.case_id = ? ORDER BY n.id", (case_id,)):
        ladder.setdefault(n["alert_id"], []).append(
            {"rung": n["step"], "role": n["role"], "told": b.who(n["practitioner_id"]), "at": b.when(n["at"])})
    return [
        {"id": r["id"], "severity": r["severity"], "reason": r["reason"], "signals": r["signals"],
         "created_at": b.when(r["created_at"]), "acknowledged_at": b.when(r["acknowledged_at"]),
         "acknowledged_by": b.who(r["acknowledged_by"]), "resolved_at": b.when(r["resolved_at"]),
         "resolved_by": b.who(r["resolved_by"]), "outcome": r["outcome"], "action": r["outcome_action"],
         "note": b.review(f"alert_note:{r['id']}", f"Note on alert {r['id']}", r["note_enc"], alert_work.NOTE,
                          r["id"], b.when(r["resolved_at"]), b.who(r["resolved_by"])),
         "ladder": ladder.get(r["id"], [])}
        for r in await tx.all("SELECT * FROM alerts WHERE case_id = ? ORDER BY id", (case_id,))
    ]


async def _sent(tx: Tx, b: _Builder, case_id: int, render: Render | None) -> list[dict[str, Any]]:
    reports: dict[int | None, list[dict[str, Any]]] = {}
    for d in await tx.all("SELECT * FROM sms_deliveries WHERE case_id = ? AND recipient = 'survivor' ORDER BY "
                          "sent_at", (case_id,)):
        reports.setdefault(d["outbox_id"], []).append(
            {"status": d["status"], "segments": d["segments"], "error_code": d["error_code"],
             "updated_at": b.when(d["updated_at"])})
    held = [
        {"id": r["id"], "channel": r["channel"], "status": r["status"], "queued_at": b.when(r["created_at"]),
         "sent_at": b.when(r["sent_at"]), "content_held": True, "message": json.loads(r["message"]),
         "text": render(json.loads(r["message"]), r["language"], r["timezone"]) if render else None,
         "sms_reports": reports.pop(r["id"], [])}
        for r in await tx.all("SELECT * FROM outbox WHERE case_id = ? AND recipient = 'survivor' ORDER BY id",
                              (case_id,))
    ]
    records = [
        {"id": r["id"], "channel": r["channel"], "status": r["status"], "queued_at": b.when(r["queued_at"]),
         "sent_at": b.when(r["sent_at"]), "delivered_at": b.when(r["delivered_at"]),
         "failed_at": b.when(r["failed_at"]), "content_held": False}
        for r in await tx.all("SELECT * FROM deliveries WHERE case_id = ? AND recipient = 'survivor' ORDER BY id",
                              (case_id,))
    ]
    found = sorted(held + records, key=lambda m: int(m["id"]))
    if any(reports.values()):  # reports whose message has only its compact record left
        found.append({"id": None, "content_held": False, "sms_reports": [x for v in reports.values() for x in v]})
    return found


async def _partners(tx: Tx, b: _Builder, case_id: int, agencies: dict[int, str]) -> dict[str, Any]:
    def link(r: Row) -> dict[str, Any]:
        return {"partner": agencies.get(r["partner_id"]), "contact": b.who(r["contact_id"]),
                "linked_at": b.when(r["linked_at"]), "linked_by": b.who(r["linked_by"]),
                "unlinked_at": b.when(r["unlinked_at"]),
                "partner_reference": b.review(f"partner_ref:{r['id']}", "Partner's own case reference",
                                              r["partner_ref_enc"], partners.PARTNER_REF, r["id"],
                                              b.when(r["linked_at"]), b.who(r["linked_by"]))}

    def share(r: Row) -> dict[str, Any]:
        who = b.who(r["requested_by"])
        return {"id": r["id"], "partner": agencies.get(r["partner_id"]), "to": b.who(r["contact_id"]),
                "kind": r["kind"], "alert": r["alert_id"], "basis": r["basis"], "content": json.loads(r["content"]),
                "created_at": b.when(r["created_at"]), "requested_by": who, "approved_by": b.who(r["approved_by"]),
                "justification": b.review(f"share_justification:{r['id']}", "Why it was shared",
                                          r["justification_enc"], partners.JUSTIFICATION, r["id"],
                                          b.when(r["created_at"]), who),
                "acknowledged_at": b.when(r["acknowledged_at"]), "acknowledged_by": b.who(r["acknowledged_by"]),
                "action": r["action"], "action_at": b.when(r["action_at"]),
                "action_note": b.review(f"share_action_note:{r['id']}", "What the partner did",
                                        r["action_note_enc"], partners.ACTION_NOTE, r["id"], b.when(r["action_at"]),
                                        b.who(r["acknowledged_by"]))}

    def request(r: Row) -> dict[str, Any]:
        by, decider = b.who(r["requested_by"]), b.who(r["decided_by"])
        return {"id": r["id"], "partner": agencies.get(r["partner_id"]), "to": b.who(r["contact_id"]),
                "kind": r["kind"], "basis": r["basis"], "alert": r["alert_id"], "content": json.loads(r["content"]),
                "requested_by": by, "requested_at": b.when(r["requested_at"]), "status": r["status"],
                "decided_by": decider, "decided_at": b.when(r["decided_at"]), "share": r["share_id"],
                "reason": b.review(f"share_request_reason:{r['id']}", "Why it should go without her consent",
                                   r["reason_enc"], share_requests.REASON, r["id"], b.when(r["requested_at"]), by),
                "refusal": b.review(f"share_request_refusal:{r['id']}", "Why a manager refused it",
                                    r["refusal_enc"], share_requests.REFUSAL, r["id"], b.when(r["decided_at"]),
                                    decider)}

    rows = "SELECT * FROM {} WHERE case_id = ? ORDER BY id"
    return {
        "partner_links": [link(r) for r in await tx.all(rows.format("case_partner_links"), (case_id,))],
        "partner_consents": [
            {"partner": agencies.get(r["partner_id"]), "kind": r["kind"], "agreed": bool(r["agreed"]),
             "text_version": r["text_version"], "how": r["how"], "at": b.when(r["at"]),
             "recorded_by": b.who(r["recorded_by"])}
            for r in await tx.all(rows.format("partner_consents"), (case_id,))
        ],
        "shares": [share(r) for r in await tx.all(rows.format("shares"), (case_id,))],
        "share_requests": [request(r) for r in await tx.all(rows.format("share_requests"), (case_id,))],
    }


async def _dash_marac(tx: Tx, b: _Builder, case_id: int) -> dict[str, Any]:
    referral = await tx.one("SELECT * FROM marac_referrals WHERE case_id = ?", (case_id,))
    return {
        "dash_assessments": [
            {"recorded_at": b.when(r["recorded_at"]), "recorded_by": b.who(r["recorded_by"]),
             "answers": json.loads(r["answers"]), "ticks": r["ticks"], "judgement_level": r["judgement_level"],
             "level": r["level"],
             "reason": b.review(f"dash_reason:{r['id']}", "Reason for the DASH professional judgement",
                                r["reason_enc"], dash.REASON, r["id"], b.when(r["recorded_at"]),
                                b.who(r["recorded_by"]))}
            for r in await tx.all("SELECT * FROM dash_assessments WHERE case_id = ? ORDER BY id", (case_id,))
        ],
        "marac_meetings": [
            {"date": r["meeting_date"], "heard": bool(r["heard"]), "recorded_at": b.when(r["recorded_at"]),
             "recorded_by": b.who(r["recorded_by"]),
             "actions": b.review(f"marac_actions:{r['id']}", f"Marac actions ({r['meeting_date']})", r["actions_enc"],
                                 dash.ACTIONS, r["id"], b.when(r["recorded_at"]), b.who(r["recorded_by"]))}
            for r in await tx.all("SELECT * FROM marac_meetings WHERE case_id = ? ORDER BY meeting_date, id",
                                  (case_id,))
        ],
        "marac_referral": None if referral is None else {
            "updated_at": b.when(referral["updated_at"]), "updated_by": b.who(referral["updated_by"]),
            "reason": b.review("marac_reason", "Marac referral: reason for referral", referral["reason_enc"],
                               marac.REASON, case_id, b.when(referral["updated_at"]), b.who(referral["updated_by"])),
            "her_views": b.review("marac_views", "Marac referral: her views", referral["views_enc"], marac.VIEWS,
                                  case_id, b.when(referral["updated_at"]), b.who(referral["updated_by"])),
        },
    }
