"""Erasure on request: one case's personal data and everything written about her, by a manager in the
workspace or by the operator on the CLI. Audited as `case_erased` with the reason code only, and put on
record as a purge (counts and the reference, never personal data)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import App
from bot.commands.common import UserError, case_by_ref, operator
from storage import audit, erasure
from storage.db import Tx

# Why a case is erased on request: a fixed list, so neither the audit log nor the purge report holds free text.
REASONS = {
    "her_request": "She asked for her data to be erased (UK GDPR Article 17)",
    "not_needed": "No longer needed for the purpose it was collected for",
    "other": "Other (see the service's own records)",
}
LABELS = {**REASONS, erasure.RETENTION: "The service's retention period for closed cases ended"}


@dataclass(frozen=True)
class Erased:
    ref: str
    purge_id: int
    counts: dict[str, int]


def check_reason(reason: str) -> str:
    if reason not in REASONS:
        raise UserError(f"--reason must be one of {', '.join(REASONS)}")
    return reason


async def erase(app: App, svc: int, ref: str, reason: str, actor: str | None = None) -> Erased:
    """Erase the case's personal data at once (closing it first if it is open); one unit of work."""
    check_reason(reason)
    now = app.clock.now()
    who = actor or operator()

    async def unit(tx: Tx) -> Erased:
        case = await case_by_ref(tx, ref, svc)
        if case.erased_at is not None:  # a second erasure would rewrite when and why, and count her twice
            raise UserError(f"case {case.ref} is already erased ({case.erased_at:%Y-%m-%d})")
        counts = await erasure.erase_case(tx, case.id, now, reason)
        counts["cases_erased"] = 1
        purge_id = await erasure.record(tx, svc, now, "request", who, counts, [case.ref], reason)
        await audit.log(tx, now, who, "case_erased", case.id, f"reason={reason} purge={purge_id}", svc)
        await tx.commit()
        return Erased(case.ref, purge_id, counts)

    return await app.db.run(unit)
