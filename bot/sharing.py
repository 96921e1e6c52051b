"""Share with partner agencies what she consented to, the moment it happens (docs/sharing.md).

Called inside the unit of work that raises an alert: the share, its record and its message to the
partner's person commit together with the alert, so a share is never lost and never sent twice.
The decision is safety/sharing.py's (pure); this module reads the case's links and consents, records
the share and queues its message on the partner person's own channels.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import share_followup
from bot.alert_text import CHECKIN_SUMMARY, known_facts, share_message
from safety.model import AlertReason, Severity
from safety.sharing import Decision, Kind, automatic, kinds_of_alert, shows_personal_details
from storage import audit, outbox, partners, practitioners
from storage.cases import Case
from storage.crypto import Crypto
from storage.db import Tx

log = logging.getLogger("safecheck.sharing")


async def share_alert(
    tx: Tx,
    crypto: Crypto,
    case: Case,
    alert_id: int,
    severity: Severity,
    reason: AlertReason,
    level: str | None,
    facts: tuple[str, ...],
    now: datetime,
) -> list[int]:
    """Share an alert with each linked partner person whose agreement and her consent allow it; the share ids."""
    kinds = kinds_of_alert(severity, reason)
    if not kinds:
        return []
    what = (severity.value, reason.value, level, facts)
    return await _apart(tx, case, now, _share(tx, crypto, case, kinds, alert_id, *what, now, escalate=True))


async def share_checkin(
    tx: Tx, crypto: Crypto, case: Case, level: str, signals: tuple[str, ...], now: datetime
) -> list[int]:
    """Share a finished check-in's summary (its level and what it showed, as codes) where her consent allows.

    Summaries do not escalate when unacknowledged: one comes with every check-in, and an urgent one
    is shared as an alert too, which does."""
    kinds = frozenset({Kind.CHECKIN_SUMMARIES})
    sharing = _share(tx, crypto, case, kinds, None, "summary", CHECKIN_SUMMARY, level, signals, now, escalate=False)
    return await _apart(tx, case, now, sharing)


async def _apart(tx: Tx, case: Case, now: datetime, sharing: Coroutine[Any, Any, list[int]]) -> list[int]:
    """Run the sharing in its own savepoint: if it fails, it is undone and said loudly, and the unit that
    raised the alert (or finished the check-in) still commits. Her IDVA is never left untold because a
    partner could not be."""
    await tx.execute("SAVEPOINT sharing")
    try:
        shared = await sharing
    except Exception as exc:
        await tx.execute("ROLLBACK TO sharing")
        await tx.execute("RELEASE sharing")
        log.error("sharing failed; nothing was shared case=%s error=%s", case.ref, type(exc).__name__)
        await audit.log(tx, now, "system", "share_failed", case.id, type(exc).__name__)
        return []
    await tx.execute("RELEASE sharing")
    return shared


async def _share(
    tx: Tx,
    crypto: Crypto,
    case: Case,
    kinds: frozenset[Kind],
    alert_id: int | None,
    severity: str,
    reason: str,
    level: str | None,
    facts: tuple[str, ...],
    now: datetime,
    *,
    escalate: bool,
) -> list[int]:
    shared = []
    for link in await partners.links(tx, crypto, case.id):
        partner = await partners.get(tx, link.partner_id)
        if partner is None:
            continue
        if not partner.active:
            log.info("share skipped: the agreement with the partner has ended case=%s partner=%s", case.ref, partner.id)
            continue
        if await partners.partner_of(tx, link.contact_id) != partner.id:
            # They left (deactivated): a link outlives its person, and their addresses stay on record.
            log.warning("share skipped: linked contact inactive case=%s partner=%s contact=%s",
                        case.ref, partner.id, link.contact_id)
            continue
        decision = automatic(kinds, partner.agreement, await partners.consents(tx, case.id, partner.id))
        if decision is None:
            continue
        if not await practitioners.channel_names(tx, link.contact_id):
            # She agreed and it is due, but there is no way to reach them: loud, never a silent skip.
            log.error("share not sent: linked contact has no channel case=%s partner=%s contact=%s",
                      case.ref, partner.id, link.contact_id)
            continue
        what = Sent(decision.kind.value if decision.kind else "manual", severity, reason, level, facts, alert_id)
        shared.append(await deliver(tx, crypto, case, link, partner, decision, what, now, escalate=escalate))
    return shared


@dataclass(frozen=True)
class Sent:
    """What one share carries: its kind, and how it reads (codes only; bot/alert_text words them)."""

    kind: str
    severity: str
    reason: str
    level: str | None
    facts: tuple[str, ...]
    alert_id: int | None = None


async def deliver(
    tx: Tx,
    crypto: Crypto,
    case: Case,
    link: partners.Link,
    partner: partners.Partner,
    decision: Decision,
    what: Sent,
    now: datetime,
    *,
    escalate: bool,
    justification: str | None = None,
    requested_by: str | None = None,
) -> int:
    """Record one share the gate allowed and queue its message to the linked person's first channel (the
    caller has checked they have one); arm its escalation if it is chased. Automatic shares and shares
    made from the workspace both go this way. Returns the share id."""
    channels = await practitioners.channel_names(tx, link.contact_id)
    # Her name and number are never put in a message (phones and mailboxes keep copies): where both the
    # agreement and her consent allow them, the share says so and the partner's workspace view shows them.
    # Never on an override (safety.sharing.shows_personal_details).
    details = shows_personal_details(
        decision, partner.agreement, await partners.consented_to_details(tx, case.id, partner.id)
    )
    content = {"severity": what.severity, "reason": what.reason, "level": what.level,
               "facts": list(known_facts(what.facts)), "personal_details": details}
    share_id = await partners.record_share(
        tx,
        service_id=case.service_id,
        case_id=case.id,
        partner_id=partner.id,
        contact_id=link.contact_id,
        kind=what.kind,
        alert_id=what.alert_id,
        decision=decision,
        content={**content, "at": now.isoformat()},
        now=now,
        crypto=crypto,
        justification=justification,
        requested_by=requested_by,
    )
    message = share_message(share_id, link.partner_ref, what.severity, what.reason, what.level, what.facts,
                            now.isoformat())
    await outbox.to_practitioner(
        tx,
        practitioner_id=link.contact_id,
        alert_id=None,
        channel=channels[0],
        position=0,
        message=message,
        now=now,
    )
    if escalate:
        await share_followup.arm(tx, share_id, case.service_id, partner.ack_minutes, now)
    consent_id = decision.consent.consent_id if decision.consent else None
    detail = f"share={share_id} partner={partner.id} basis={decision.basis.value} consent={consent_id}"
    if decision.override is not None:
        detail += f" requested_by={decision.override.requested_by} approved_by={decision.override.approved_by}"
    await audit.log(tx, now, "system", "shared", case.id, detail)
    return share_id
