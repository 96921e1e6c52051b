"""Words we do not read as an answer, screened for the codeword only: a caption, an edited message.

A survivor may write her codeword as a photo's caption, or edit it into a message she sent
earlier. Such words are not taken as an answer (an edit does not answer a question again), but
the codeword in them raises the urgent alert, silently, as it does anywhere else.
"""

from __future__ import annotations

from datetime import datetime

from bot import alerting
from bot.core import Core
from bot.identify import secrets_of
from bot.inbound import MAX_STORED_TEXT
from safety.model import AlertReason, Severity
from safety.screening import screen
from storage import audit, inbound, services
from storage.cases import Case
from storage.db import Tx


async def screen_in_unit(tx: Tx, core: Core, message_id: int, case: Case | None, words: str, now: datetime) -> bool:
    """Tie the recorded message to its case without its words, and raise the urgent alert if the words
    hold the case's codeword; in the message's unit of work. Returns whether they did."""
    await inbound.attach(tx, core.crypto, message_id, case.id if case else None, None)
    if case is None or not case.codeword_hash or not words:
        return False
    if not screen(words[:MAX_STORED_TEXT], secrets_of(case), core.crypto.secret_hasher(case.salt)).codeword:
        return False
    await audit.log(tx, now, "survivor", "codeword_received", case.id)
    service = await services.get(tx, case.service_id)
    await alerting.raise_alert(tx, service, case, Severity.URGENT, AlertReason.CODEWORD, now, crypto=core.crypto)
    return True
