"""Planning the next check-in of a case: the schedule in the database, maths in flows.schedule."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flows.schedule import Schedule, default_schedule, next_due, parse_schedule, schedule_problems
from storage import schedules, services, timers
from storage.cases import Case
from storage.db import Tx


async def case_schedule(tx: Tx, case: Case) -> Schedule | None:
    stored = await schedules.get(tx, case.id)
    if stored is None:
        return await _service_default(tx, case) or default_schedule(case.safe_windows)
    return replace(parse_schedule(stored.spec), jitter_minutes=stored.jitter_minutes, anchor=stored.anchor)


async def plan_next(tx: Tx, rand: random.Random, case: Case, after: datetime) -> datetime | None:
    """Put the case's next check-in in the timers table (one pending at a time); return when."""
    schedule = await case_schedule(tx, case)
    if schedule is None:
        return None
    due = next_due(schedule, ZoneInfo(case.timezone), case.safe_windows, after, rand.random)
    if due is None:
        return None
    await timers.cancel(tx, after, case.id, ("checkin",))
    await timers.put(tx, "checkin", f"{case.id}:{due.slot}", due.at, case_id=case.id, payload={"slot": due.slot})
    return due.at


async def _service_default(tx: Tx, case: Case) -> Schedule | None:
    """The service's default schedule, if it has one that fits her safe times (else the built-in one does)."""
    service = await services.get(tx, case.service_id)
    if service.default_schedule is None:
        return None
    schedule = replace(parse_schedule(service.default_schedule), jitter_minutes=service.default_jitter)
    return None if schedule_problems(schedule, case.safe_windows) else schedule
