"""Words we do not read as an answer, screened for the codeword only: a caption, an edited message.

A survivor may write her codeword as a photo's caption, or edit it into a message she sent
earlier. Such words are not taken as an answer (an edit does not answer a question again), but
the codeword in them raises the urgent alert, silently, as it does anywhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot import alerting
from bot.app import App
from bot.pipeline import MAX_STORED_TEXT, InboundMessage, address_hash, looks_urgent, secrets_of
from safety.model import AlertReason, Severity
from safety.screening import screen
from storage import audit, cases, inbound, services
from storage.cases import Case
from storage.db import Tx

log = logging.getLogger("safecheck.pipeline")


@dataclass(frozen=True)
class Screened:
    message_id: int  # the inbound row, kept without its words
    case: Case | None
    codeword: bool


async def record_and_screen(tx: Tx, app: App, msg: InboundMessage, now: datetime) -> Screened | None:
    """Record the message once (None for a redelivery), find its case, and raise the urgent alert if
    its text holds the case's codeword: all in the caller's transaction. The words are not kept."""
    message_id = await inbound.record(tx, msg.channel, msg.provider_id, msg.received_at or now)
    if message_id is None:
        return None
    case = await cases.by_address(tx, msg.channel, address_hash(app, msg.channel, msg.address))
    await inbound.attach(tx, app.crypto, message_id, case.id if case else None, None)
    if case is None or not case.codeword_hash or not msg.text:
        return Screened(message_id, case, False)
    if not screen(msg.text[:MAX_STORED_TEXT], secrets_of(case), app.crypto.secret_hasher(case.salt)).codeword:
        return Screened(message_id, case, False)
    await audit.log(tx, now, "survivor", "codeword_received", case.id)
    service = await services.get(tx, case.service_id)
    await alerting.raise_alert(tx, service, case, Severity.URGENT, AlertReason.CODEWORD, now)
    return Screened(message_id, case, True)


async def screen_only(app: App, msg: InboundMessage) -> Screened | None:
    """Record and screen a message in a transaction of its own; None for a redelivery."""
    urgent = await looks_urgent(app, msg)  # a codeword jumps the writer's queue, as in the pipeline
    now = app.clock.now()
    async with app.db.transaction(urgent=urgent) as tx:
        screened = await record_and_screen(tx, app, msg, now)
        await tx.commit()
    if screened is not None and screened.codeword:
        log.info("codeword found outside an answer channel=%s", msg.channel)
        app.wake_dispatcher()
    return screened
