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


async def on_status(core: Core, sid: str, status: str, error_code: int | None) -> None:
    """Record one status callback; act on a failure the first time it is reported.

    The send is on record from the moment Twilio accepted it (bot.channels.sms_channel), so a report
    that races ahead of the dispatcher's round still finds its outbox row.
    """
    now = core.clock.now()

    async def unit(tx: Tx) -> OutboxItem | None:
        known = await sms.get(tx, sid)
        item: OutboxItem | None = None
        if known is not None and known.outbox_id is not None:
            item = await outbox.get(tx, known.outbox_id)
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
        acted = await act_on_failure(tx, core, sid, item, status, error_code, now)
        await tx.commit()
        return item if acted else None

    acted = await core.db.run(unit, urgent=True)  # a failed alert must move on without queueing
    if acted is not None:
        log.warning("sms undelivered outbox=%s status=%s error=%s", acted.id, status, error_code)
        core.wake_dispatcher()


async def act_on_failure(
    tx: Tx, core: Core, sid: str, item: OutboxItem | None, status: str, error_code: int | None, now: datetime
) -> bool:
    """Act once on a message that did not arrive (a repeated report, or a second look, does nothing)."""
    if status not in sms.FAILED or item is None or not await sms.claim_failure(tx, sid):
        return False
    if item.recipient == "practitioner":
        await _alert_undelivered(tx, item, now)
    elif item.case_id is not None:  # a stranger's one neutral line is never sent again
        await _survivor_undelivered(tx, core, item, item.case_id, error_code, now)
    return True


async def on_send_recorded(tx: Tx, core: Core, sid: str, now: datetime) -> bool:
    """A send just put on record: a failure reported before that (a callback that raced ahead, when its
    outbox row was not known yet) is acted on now."""
    known = await sms.get(tx, sid)
    if known is None or known.outbox_id is None:
        return False
    item = await outbox.get(tx, known.outbox_id)
    return await act_on_failure(tx, core, sid, item, known.status, known.error_code, now)


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
