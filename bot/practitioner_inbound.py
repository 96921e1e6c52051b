"""Practitioners writing to the bot: acknowledging alerts and linking a chat, on any channel.

A transport asks here first. Anyone who is not a linked, active practitioner on that channel gets
None back, and their message goes to the survivor pipeline, where an unknown sender learns nothing.
A practitioner's message passes the same provider-id dedupe as every inbound message, in the same
transaction as what it does: a replayed or redelivered `ACK` acknowledges nothing new.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from bot import alerting
from bot.app import App
from storage import alerts, cases, inbound, practitioners
from storage.db import Tx
from storage.practitioners import Practitioner

log = logging.getLogger("safecheck.practitioners")

ACK = re.compile(r"\s*ack(?:nowledge)?\s+(?P<ref>[a-z]-?[a-z0-9]{3,12})\s*[.!]?\s*", re.IGNORECASE)
LINK = re.compile(r"\s*(?:/start\s+link-|link\s+)(?P<code>[a-z0-9-]{4,20})\s*", re.IGNORECASE)
HELP = "Reply ACK <case ref> to acknowledge a case's open alerts, e.g. ACK C-4F7Q2."
OLD_BUTTON = "This button is from before an update and no longer works: reply ACK <case ref> instead."


@dataclass(frozen=True)
class Answer:
    """A practitioner's message, handled: what to reply, or None for a redelivery (answered before)."""

    reply: str | None


async def practitioner_for(app: App, channel: str, address: str) -> Practitioner | None:
    async with app.db.reading() as tx:
        return await practitioners.by_address(tx, app.crypto, channel, address)


async def handle_practitioner_text(
    app: App, channel: str, address: str, text: str, provider_id: str, received_at: datetime | None = None
) -> Answer | None:
    """Handle a practitioner's message once; None if the sender is not a practitioner here."""
    link = LINK.fullmatch(text)
    practitioner = None if link else await practitioner_for(app, channel, address)
    if link is None and practitioner is None:
        return None
    now = app.clock.now()
    arrived = received_at or now
    async with app.db.transaction(urgent=True) as tx:  # an acknowledgement stops an escalation: no queueing
        if await inbound.record(tx, channel, provider_id, arrived) is None:
            log.info("practitioner message redelivered channel=%s", channel)
            return Answer(None)
        if link is not None:
            pid = await practitioners.redeem_link(tx, app.crypto, channel, link["code"], address, now)
            if pid is None:
                return None  # rolled back: a wrong code reads like any unknown sender's message
            log.info("practitioner linked practitioner=%s channel=%s", pid, channel)
            reply = f"Linked. Alerts will arrive here. {HELP}"
        elif practitioner is not None and (ack := ACK.fullmatch(text)):
            reply = await _ack_case(tx, practitioner, ack["ref"].upper(), arrived, now)
        else:
            reply = HELP
        await tx.commit()
    return Answer(reply)


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


@dataclass(frozen=True)
class ButtonAck:
    """What pressing an Acknowledge button did: the line shown to the presser, and who they are."""

    note: str
    acknowledged: bool = False
    by: str | None = None  # the presser's name, for the edited alert


async def acknowledge_by_button(app: App, channel: str, address: str, token: str, provider_id: str) -> ButtonAck | None:
    """An Acknowledge button was pressed: the token names the alert, the presser's chat says who.

    None for a redelivered press. The presser must be a linked practitioner allowed to acknowledge
    that alert (bot.alerting.acknowledge); a token we never gave out reads like a refusal.
    """
    presser = await practitioner_for(app, channel, address)
    now = app.clock.now()
    async with app.db.transaction(urgent=True) as tx:
        if await inbound.record(tx, channel, provider_id, now) is None:
            return None
        if presser is None:
            await tx.commit()
            return ButtonAck("This chat is not linked to a practitioner, so it cannot acknowledge alerts.")
        alert_id = await alerts.button_alert(tx, token)
        alert = await alerts.get(tx, alert_id) if alert_id is not None else None
        try:
            if alert is None:
                raise alerting.AckRefused("unknown button")
            first = await alerting.acknowledge(tx, alert.id, presser.id, now)
        except alerting.AckRefused:
            await tx.commit()
            log.warning("button ack refused practitioner=%s alert=%s", presser.id, alert_id)
            return ButtonAck("You cannot acknowledge this alert.")
        await tx.commit()
    if first:
        return ButtonAck(f"Acknowledged: case {alert.case_ref}. Escalation stopped.", True, presser.name)
    return ButtonAck(f"Case {alert.case_ref}: this alert was already acknowledged.")
