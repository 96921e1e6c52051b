"""What a due timer decides, table by table, from a real schedule and real safe windows: catch-up after downtime,
no stale prompts, never stacking prompts, retries, both clock changes, reminders and how a check-in ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.events import SafeWindow
from flows.model import Expiry, Timeout
from flows.schedule import Schedule, parse_schedule, parse_windows
from flows.timers import Act, CheckinDue, Slot, checkin_due, conversation_timer, slots_passed

LONDON = ZoneInfo("Europe/London")
MORNINGS = parse_windows("09:00-12:00")
TWICE = parse_windows("09:00-12:00,17:00-20:00")
NIGHT = parse_windows("00:00-03:00")
GRACE = timedelta(hours=2)


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def nov(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant in November 2026: London is on GMT, so UTC reads as her wall clock."""
    return at(11, day, hour, minute, second)


def s(key: str, due: datetime) -> Slot:
    return (key, due)


def ten(day: int) -> Slot:
    """The 10:00 slot of a November day."""
    return s(f"2026-11-{day:02d}T10:00", nov(day, 10))


@dataclass(frozen=True)
class Fired:
    """A check-in timer firing: the case's schedule and windows, the timer's slot, when it fired."""

    schedule: Schedule
    windows: tuple[SafeWindow, ...]
    slot: Slot
    now: datetime
    retry: bool = False
    open_: bool = False


def decide(fired: Fired) -> CheckinDue:
    """As bot/scheduler.py does: a retry belongs to its own slot, so it looks for no passed slots."""
    passed = [] if fired.retry else slots_passed(fired.schedule, LONDON, fired.windows, fired.slot[0], fired.now)
    return checkin_due(
        fired.slot, fired.now, LONDON, fired.windows, passed, retry=fired.retry, conversation_open=fired.open_
    )


DAILY = parse_schedule("daily@10:00")
WEEKDAYS = parse_schedule("weekdays@10:00")
TWICE_DAILY = parse_schedule("daily@10:00,17:30")
AT_NIGHT = parse_schedule("daily@01:30")  # 01:30 is in the spring gap and the autumn's repeated hour

# Autumn 2026: the clocks go back at 01:00 UTC on 25 October (02:00 BST becomes 01:00 GMT).
# Spring 2026: they go forward at 01:00 UTC on 29 March (01:00 GMT becomes 02:00 BST).
AUTUMN_SLOT = s("2026-10-25T01:30", at(10, 25, 0, 30))  # the first 01:30, still BST
SPRING_SLOT = s("2026-03-29T01:30", at(3, 29, 1, 30))  # 01:30 never shows: sent at 02:30 BST

# (name, the timer firing, expected decision)
CHECKINS = [
    ("on time", Fired(DAILY, MORNINGS, ten(23), nov(23, 10)), CheckinDue((), ten(23), nov(23, 10), True)),
    (
        "late, inside her window",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 11, 59)),
        CheckinDue((), ten(23), nov(23, 11, 59), True),
    ),
    (
        "late, at her window's end: no stale prompt",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 12)),
        CheckinDue((), ten(23), nov(23, 12), False, "stale"),
    ),
    (
        "late, past her window's end: no stale prompt",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 15)),
        CheckinDue((), ten(23), nov(23, 15), False, "stale"),
    ),
    (
        "late, her windows changed and no longer hold the slot: no stale prompt",
        Fired(DAILY, parse_windows("13:00-15:00"), ten(23), nov(23, 10, 5)),
        CheckinDue((), ten(23), nov(23, 10, 5), False, "stale"),
    ),
    (
        "a minute late, and her window closed in that minute: not sent outside her safe times",
        Fired(DAILY, parse_windows("09:00-10:01"), ten(23), nov(23, 10, 1, 30)),
        CheckinDue((), ten(23), nov(23, 10, 1, 30), False, "outside"),
    ),
    (
        "on time, but her windows changed since it was planned: not sent outside her safe times",
        Fired(DAILY, parse_windows("13:00-15:00"), ten(23), nov(23, 10)),
        CheckinDue((), ten(23), nov(23, 10), False, "outside"),
    ),
    (
        "fired early by jitter: the next is planned after the slot's own time",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 9, 40)),
        CheckinDue((), ten(23), nov(23, 10), True),
    ),
    (
        "three days down: each earlier slot missed by the system, only the latest sent",
        Fired(DAILY, MORNINGS, ten(22), nov(25, 10, 30)),
        CheckinDue((ten(22), ten(23), ten(24)), ten(25), nov(25, 10, 30), True),
    ),
    (
        "down until the very moment the latest slot is due: it is sent",
        Fired(DAILY, MORNINGS, ten(22), nov(25, 10)),
        CheckinDue((ten(22), ten(23), ten(24)), ten(25), nov(25, 10), True),
    ),
    (
        "down past the latest slot's window too: every slot missed by the system",
        Fired(DAILY, MORNINGS, ten(22), nov(25, 12, 30)),
        CheckinDue((ten(22), ten(23), ten(24)), ten(25), nov(25, 12, 30), False, "stale"),
    ),
    (
        "down over a weekend: days without check-ins are not missed",
        Fired(WEEKDAYS, MORNINGS, ten(20), nov(23, 10, 5)),  # Friday to Monday
        CheckinDue((ten(20),), ten(23), nov(23, 10, 5), True),
    ),
    (
        "down for a morning: the afternoon slot is sent late inside its own window",
        Fired(TWICE_DAILY, TWICE, ten(23), nov(23, 18)),
        CheckinDue((ten(23),), s("2026-11-23T17:30", nov(23, 17, 30)), nov(23, 18), True),
    ),
    (
        "down between the slots: the morning one is stale, the afternoon not yet due",
        Fired(TWICE_DAILY, TWICE, ten(23), nov(23, 16)),
        CheckinDue((), ten(23), nov(23, 16), False, "stale"),
    ),
    (
        "an answer still open: never stack prompts",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 10), open_=True),
        CheckinDue((), ten(23), nov(23, 10), False, "open"),
    ),
    (
        "an answer still open after downtime: the earlier slots and the latest all missed by the system",
        Fired(DAILY, MORNINGS, ten(22), nov(24, 10, 30), open_=True),
        CheckinDue((ten(22), ten(23)), ten(24), nov(24, 10, 30), False, "open"),
    ),
    (
        "a stale prompt is never sent, open conversation or not",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 13), open_=True),
        CheckinDue((), ten(23), nov(23, 13), False, "stale"),
    ),
    (
        "a retry on time is sent and plans nothing",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 10, 30), retry=True),
        CheckinDue((), ten(23), None, True),
    ),
    (
        "a retry found after downtime keeps its own slot: nothing else is marked, nothing planned",
        Fired(DAILY, MORNINGS, ten(23), nov(25, 10, 30), retry=True),
        CheckinDue((), ten(23), None, False, "stale"),
    ),
    (
        "a retry never stacks prompts either",
        Fired(DAILY, MORNINGS, ten(23), nov(23, 10, 30), retry=True, open_=True),
        CheckinDue((), ten(23), None, False, "open"),
    ),
    (
        "summer time: her window ends at 11:00 UTC",
        Fired(DAILY, MORNINGS, s("2026-10-24T10:00", at(10, 24, 9)), at(10, 24, 11)),
        CheckinDue((), s("2026-10-24T10:00", at(10, 24, 9)), at(10, 24, 11), False, "stale"),
    ),
    (
        "summer time: a 09:30 slot found late is judged on her wall clock, inside her window",
        Fired(parse_schedule("daily@09:30"), MORNINGS, s("2026-10-24T09:30", at(10, 24, 8, 30)), at(10, 24, 8, 40)),
        CheckinDue((), s("2026-10-24T09:30", at(10, 24, 8, 30)), at(10, 24, 8, 40), True),
    ),
    (
        "autumn: the repeated hour makes her night window an hour longer, so a late slot still goes",
        Fired(AT_NIGHT, NIGHT, AUTUMN_SLOT, at(10, 25, 2, 30)),  # 02:30 GMT, window ends 03:00 GMT
        CheckinDue((), AUTUMN_SLOT, at(10, 25, 2, 30), True),
    ),
    (
        "autumn: at 03:00 GMT her window is over",
        Fired(AT_NIGHT, NIGHT, AUTUMN_SLOT, at(10, 25, 3)),
        CheckinDue((), AUTUMN_SLOT, at(10, 25, 3), False, "stale"),
    ),
    (
        "spring: the slot in the gap is late but inside her window",
        Fired(AT_NIGHT, NIGHT, SPRING_SLOT, at(3, 29, 1, 55)),  # 02:55 BST
        CheckinDue((), SPRING_SLOT, at(3, 29, 1, 55), True),
    ),
    (
        "spring: the lost hour makes her window end at 02:00 UTC",
        Fired(AT_NIGHT, NIGHT, SPRING_SLOT, at(3, 29, 2)),  # 03:00 BST
        CheckinDue((), SPRING_SLOT, at(3, 29, 2), False, "stale"),
    ),
    (
        "down over the spring change: the day before is missed by the system, the gap's slot sent",
        Fired(AT_NIGHT, NIGHT, s("2026-03-28T01:30", at(3, 28, 1, 30)), at(3, 29, 1, 40)),
        CheckinDue((s("2026-03-28T01:30", at(3, 28, 1, 30)),), SPRING_SLOT, at(3, 29, 1, 40), True),
    ),
    (
        "down over the autumn change: local ten o'clock kept, an hour later in UTC",
        Fired(DAILY, MORNINGS, s("2026-10-24T10:00", at(10, 24, 9)), at(10, 25, 10, 5)),
        CheckinDue(
            (s("2026-10-24T10:00", at(10, 24, 9)),), s("2026-10-25T10:00", at(10, 25, 10)), at(10, 25, 10, 5), True
        ),
    ),
]


@pytest.mark.parametrize(("fired", "expected"), [r[1:] for r in CHECKINS], ids=[r[0] for r in CHECKINS])
def test_a_due_checkin_timer(fired: Fired, expected: CheckinDue) -> None:
    assert decide(fired) == expected


def test_catch_up_after_years_down_stops_at_the_bound_and_sends_nothing_stale() -> None:
    now = nov(23, 10, 30) + timedelta(days=3 * 365)
    due = decide(Fired(DAILY, MORNINGS, ten(23), now))
    last = nov(23, 10) + timedelta(days=400)  # the bound's slot (400 looked at), long before `now`
    assert len(due.missed_earlier) == 400  # the fired slot and the next 399
    assert due.missed_earlier[0] == ten(23)
    assert due.slot == (f"{last:%Y-%m-%d}T10:00", last)
    assert (due.start, due.why_not, due.plan_after) == (False, "stale", now)  # planning goes on from now


# (name, her windows, now, started, expected)
REMINDERS = [
    ("inside her window, within grace", MORNINGS, nov(23, 11), nov(23, 10), Act.REMIND),
    ("at the very start of her window", MORNINGS, nov(23, 9), nov(23, 8), Act.REMIND),
    ("at her window's end: outside her safe times", MORNINGS, nov(23, 12), nov(23, 11), Act.SKIP),
    ("outside her safe times", MORNINGS, nov(23, 13), nov(23, 12, 30), Act.SKIP),
    ("a minute before grace runs out", MORNINGS, nov(23, 11, 59), nov(23, 10), Act.REMIND),
    ("once grace has run out: the check-in is over", MORNINGS, nov(23, 11), nov(23, 9), Act.SKIP),
    ("found after downtime, long after grace", MORNINGS, nov(24, 10), nov(23, 10), Act.SKIP),
    ("no start recorded, inside her window", MORNINGS, nov(23, 11), None, Act.REMIND),
    ("no start recorded, outside her window", MORNINGS, nov(23, 8), None, Act.SKIP),
    ("autumn: 23:30 UTC is 00:30 BST, inside her night window", NIGHT, at(10, 24, 23, 30), at(10, 24, 23), Act.REMIND),
    ("spring: 02:30 UTC is 03:30 BST, past her night window", NIGHT, at(3, 29, 2, 30), at(3, 29, 1, 30), Act.SKIP),
]


@pytest.mark.parametrize(
    ("windows", "now", "started", "expected"), [r[1:] for r in REMINDERS], ids=[r[0] for r in REMINDERS]
)
def test_a_reminder_timer(
    windows: tuple[SafeWindow, ...], now: datetime, started: datetime | None, expected: Act
) -> None:
    act = conversation_timer(
        Timeout(), now, now, LONDON, windows, GRACE, checkin_open=True, started=started, delivered=True, answered=0
    )
    assert act is expected


def test_a_reminder_does_not_read_delivery() -> None:
    act = conversation_timer(
        Timeout(),
        nov(23, 11),
        nov(23, 11),
        LONDON,
        MORNINGS,
        GRACE,
        checkin_open=True,
        started=nov(23, 10),
        delivered=False,
        answered=0,
    )
    assert act is Act.REMIND


EXPIRES = nov(23, 12)
TWO_MINUTES = timedelta(minutes=2)  # later than this, an expiry was found after downtime

# (name, fired at, check-in open, started, delivered, answered, expected)
EXPIRIES = [
    ("on time, nothing answered: hers to miss", EXPIRES, True, nov(23, 10), True, 0, Act.EXPIRE),
    ("on time, partly answered: assessed", EXPIRES, True, nov(23, 10), True, 2, Act.EXPIRE),
    ("two minutes late: still watched", EXPIRES + TWO_MINUTES, True, nov(23, 10), True, 0, Act.EXPIRE),
    (
        "more than two minutes late, nothing recorded: unwatched",
        EXPIRES + TWO_MINUTES + timedelta(seconds=1),
        True,
        nov(23, 10),
        True,
        0,
        Act.UNWATCHED,
    ),
    ("found after downtime, nothing recorded: unwatched", nov(23, 15), True, nov(23, 10), True, 0, Act.UNWATCHED),
    ("found after downtime, but she had answered: assessed", nov(23, 15), True, nov(23, 10), True, 1, Act.EXPIRE),
    ("never reached her phone: undelivered", EXPIRES, True, nov(23, 10), False, 0, Act.UNDELIVERED),
    (
        "never reached her phone, found after downtime: undelivered",
        nov(23, 15),
        True,
        nov(23, 10),
        False,
        0,
        Act.UNDELIVERED,
    ),
    ("never reached her phone, yet answered: undelivered", EXPIRES, True, nov(23, 10), False, 2, Act.UNDELIVERED),
    ("no start recorded: nothing to have delivered", EXPIRES, True, None, False, 0, Act.EXPIRE),
    ("no check-in open: the flow closes what it holds", nov(23, 15), False, None, False, 0, Act.EXPIRE),
]


@pytest.mark.parametrize(
    ("now", "open_", "started", "delivered", "answered", "expected"),
    [r[1:] for r in EXPIRIES],
    ids=[r[0] for r in EXPIRIES],
)
def test_an_expiry_timer(
    now: datetime, open_: bool, started: datetime | None, delivered: bool, answered: int, expected: Act
) -> None:
    act = conversation_timer(
        Expiry(),
        now,
        EXPIRES,
        LONDON,
        MORNINGS,
        GRACE,
        checkin_open=open_,
        started=started,
        delivered=delivered,
        answered=answered,
    )
    assert act is expected


def test_the_system_s_misses_carry_their_audit_reason() -> None:
    assert (Act.UNDELIVERED.value, Act.UNWATCHED.value) == ("checkin_undelivered", "checkin_unwatched")
