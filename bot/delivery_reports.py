"""Delivery reports (Twilio's status callbacks): record each status, and act once on a message that
did not arrive. The pipeline hands them here (bot.inbound.DeliveryReport).

A survivor's message is sent again a little later (inside their safe times, only if nothing like a
quick exit happened since); three undelivered in a row, or an error that says the number can never
receive (opted out, not a mobile...), tell the IDVA the channel is dead. A practitioner's alert
moves on to their next channel at once, or climbs the ladder when it was their last.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import alerting
from bot.core import Core
from flows.schedule import in_window
from safety.model import AlertReason, Severity
from storage import alerts, cases, outbox, practitioners, services, sms
from storage.db import Tx
from storage.outbox import OutboxItem

log = logging.getLogger("safecheck.sms")

# Delivery errors that mean the number will never receive from us: opted out (21610), unknown or
# unreachable for good (30005, 30006), blocked by the recipient's carrier or by them (30004).
DEAD_ERRORS = frozenset({21610, 21211, 21614, 21612, 30004, 30005, 30006})
MAX_UNDELIVERED_IN_A_ROW = 3  # then the channel is dead for this survivor
RESEND_AFTER = timedelta(minutes=2)  # times the failures so far: a phone switched off may come back
RESEND_WITHIN = timedelta(minutes=30)  # an older message would arrive out of context: not re-sent


async def on_status(core: Core, sid: str, status: str, error_code: int | None, outbox_id: int | None = None) -> None:
    """Record one status callback; act on a failure the first time it is reported.

    `outbox_id` is the channel's note of the outbox row of a message sent in a dispatcher round that
    has not been recorded yet.
    """
    now = core.clock.now()

    async def unit(tx: Tx) -> OutboxItem | None:
        known = await sms.get(tx, sid)
        item: OutboxItem | None = None
        row_id = known.outbox_id if known is not None else outbox_id
        if row_id is not None:
            item = await outbox.get(tx, row_id)
        elif known is None:
            item = await outbox.by_provider_id(tx, "sms", sid)
        await sms.record_status(
            tx,
            sid,
            status,
            error_code,
            now,
            outbox_id=item.id if item else None,
            case_id=item.case_id if item else None,
            recipient=item.recipient if item else "unknown",
        )
        acted = None
        if status in sms.FAILED and item is not None and await sms.claim_failure(tx, sid):
            if item.recipient == "practitioner":
                await _alert_undelivered(tx, item, now)
            elif item.case_id is not None:  # a stranger's one neutral line is never sent again
                await _survivor_undelivered(tx, core, item, item.case_id, error_code, now)
            acted = item
        await tx.commit()
        return acted

    acted = await core.db.run(unit, urgent=True)  # a failed alert must move on without queueing
    if acted is not None:
        log.warning("sms undelivered outbox=%s status=%s error=%s", acted.id, status, error_code)
        core.wake_dispatcher()


async def _survivor_undelivered(
    tx: Tx, core: Core, item: OutboxItem, case_id: int, error_code: int | None, now: datetime
) -> None:
    case = await cases.get(tx, case_id)
    streak = await sms.failure_streak(tx, case_id)
    if error_code in DEAD_ERRORS or streak >= MAX_UNDELIVERED_IN_A_ROW:
        await channel_dead(tx, case.id, now)
        return
    if case.address_enc is None or case.status not in ("onboarding", "active", "paused") or case.channel != "sms":
        return  # withdrawn, closed or moved: nothing more goes to this number
    if now - item.created_at > RESEND_WITHIN or await sms.quick_exit_since(tx, case.id, item.created_at):
        return
    at = now + RESEND_AFTER * streak
    if case.safe_windows and not in_window(at, ZoneInfo(case.timezone), case.safe_windows):
        return  # never outside the survivor's safe times
    address = cases.address_of(core.crypto, case)
    assert address is not None  # checked above
    await outbox.send_again(tx, core.crypto, item, address, at)


async def channel_dead(tx: Tx, case_id: int, now: datetime) -> None:
    """Tell the IDVA (once while the alert is open) that texts no longer reach the survivor."""
    if await alerts.open_exists(tx, case_id, AlertReason.CHANNEL_DEAD.value):
        return
    case = await cases.get(tx, case_id)
    service = await services.get(tx, case.service_id)
    await alerting.raise_alert(tx, service, case, Severity.RAISED, AlertReason.CHANNEL_DEAD, now)


async def _alert_undelivered(tx: Tx, item: OutboxItem, now: datetime) -> None:
    if item.practitioner_id is None:
        return
    if item.alert_id is not None:
        alert = await alerts.get(tx, item.alert_id)
        if alert is None or alert.acknowledged_at is not None:
            return  # someone already has it in hand
    names = await practitioners.channel_names(tx, item.practitioner_id)
    following = item.position + 1
    if following < len(names):
        await outbox.to_practitioner(
            tx,
            practitioner_id=item.practitioner_id,
            alert_id=item.alert_id,
            channel=names[following],
            position=following,
            message=item.message,
            now=now,
        )
    elif item.alert_id is not None:
        await alerting.undeliverable(tx, item.alert_id, item.practitioner_id, now)
