"""Her exit word, codeword and PINs, set in person: the same rules and storage as the workspace screen.

For the operator's CLI (`safecheck case set-secrets`, reading stdin so no secret is ever an argument)
and for rehearsals; a survivor's own IDVA uses the workspace's screen on their device.
"""

from __future__ import annotations

from datetime import datetime

from bot.app import App
from bot.commands.common import UserError, case_by_ref, operator
from flows.onboarding import PAUSE_BY_KEY
from safety.secret_rules import FIELDS, ChosenSecrets, vet_in_person
from storage import audit, cases
from storage.db import Tx

PROBLEMS = {
    "mismatch": "the two entries differ",
    "empty": "is required",
    "needs_pin": "needs a first PIN",
    "same_as_other": "must differ from the other",
    "length": "must be 4 to 8 digits",
    "not_digits": "must be digits only",
    "too_long": "must be at most 4 words",
    "reserved": "is a word replies or commands use (like YES, STOP or a number)",
    "command": "is a command word",
}


async def set_in_person(
    app: App, svc: int, ref: str, chosen: dict[str, str], exit_pause: str = "1d", actor: str | None = None
) -> str:
    """Vet and store her four secrets (PINs optional); one line naming the first problem, nothing stored."""
    if exit_pause not in PAUSE_BY_KEY:
        raise UserError(f"--exit-pause must be one of {', '.join(PAUSE_BY_KEY)}")
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        if case.status in ("closed", "withdrawn"):
            raise UserError(f"case {case.ref} is {case.status}: it takes no new secrets")
        digests, problems = vet_in_person(chosen, chosen, app.crypto.secret_hasher(case.salt))
        if digests is None:
            field = next(name for name in FIELDS if name in problems)
            code = problems[field]
            raise UserError(f"{field.replace('_', ' ')}: {PROBLEMS.get(code, code.replace('_', ' '))}")
        pins = await store(tx, case.id, digests, exit_pause, actor or operator(), now)
        await tx.commit()
    return f"case {case.ref}: her words are set ({pins} PIN(s)); set-up on her phone will not ask for them"


async def store(tx: Tx, case_id: int, digests: ChosenSecrets, exit_pause: str, actor: str, now: datetime) -> int:
    """Store vetted digests as chosen in person, audited with the number of PINs only; return that number."""
    await cases.set_secrets_in_person(
        tx,
        case_id,
        exit_word=digests.exit_word,
        codeword=digests.codeword,
        pin=digests.pin,
        duress_pin=digests.duress_pin,
        exit_pause_minutes=int(PAUSE_BY_KEY[exit_pause].total_seconds() // 60),
        now=now,
    )
    pins = sum(d is not None for d in (digests.pin, digests.duress_pin))
    await audit.log(tx, now, actor, "secrets_set_in_person", case_id, f"pins={pins}")
    return pins
