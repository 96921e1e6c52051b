"""After a share went: the partner acknowledges it, records what they did, or it escalates (docs/sharing.md).

An unacknowledged share climbs two rungs, each after the partner's `ack_minutes`: first the share
itself goes to the partner's duty contact(s), then the IDVA service's manager(s) are told that the
partner has not acknowledged it. An acknowledgement cancels what is left of the ladder.

Who may acknowledge or record an action: the partner's person the share was sent to, or, once the
share has escalated to them, that partner's duty contacts. Nobody else, and staff never on a
partner's behalf by reply: a share is the partner's to acknowledge.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.alert_text import share_message
from safety.sharing import Kind
from storage import audit, cases, outbox, partners, practitioners, timers
from storage.crypto import Crypto
from storage.db import Tx
from storage.partners import ShareStatus

log = logging.getLogger("safecheck.sharing")

ESCALATE = "share_escalate"  # the timer kind; key "<share id>:<rung>"
DUTY, MANAGER = 1, 2  # the rungs


class ShareRefused(Exception):
    """This person may not acknowledge this share or record an action on it (one line)."""


def _key(share_id: int, rung: int) -> str:
    return f"{share_id}:{rung}"


async def arm(tx: Tx, share_id: int, service_id: int, ack_minutes: int, now: datetime) -> None:
    """Set the share's escalation ladder (in the unit that records the share).

    No case_id on the timers: closing or withdrawing the case must not silence a partner's overdue
    acknowledgement of what was already shared."""
    period = timedelta(minutes=ack_minutes)
    for rung in (DUTY, MANAGER):
        await timers.add(
            tx,
            ESCALATE,
            _key(share_id, rung),
            now + period * rung,
            service_id=service_id,
            payload={"share_id": share_id, "rung": rung},
        )


async def _allowed(tx: Tx, share: ShareStatus, practitioner_id: int) -> bool:
    if await partners.partner_of(tx, practitioner_id) != share.partner_id:
        return False  # staff, another partner's people, or someone no longer active
    if practitioner_id == share.contact_id:
        return True
    return practitioner_id in await partners.duty_contacts(tx, share.partner_id) and await timers.fired(
        tx, ESCALATE, _key(share.id, DUTY)
    )


async def shares_for(tx: Tx, practitioner_id: int) -> list[ShareStatus]:
    """The shares this partner's person may see and act on, newest first: those sent to them, and those that
    escalated to them as the partner's duty contact. The same rule as acknowledging by reply."""
    partner_id = await partners.partner_of(tx, practitioner_id)
    if partner_id is None:
        return []
    return [s for s in await partners.shares_to_partner(tx, partner_id) if await _allowed(tx, s, practitioner_id)]


async def share_for(tx: Tx, share_id: int, practitioner_id: int) -> ShareStatus | None:
    """The share if this person may see it; None alike whether it does not exist or is not theirs."""
    try:
        return await _share_for(tx, share_id, practitioner_id)
    except ShareRefused:
        return None


async def _share_for(tx: Tx, share_id: int, practitioner_id: int) -> ShareStatus:
    share = await partners.share_status(tx, share_id)
    if share is None or not await _allowed(tx, share, practitioner_id):
        # The same refusal whether the share exists or not: nobody learns of another's shares.
        raise ShareRefused(f"share {share_id} was not sent to practitioner {practitioner_id}")
    return share


async def acknowledge(tx: Tx, share_id: int, practitioner_id: int, now: datetime) -> bool:
    """Record the acknowledgement and stop the escalation; False if acknowledged already; ShareRefused
    for anyone the share was not sent to."""
    share = await _share_for(tx, share_id, practitioner_id)
    first = await partners.acknowledge_share(tx, share.id, practitioner_id, now)
    if first:
        await timers.cancel_keys(tx, now, ESCALATE, (_key(share.id, DUTY), _key(share.id, MANAGER)))
        await audit.log(
            tx,
            now,
            f"practitioner:{practitioner_id}",
            "share_acknowledged",
            share.case_id,
            f"share={share.id} partner={share.partner_id}",
        )
    return first


async def record_action(
    tx: Tx, crypto: Crypto, share_id: int, practitioner_id: int, action_code: str, note: str | None, now: datetime
) -> None:
    """What the partner did: acknowledges the share first if nobody had (recording an action is a reply).

    ShareRefused for anyone the share was not sent to; ValueError for an unknown action code."""
    if action_code not in partners.ACTION_CODES:
        raise ValueError(f"unknown action {action_code!r}")
    share = await _share_for(tx, share_id, practitioner_id)
    await acknowledge(tx, share.id, practitioner_id, now)
    await partners.record_action(tx, crypto, share.id, action_code, note, now)
    await audit.log(
        tx,
        now,
        f"practitioner:{practitioner_id}",
        "share_action_recorded",
        share.case_id,
        f"share={share.id} action={action_code}",
    )


async def escalate(tx: Tx, crypto: Crypto, share_id: int, rung: int, now: datetime) -> list[int]:
    """A rung's timer fired: tell the next people unless the share was acknowledged; who was told."""
    share = await partners.share_status(tx, share_id)
    if share is None or share.acknowledged_at is not None:
        return []
    if rung == DUTY:
        if await _may_go_further(tx, share):
            told = await _to_duty_contacts(tx, crypto, share, now)
            if told:
                await audit.log(tx, now, "system", "share_escalated:partner_duty", share.case_id, f"share={share.id}")
                return told
            # No duty contact to reach: the managers are told now rather than after another period.
            log.warning("share has no partner duty contact share=%s partner=%s", share.id, share.partner_id)
        else:
            log.info("share not re-sent to the partner's duty contact: consent or agreement ended share=%s", share.id)
        await timers.cancel_keys(tx, now, ESCALATE, (_key(share.id, MANAGER),))
    told = await _to_managers(tx, share, now)
    if not told:
        # The last rung: nobody is left to chase the partner. Loud, so the service's monitoring sees it.
        log.error(
            "share escalation reached nobody share=%s partner=%s: no manager with a channel", share.id, share.partner_id
        )
    await audit.log(tx, now, "system", "share_escalated:manager", share.case_id, f"share={share.id}")
    return told


async def _may_go_further(tx: Tx, share: ShareStatus) -> bool:
    """Re-sending a share to the duty contact is a new disclosure: a share made on her consent goes further
    only while that consent still stands and her case is not withdrawn. (Her IDVA's managers are told in
    any case: that discloses nothing to the partner.)"""
    partner = await partners.get(tx, share.partner_id)
    if partner is None or not partner.active:
        return False  # the agreement has ended
    if share.basis != "consent":
        return True  # an approved override: its reason holds for the partner's duty contact too
    if (await cases.get(tx, share.case_id)).status == "withdrawn":
        return False
    if share.kind not in Kind._value2member_map_:
        return False
    consent = (await partners.consents(tx, share.case_id, share.partner_id)).get(Kind(share.kind))
    return consent is not None and consent.agreed


async def _to_duty_contacts(tx: Tx, crypto: Crypto, share: ShareStatus, now: datetime) -> list[int]:
    ref = await partners.partner_ref_of(tx, crypto, share.case_id, share.partner_id, share.contact_id)
    c = share.content
    listed = c.get("facts")
    facts = [str(f) for f in listed] if isinstance(listed, list) else []
    message = share_message(
        share.id,
        ref,
        str(c.get("severity") or ""),
        str(c.get("reason") or ""),
        str(c["level"]) if c.get("level") else None,
        facts,
        str(c.get("at") or share.created_at.isoformat()),
    )
    return await _queue(tx, await partners.duty_contacts(tx, share.partner_id), message, now)


async def _to_managers(tx: Tx, share: ShareStatus, now: datetime) -> list[int]:
    partner = await partners.get(tx, share.partner_id)
    case = await cases.get(tx, share.case_id)
    message = {
        "kind": "share_overdue",
        "share_id": share.id,
        "partner": partner.name if partner else f"partner {share.partner_id}",
        "case_ref": case.ref,
        "severity": str(share.content.get("severity") or "urgent"),
        "at": share.created_at.isoformat(),
    }
    return await _queue(tx, await practitioners.ids_with_role(tx, share.service_id, "manager"), message, now)


async def _queue(tx: Tx, people: list[int], message: dict[str, object], now: datetime) -> list[int]:
    told = []
    for person in people:
        channels = await practitioners.channel_names(tx, person)
        if not channels:
            log.error("practitioner=%s has no alert channel; share=%s", person, message["share_id"])
            continue
        await outbox.to_practitioner(
            tx, practitioner_id=person, alert_id=None, channel=channels[0], position=0, message=message, now=now
        )
        told.append(person)
    return told
