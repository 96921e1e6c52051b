"""`case resubscribe`: a withdrawn survivor texted START, and their IDVA has confirmed with them.

Twilio lifts its own block on START, but that is not consent to Safecheck (the phone may not be in
the survivor's hands): bot.channels.sms_optin only records the request and alerts the IDVA. This
command is the IDVA's confirmation, for a case the service has not closed.
"""

from __future__ import annotations

import sqlite3
from zoneinfo import ZoneInfo

from bot.app import App
from bot.commands.common import UserError, case_by_ref
from bot.i18n import to_message
from bot.planning import plan_next
from flows import replies as R
from flows.model import Reply
from flows.schedule import in_window
from storage import audit, cases, outbox, sms


async def resubscribe(app: App, svc: int, ref: str) -> str:
    """Back to active with the next check-in planned, and one neutral line if it is a safe time now."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        if case.status == "closed":
            raise UserError(f"case {case.ref} was closed by the service: enrol the survivor again instead")
        if case.status != "withdrawn":
            raise UserError(f"case {case.ref} is {case.status}, not withdrawn: nothing to resubscribe")
        encrypted = await sms.resubscribe_request(tx, case.id, now)
        if encrypted is None:
            raise UserError(
                f"case {case.ref} has not asked to come back in the last 14 days: the survivor texts START first"
            )
        address = app.crypto.decrypt(encrypted, sms.RESUBSCRIBE_ADDRESS.at(case.id))
        try:
            await cases.update(
                tx,
                case.id,
                status="active",
                address_enc=app.crypto.encrypt(address, cases.ADDRESS.at(case.id)),
                closed_at=None,
                paused_until=None,
            )
        except sqlite3.IntegrityError:
            raise UserError(f"that number now belongs to another open case: {case.ref} stays withdrawn") from None
        await cases.add_consent(tx, case.id, "checkins", True, "resubscribed", "idva", now)
        await sms.drop_resubscribe_request(tx, case.id)
        fresh = await cases.get(tx, case.id)
        nxt = await plan_next(tx, app, fresh, now)
        # A neutral line now only inside the survivor's safe times; otherwise the next check-in says hello.
        told = in_window(now, ZoneInfo(case.timezone), case.safe_windows)
        if told:
            await outbox.to_survivor(
                tx,
                app.crypto,
                case_id=case.id,
                channel=case.channel,
                address=address,
                language=case.language,
                timezone=case.timezone,
                message=to_message(Reply(R.RESUMED)),
                now=now,
            )
        await audit.log(tx, now, "manager", "case_resubscribed", case.id)
        await tx.commit()
    app.wake_dispatcher()
    when = nxt.isoformat() if nxt else "not scheduled: set one with `safecheck schedule set`"
    return f"{case.ref} active again; {'a neutral line is on its way; ' if told else ''}next check-in {when}"
