"""Schedule commands: set a case's check-in schedule (checked against its safe times) and show it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import App
from bot.commands.common import UserError, case_by_ref, operator
from bot.planning import plan_next
from flows.schedule import Schedule, parse_schedule, schedule_problems
from storage import audit, schedules, timers


def interval_anchor(schedule: Schedule, local_now: datetime) -> date:
    """An "every N days" schedule starts today if one of its times is still ahead, else tomorrow."""
    if any(t > local_now.time() for t in schedule.times):
        return local_now.date()
    return local_now.date() + timedelta(days=1)


def check_schedule(spec: str, jitter: int, jitter_name: str = "--jitter") -> Schedule:
    """A schedule as `schedule set` takes it (DAYS@TIMES), with its jitter; ScheduleError or UserError."""
    if not 0 <= jitter <= 120:
        raise UserError(f"{jitter_name} must be between 0 and 120 minutes")
    return replace(parse_schedule(spec), jitter_minutes=jitter)


async def set_schedule(app: App, svc: int, ref: str, spec: str, jitter: int = 0, actor: str | None = None) -> str:
    schedule = check_schedule(spec, jitter)
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        if case.safe_windows:
            problems = schedule_problems(schedule, case.safe_windows)
            if problems:
                raise UserError(f"schedule does not fit the survivor's safe times: {problems[0]}")
        local_now = now.astimezone(ZoneInfo(case.timezone))
        anchor = interval_anchor(schedule, local_now) if schedule.kind == "interval" else None
        await schedules.put(tx, case.id, schedules.StoredSchedule(spec, jitter, anchor), now)
        nxt = await plan_next(tx, app.rand, case, now) if case.status == "active" else None
        # Her days and times say when it is safe to reach her: the log keeps only the kind of schedule.
        await audit.log(tx, now, actor or operator(), "schedule_set", case.id, f"kind={schedule.kind} jitter={jitter}")
        await tx.commit()
    return f"{case.ref} schedule {spec!r}; next check-in {nxt.isoformat() if nxt else 'after onboarding'}"


async def show_schedule(app: App, svc: int, ref: str) -> dict[str, Any]:
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        stored = await schedules.get(tx, case.id)
        nxt = await timers.pending_for_case(tx, case.id, "checkin")
    return {
        "ref": case.ref,
        "spec": stored.spec if stored else None,
        "jitter_minutes": stored.jitter_minutes if stored else 0,
        "timezone": case.timezone,
        "safe_windows": [str(w) for w in case.safe_windows],
        "next_checkin": nxt[0].due_at.isoformat() if nxt else None,
    }
