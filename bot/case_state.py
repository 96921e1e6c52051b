"""Pausing and resuming a case: one implementation for the survivor, the practitioner and the timers."""

from __future__ import annotations

import random
from datetime import datetime

from bot.planning import plan_next
from storage import cases, timers
from storage.cases import Case
from storage.db import Tx


async def pause(tx: Tx, case_id: int, until: datetime, now: datetime) -> None:
    """No check-ins and no nudges until `until`; an open check-in may still be finished, and still expires."""
    await cases.update(tx, case_id, status="paused", paused_until=until)
    await timers.cancel(tx, now, case_id, ("checkin", "resume", "reminder"))
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
