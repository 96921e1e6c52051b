"""Practitioners writing to the bot: acknowledging alerts and linking a chat, on any channel.

The inbound pipeline (bot.pipeline) asks here first, inside the message's unit of work. Anyone who
is not a linked, active practitioner on that channel gets None back, and their message goes on as a
survivor's, where an unknown sender learns nothing. A practitioner's message passed the same
provider-id dedupe as every inbound message, in the same unit as what it does: a replayed or
redelivered `ACK` acknowledges nothing new.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from bot import alerting, identify, share_followup
from bot.core import Core
from bot.inbound import Outcome, Received
from storage import alerts, cases, inbound, practitioners
from storage.db import Tx
from storage.practitioners import Practitioner

log = logging.getLogger("safecheck.practitioners")

ACK = re.compile(r"\s*ack(?:nowledge)?\s+(?P<ref>[a-z]-?[a-z0-9]{3,12})\s*[.!]?\s*", re.IGNORECASE)
LINK = re.compile(r"\s*(?:/start\s+link-|link\s+)(?P<code>[a-z0-9-]{4,20})\s*", re.IGNORECASE)
SHARE_ACK = re.compile(r"\s*ack(?:nowledge)?\s+(?:s-?)?(?P<id>\d{1,9})\s*[.!]?\s*", re.IGNORECASE)
PARTNER_HELP = "Reply ACK S-<number> to acknowledge a share sent to you, e.g. ACK S-12."
PARTNER_NO_ALERTS = "You can acknowledge only shares sent to you: reply ACK S-<number>."
HELP = "Reply ACK <case ref> to acknowledge a case's open alerts, e.g. ACK C-4F7Q2."
OLD_BUTTON = "This button is from before an update and no longer works: reply ACK <case ref> instead."


@dataclass(frozen=True)
class Answer:
    """A practitioner's message, handled: what to reply, or None for a redelivery (answered before)."""

    reply: str | None


async def handle_text(
    tx: Tx, core: Core, channel: str, address: str, text: str, arrived: datetime, now: datetime
) -> Answer | None:
    """In the message's unit of work: a practitioner's ACK, LINK or anything else (answered with
    HELP); None if the sender is not a practitioner here and the words are no working LINK."""
    link = LINK.fullmatch(text)
    if link is not None:
        pid = await practitioners.redeem_link(tx, core.crypto, channel, link["code"], address, now)
        if pid is None:
            return None  # a wrong code reads like any unknown sender's message
        log.info("practitioner linked practitioner=%s channel=%s", pid, channel)
        return Answer(f"Linked. Alerts will arrive here. {HELP}")
    practitioner = await identify.practitioner(tx, core, channel, address)
    if practitioner is None:
        return None
    if share := SHARE_ACK.fullmatch(text):
        return Answer(await _ack_share(tx, practitioner, int(share["id"]), now))
    if practitioner.role == "partner":  # a partner's person acknowledges shares, never a case's alerts
        return Answer(PARTNER_NO_ALERTS if ACK.fullmatch(text) else PARTNER_HELP)
    if ack := ACK.fullmatch(text):
        return Answer(await _ack_case(tx, practitioner, ack["ref"].upper(), arrived, now))
    return Answer(HELP)


async def handle_practitioner_text(
    core: Core, channel: str, address: str, text: str, provider_id: str, received_at: datetime | None = None
) -> Answer | None:
    """A practitioner's message on its own: handled once; None if the sender is not a practitioner here.

    The inbound pipeline does the same within a message's unit (bot.pipeline); this entry serves
    callers that know the sender is staff.
    """
    now = core.clock.now()
    arrived = received_at or now

    async def unit(tx: Tx) -> Answer | None:
        if await inbound.record(tx, channel, provider_id, arrived) is None:
            known = LINK.fullmatch(text) or await identify.practitioner(tx, core, channel, address)
            return Answer(None) if known else None
        answer = await handle_text(tx, core, channel, address, text, arrived, now)
        if answer is not None:
            await tx.commit()
        return answer

    return await core.db.run(unit, urgent=True)  # an acknowledgement stops an escalation: no queueing


async def _ack_case(tx: Tx, practitioner: Practitioner, ref: str, arrived: datetime, now: datetime) -> str:
    """Acknowledge the case's open alerts that had reached this practitioner when the ACK arrived:
    an alert raised since then was not seen, so it is not silenced by an ACK typed for an older one."""
    if not ref.startswith("C-"):
        ref = f"C-{ref.removeprefix('C')}"
    case = await cases.by_ref(tx, ref)
    if case is None or case.service_id != practitioner.service_id:
        return f"No case {ref} in your service."
    seen = await alerts.open_sent_to(tx, case.id, practitioner.id, arrived)
    done = 0
    for alert in seen:  # sent to them, so acknowledge() allows it (while they are active)
        try:
            if await alerting.acknowledge(tx, alert.id, practitioner.id, now):
                done += 1
        except alerting.AckRefused:
            log.warning("ack refused alert=%s practitioner=%s", alert.id, practitioner.id)
    if not done:
        return f"No open alerts for {ref} had been sent to you."
    return f"Acknowledged {done} alert(s) for {ref}. Escalation stopped."


async def _ack_share(tx: Tx, practitioner: Practitioner, share_id: int, now: datetime) -> str:
    """A partner's person acknowledges a share sent to them; anyone else learns nothing about it."""
    try:
        first = await share_followup.acknowledge(tx, share_id, practitioner.id, now)
    except share_followup.ShareRefused:
        log.warning("share ack refused share=%s practitioner=%s", share_id, practitioner.id)
        return f"No share S-{share_id} was sent to you."
    if first:
        return f"Acknowledged share S-{share_id}. Thank you."
    return f"Share S-{share_id} was already acknowledged."


@dataclass(frozen=True)
class ButtonAck:
    """What pressing an Acknowledge button did: the line shown to the presser, and who they are."""

    note: str
    acknowledged: bool = False
    by: str | None = None  # the presser's name, for the edited alert


async def acknowledge_tap(tx: Tx, core: Core, channel: str, address: str, token: str, now: datetime) -> Received:
    """An Acknowledge button was pressed, in the press's unit of work: the token names the alert,
    the presser's chat says who.

    The presser must be a linked practitioner allowed to acknowledge that alert
    (bot.alerting.acknowledge); a token we never gave out reads like a refusal.
    """
    presser = await identify.practitioner(tx, core, channel, address)
    if presser is None:
        return Received(
            Outcome.PROCESSED, note="This chat is not linked to a practitioner, so it cannot acknowledge alerts."
        )
    alert_id = await alerts.button_alert(tx, token)
    alert = await alerts.get(tx, alert_id) if alert_id is not None else None
    try:
        if alert is None:
            raise alerting.AckRefused("unknown button")
        first = await alerting.acknowledge(tx, alert.id, presser.id, now)
    except alerting.AckRefused:
        log.warning("button ack refused practitioner=%s alert=%s", presser.id, alert_id)
        return Received(Outcome.PROCESSED, note="You cannot acknowledge this alert.")
    if first:
        return Received(
            Outcome.PROCESSED,
            note=f"Acknowledged: case {alert.case_ref}. Escalation stopped.",
            acknowledged_by=presser.name,
        )
    return Received(Outcome.PROCESSED, note=f"Case {alert.case_ref}: this alert was already acknowledged.")


async def acknowledge_by_button(
    core: Core, channel: str, address: str, token: str, provider_id: str
) -> ButtonAck | None:
    """An Acknowledge press on its own unit of work (the pipeline does the same for a tap); None for a redelivery."""
    now = core.clock.now()

    async def unit(tx: Tx) -> ButtonAck | None:
        if await inbound.record(tx, channel, provider_id, now) is None:
            return None
        tapped = await acknowledge_tap(tx, core, channel, address, token, now)
        await tx.commit()
        return ButtonAck(tapped.note or "", tapped.acknowledged_by is not None, tapped.acknowledged_by)

    return await core.db.run(unit, urgent=True)
