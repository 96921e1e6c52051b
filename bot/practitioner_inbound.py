"""Practitioners writing to the bot: acknowledging alerts and linking a chat, on any channel.

A transport asks here first. Anyone who is not a linked, active practitioner on that channel gets
None back, and their message goes to the survivor pipeline, where an unknown sender learns nothing.
"""

from __future__ import annotations

import logging
import re

from bot import alerting
from bot.app import App
from storage import alerts, cases, practitioners
from storage.practitioners import Practitioner

log = logging.getLogger("safecheck.practitioners")

ACK = re.compile(r"\s*ack(?:nowledge)?\s+(?P<ref>[a-z]-?[a-z0-9]{3,12})\s*[.!]?\s*", re.IGNORECASE)
LINK = re.compile(r"\s*(?:/start\s+link-|link\s+)(?P<code>[a-z0-9-]{4,20})\s*", re.IGNORECASE)
HELP = "Reply ACK <case ref> to acknowledge a case's open alerts, e.g. ACK C-4F7Q2."


async def practitioner_for(app: App, channel: str, address: str) -> Practitioner | None:
    async with app.db.reading() as tx:
        return await practitioners.by_address(tx, app.crypto, channel, address)


async def handle_practitioner_text(app: App, channel: str, address: str, text: str) -> str | None:
    """The reply to a practitioner's message, or None if the sender is not a practitioner here."""
    if link := LINK.fullmatch(text):
        return await _link(app, channel, address, link["code"])
    practitioner = await practitioner_for(app, channel, address)
    if practitioner is None:
        return None
    if ack := ACK.fullmatch(text):
        return await _ack_case(app, practitioner, ack["ref"].upper())
    return HELP


async def _link(app: App, channel: str, address: str, code: str) -> str | None:
    now = app.clock.now()
    async with app.db.transaction() as tx:
        pid = await practitioners.redeem_link(tx, app.crypto, channel, code, address, now)
        if pid is None:
            return None  # a wrong code reads like any unknown sender's message: nothing is revealed
        await tx.commit()
    log.info("practitioner linked practitioner=%s channel=%s", pid, channel)
    return f"Linked. Alerts will arrive here. {HELP}"


async def _ack_case(app: App, practitioner: Practitioner, ref: str) -> str:
    if not ref.startswith("C-"):
        ref = f"C-{ref.removeprefix('C')}"
    now = app.clock.now()
    async with app.db.transaction(urgent=True) as tx:  # an acknowledgement stops an escalation: no queueing
        case = await cases.by_ref(tx, ref)
        if case is None or case.service_id != practitioner.service_id:
            return f"No case {ref} in your service."
        pending = [a for a in await alerts.for_case(tx, case.id) if a.acknowledged_at is None]
        for alert in pending:
            await alerting.acknowledge(tx, alert.id, practitioner.id, now)
        await tx.commit()
    if not pending:
        return f"No open alerts for {ref}."
    return f"Acknowledged {len(pending)} alert(s) for {ref}. Escalation stopped."


async def acknowledge_alert(app: App, channel: str, address: str, alert_id: int) -> str:
    """An Acknowledge button: only a linked practitioner of the alert's own service may press it."""
    practitioner = await practitioner_for(app, channel, address)
    if practitioner is None:
        return "This chat is not linked to a practitioner, so it cannot acknowledge alerts."
    now = app.clock.now()
    async with app.db.transaction(urgent=True) as tx:
        alert = await alerts.get(tx, alert_id)
        if alert is None or alert.service_id != practitioner.service_id:
            return "You cannot acknowledge this alert."
        try:
            first = await alerting.acknowledge(tx, alert_id, practitioner.id, now)
        except alerting.AckRefused:
            return "You cannot acknowledge this alert."
        await tx.commit()
    if first:
        return f"Acknowledged: case {alert.case_ref}. Escalation stopped."
    return f"Case {alert.case_ref}: this alert was already acknowledged."
