"""Pausing, resuming and closing a case: one implementation for the survivor, the practitioner (CLI and
workspace) and the timers."""

from __future__ import annotations

import random
from datetime import datetime

from bot.planning import plan_next
from safety.closure_outcomes import CLOSE_REASONS, Outcome
from storage import cases, outcomes, timers
from storage.cases import Case
from storage.db import Tx


class CannotChange(Exception):
    """The case's status does not allow this change: one line saying why."""


async def pause(tx: Tx, case_id: int, until: datetime | None, now: datetime) -> None:
    """No check-ins and no nudges until `until` (None: until someone resumes it); an open check-in may
    still be finished, and still expires."""
    await cases.update(tx, case_id, status="paused", paused_until=until)
    await timers.cancel(tx, now, case_id, ("checkin", "resume", "reminder"))
    if until is not None:
        await timers.add(tx, "resume", f"{case_id}:{until.isoformat()}", until, case_id=case_id)


async def resume(tx: Tx, rand: random.Random, case: Case, now: datetime) -> datetime | None:
    """Back to active with the next check-in planned; returns when. Only a paused case resumes.

    A case paused before its set-up was finished goes back to set-up, which goes on when she writes.
    """
    if case.status != "paused":
        return None
    await cases.update(tx, case.id, status="active" if case.onboarded_at else "onboarding", paused_until=None)
    await timers.cancel(tx, now, case.id, ("resume",))
    return await plan_next(tx, rand, case, now) if case.onboarded_at else None


def _still_open(case: Case, action: str) -> None:
    if case.status in ("closed", "withdrawn"):
        raise CannotChange(f"case {case.ref} is {case.status}: nothing to {action}")


# Why a practitioner paused or resumed check-ins: fixed lists, like closing's (safety/closure_outcomes.py),
# so the audit log holds no free text (a note can say more).
PAUSE_REASONS = {
    "her_request": "She asked for a break",
    "safe_place": "She is in a refuge or other safe place",
    "away": "She is away or in hospital",
    "phone_unsafe": "Her phone may not be safe to message",
    "other": "Other (see notes)",
}
RESUME_REASONS = {
    "her_request": "She asked to start again",
    "break_over": "The reason for the pause is over",
    "other": "Other (see notes)",
}


async def pause_by_practitioner(
    tx: Tx, case: Case, until: datetime | None, now: datetime, reason: str | None = None
) -> str:
    """A practitioner pauses check-ins; returns the audit detail (status before and after, and why)."""
    if reason is not None and reason not in PAUSE_REASONS:
        raise CannotChange("choose a reason for the pause from the list")
    _still_open(case, "pause")
    if case.status not in ("active", "paused"):
        raise CannotChange(f"case {case.ref} is {case.status}: only a case with check-ins under way can pause")
    await pause(tx, case.id, until, now)
    after = until.isoformat() if until else "resumed"
    return f"status={case.status}->paused until={after}" + (f" reason={reason}" if reason else "")


async def resume_by_practitioner(
    tx: Tx, rand: random.Random, case: Case, now: datetime, reason: str | None = None
) -> tuple[datetime | None, str]:
    """A practitioner resumes a paused case; returns the next check-in and the audit detail."""
    if reason is not None and reason not in RESUME_REASONS:
        raise CannotChange("choose a reason for resuming from the list")
    _still_open(case, "resume")
    if case.status != "paused":
        raise CannotChange(f"case {case.ref} is {case.status}, not paused: nothing to resume")
    nxt = await resume(tx, rand, case, now)
    detail = f"status=paused->{'active' if case.onboarded_at else 'onboarding'}"
    return nxt, detail + (f" reason={reason}" if reason else "")


async def close(
    tx: Tx, case: Case, now: datetime, reason: str | None = None, outcome: Outcome | None = None, by: int | None = None
) -> str:
    """End a case on the service's side: nothing more is sent or planned; returns the audit detail.

    From the workspace the IDVA records the outcome at closure (`outcome`, by practitioner `by`), stored
    in this same unit; the CLI closes without one, and the report counts that case as not recorded."""
    if outcome is not None:
        reason = outcome.close_reason
    if reason is not None and reason not in CLOSE_REASONS:
        raise CannotChange("choose a reason for closing the case from the list")
    _still_open(case, "close")
    await cases.close(tx, case.id, now)
    detail = f"status={case.status}->closed" + (f" reason={reason}" if reason else "")
    if outcome is not None:
        if by is None:
            raise ValueError("an outcome is recorded by a practitioner")
        await outcomes.record(tx, case.id, outcome, by, now)
        detail += " " + outcome.detail()
    return detail
