"""What a due timer means for a survivor's check-ins: catch-up after downtime, reminders and expiry.

Pure rules, no I/O and no clock: bot/scheduler.py loads the facts, asks here, and carries out the
answer. The survivor never pays for the system's absence: a check-in the system could not send, or
whose end nobody was there to see, is "missed by the system", never missed by her.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from flows.events import SafeWindow
from flows.model import Expiry, Timeout
from flows.schedule import Schedule, in_window, next_due, slot_time, window_end

LATE = timedelta(minutes=2)  # a timer fired later than this was found after downtime
MAX_CATCH_UP = 400  # slots looked at after downtime: more than a year of daily check-ins

Slot = tuple[str, datetime]  # a schedule slot's name and when it was due


def slots_passed(
    schedule: Schedule | None, tz: ZoneInfo, windows: tuple[SafeWindow, ...], slot: str, now: datetime
) -> list[Slot]:
    """The schedule's slots after `slot` that are already due (bounded by MAX_CATCH_UP)."""
    if schedule is None:
        return []
    found: list[Slot] = []
    after = slot_time(slot, tz)
    while len(found) < MAX_CATCH_UP:
        due = next_due(schedule, tz, windows, after, lambda: 0.5)  # 0.5: no jitter
        if due is None or due.at > now:
            break
        found.append((due.slot, due.at))
        after = slot_time(due.slot, tz)
    return found


@dataclass(frozen=True)
class CheckinDue:
    """What to do with a due check-in timer."""

    missed_earlier: tuple[Slot, ...]  # slots that passed while the system was down: missed by the system
    slot: Slot  # the one slot still in play
    plan_after: datetime | None  # plan the next check-in after this (None: a retry plans nothing)
    start: bool  # send it now; if not, `slot` too is missed by the system
    # "stale" (its window is over), "outside" (not now in her safe times), "open" (never stack prompts)
    why_not: str | None = None


def checkin_due(
    slot: Slot,
    now: datetime,
    tz: ZoneInfo,
    windows: tuple[SafeWindow, ...],
    passed: list[Slot],
    *,
    retry: bool,
    conversation_open: bool,
) -> CheckinDue:
    """A check-in timer fired at `now`. `passed` are the schedule's later slots already due (ignored for
    a retry, which belongs to its own slot only)."""
    missed: tuple[Slot, ...] = ()
    plan_after = None
    if not retry:
        # After downtime several slots may have passed: each earlier one was missed by the system
        # (never by the survivor), and only the latest can still be sent.
        missed = tuple([slot, *passed][:-1])
        if passed:
            slot = passed[-1]
        plan_after = max(now, slot_time(slot[0], tz))  # after the slot's own time: jitter may fire it early
    due_at = slot[1]
    if now - due_at > LATE:
        end = window_end(due_at, tz, windows)
        if end is None or now >= end:
            return CheckinDue(missed, slot, plan_after, False, "stale")  # no stale prompts
    if windows and not in_window(now, tz, windows):
        # Her safe times are the only times a prompt may reach her phone: not a minute after they close
        # (a timer a little late at a window's end), nor after she or her IDVA changed them.
        return CheckinDue(missed, slot, plan_after, False, "outside")
    if conversation_open:
        return CheckinDue(missed, slot, plan_after, False, "open")  # never stack prompts
    return CheckinDue(missed, slot, plan_after, True)


def remind(
    now: datetime, tz: ZoneInfo, windows: tuple[SafeWindow, ...], started: datetime | None, grace: timedelta
) -> bool:
    """Whether a check-in's nudge goes now: only inside her safe times, and not once the check-in is
    over (a nudge found after downtime; its end will be recorded by its own timer)."""
    if not in_window(now, tz, windows):
        return False
    return started is None or now < started + grace


class Ending(str, Enum):
    ASSESS = "assess"  # the survivor's check-in ends as usual: missed by her, or assessed on what she said
    UNDELIVERED = "checkin_undelivered"  # it never reached her phone: missed by the system
    UNWATCHED = "checkin_unwatched"  # its end found after downtime, nothing recorded: missed by the system


def ending(now: datetime, due_at: datetime, started: datetime | None, delivered: bool, answered: int) -> Ending:
    """How a check-in whose expiry timer fired (at `now`, due at `due_at`) ends."""
    if started is not None and not delivered:
        return Ending.UNDELIVERED
    if now - due_at > LATE and answered == 0:
        # She may have answered while nobody was listening.
        return Ending.UNWATCHED
    return Ending.ASSESS


class Act(str, Enum):
    """What a check-in's reminder or expiry timer does when it fires."""

    SKIP = "skip"  # nothing is sent or recorded
    REMIND = "remind"  # the flow takes its Timeout: the nudge goes
    EXPIRE = "expire"  # the flow takes its Expiry: missed by her, or assessed on what she said
    UNDELIVERED = Ending.UNDELIVERED.value  # closed as missed by the system: it never reached her phone
    UNWATCHED = Ending.UNWATCHED.value  # closed as missed by the system: its end found after downtime


_ENDS = {Ending.ASSESS: Act.EXPIRE, Ending.UNDELIVERED: Act.UNDELIVERED, Ending.UNWATCHED: Act.UNWATCHED}


def conversation_timer(
    inp: Timeout | Expiry,
    now: datetime,
    due_at: datetime,
    tz: ZoneInfo,
    windows: tuple[SafeWindow, ...],
    grace: timedelta,
    *,
    checkin_open: bool,
    started: datetime | None,
    delivered: bool,
    answered: int,
) -> Act:
    """A reminder (Timeout) or expiry timer of the current conversation fired at `now`, due at `due_at`.

    `delivered`: whether anything reached her phone since `started`; read only for an expiry of a started check-in.
    """
    if isinstance(inp, Timeout):
        return Act.REMIND if remind(now, tz, windows, started, grace) else Act.SKIP
    if not checkin_open:
        return Act.EXPIRE  # no check-in to judge: the flow closes whatever it holds
    return _ENDS[ending(now, due_at, started, delivered, answered)]
