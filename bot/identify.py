"""Who sent an inbound message: a practitioner, a survivor's case, or nobody we know.

Found once per message, inside its unit of work, and handed on: nothing after this looks again.
"""

from __future__ import annotations

import logging

from bot.core import Core
from safety.model import SurvivorSecrets
from safety.screening import screen
from storage import cases, practitioners
from storage.cases import Case
from storage.db import Tx
from storage.practitioners import Practitioner

log = logging.getLogger("safecheck.pipeline")


def address_hash(core: Core, channel: str, address: str) -> bytes:
    return cases.address_lookup(core.crypto, channel, address)


def secrets_of(case: Case) -> SurvivorSecrets:
    return SurvivorSecrets(
        exit_word=case.exit_word_hash,
        codewords=frozenset({case.codeword_hash}) if case.codeword_hash else frozenset(),
        pin=case.pin_hash,
        duress_pin=case.duress_pin_hash,
    )


async def practitioner(tx: Tx, core: Core, channel: str, address: str) -> Practitioner | None:
    return await practitioners.by_address(tx, core.crypto, channel, address)


async def case(tx: Tx, core: Core, channel: str, address: str) -> Case | None:
    return await cases.by_address(tx, channel, address_hash(core, channel, address))


async def looks_urgent(core: Core, channel: str, address: str, text: str) -> bool:
    """A quick look on the read connection: a codeword or an exit word jumps the writer's queue.

    Worth it only while others wait for the writer: screening is pure and cheap, so under a burst of
    ordinary answers the message that matters most is not stuck behind them. The real screening
    runs again inside the unit of work.
    """
    if not text or not core.db.busy:
        return False
    try:
        async with core.db.reading() as tx:
            found = await case(tx, core, channel, address)
    except Exception as exc:  # only a priority hint: the message is still handled, in its turn
        log.warning("pre-screen read failed error=%s", type(exc).__name__)
        return False
    if found is None or not (found.codeword_hash or found.exit_word_hash):
        return False
    screened = screen(text, secrets_of(found), core.crypto.secret_hasher(found.salt))
    return screened.codeword or screened.quick_exit
