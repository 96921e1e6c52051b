"""START after STOP: a withdrawn survivor asking for messages again.

Twilio lifts its own block when the person texts START (or UNSTOP, YES), but that is not consent to
Safecheck: the phone may not be in the survivor's hands. So nothing is sent until the IDVA has
checked with the survivor and runs `safecheck case resubscribe` (bot.commands.resubscribe), and only for
a case the service has not closed.
"""

from __future__ import annotations

from bot import alerting
from bot.app import App
from bot.pipeline import address_hash
from safety.model import AlertReason, Severity
from safety.normalise import normalise
from storage import audit, cases, services, sms

OPT_IN_WORDS = frozenset({"start", "unstop", "yes"})  # Twilio's words that lift its opt-out block


async def note_opt_in(app: App, channel: str, address: str, text: str) -> bool:
    """If a withdrawn survivor texted an opt-in word, record the request and tell the IDVA (once)."""
    if normalise(text) not in OPT_IN_WORDS:
        return False
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await cases.by_address(tx, channel, address_hash(app, channel, address))
        if case is None or case.status != "withdrawn":
            return False  # a stranger, a live case (YES is an answer there) or one closed by the service
        encrypted = app.crypto.encrypt(address, sms.RESUBSCRIBE_ADDRESS.at(case.id))
        if await sms.request_resubscribe(tx, case.id, encrypted, now):
            service = await services.get(tx, case.service_id)
            await alerting.raise_alert(tx, service, case, Severity.RAISED, AlertReason.RESUBSCRIBE_REQUESTED, now)
            await audit.log(tx, now, "survivor", "resubscribe_requested", case.id)
        await tx.commit()
    app.wake_dispatcher()
    return True
