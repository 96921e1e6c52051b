"""The timer rules in flows/timers.py, table by table: catch-up after downtime, never stacking prompts,
reminders and how a check-in ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.schedule import parse_schedule, parse_windows
from flows.timers import MAX_CATCH_UP, CheckinDue, Ending, checkin_due, ending, remind, slots_passed

LONDON = ZoneInfo("Europe/London")
MORNINGS = parse_windows("09:00-12:00")
DAILY = parse_schedule("daily@10:00")
GRACE = timedelta(hours=2)


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def slot(day: int, month: int = 11) -> tuple[str, datetime]:
    """The daily 10:00 slot of a November (GMT) or October day."""
    return (f"2026-{month:02d}-{day:02d}T10:00", utc(day, 10 if month == 11 else 9, month=month))


# (name, fired at, passed slots, retry, conversation open, expected decision)
CHECKINS = [
    ("on time", utc(23, 10), [], False, False, CheckinDue((), slot(23), utc(23, 10), True)),
    ("late, still inside her window", utc(23, 11), [], False, False, CheckinDue((), slot(23), utc(23, 11), True)),
    (
        "late, her window is over",
        utc(23, 12, 30),
        [],
        False,
        False,
        CheckinDue((), slot(23), utc(23, 12, 30), False, "stale"),
    ),
    (
        "an answer still open: never stack prompts",
        utc(23, 10),
        [],
        False,
        True,
        CheckinDue((), slot(23), utc(23, 10), False, "open"),
    ),
    (
        "three days down: the earlier slots missed by the system, only the latest sent",
        utc(26, 10, 30),
        [slot(24), slot(25), slot(26)],
        False,
        False,
        CheckinDue((slot(23), slot(24), slot(25)), slot(26), utc(26, 10, 30), True),
    ),
    (
        "down past the latest slot's window: every slot missed by the system",
        utc(26, 13),
        [slot(24), slot(25), slot(26)],
        False,
        False,
        CheckinDue((slot(23), slot(24), slot(25)), slot(26), utc(26, 13), False, "stale"),
    ),
    (
        "a retry plans nothing and keeps its own slot",
        utc(23, 11),
        [slot(24)],
        True,
        False,
        CheckinDue((), slot(23), None, True),
    ),
    ("a stale retry", utc(23, 12, 1), [], True, False, CheckinDue((), slot(23), None, False, "stale")),
    (
        "fired early by jitter: the next is planned after the slot's own time",
        utc(23, 9, 50),
        [],
        False,
        False,
        CheckinDue((), slot(23), utc(23, 10), True),
    ),
]


@pytest.mark.parametrize(
    ("fired", "passed", "retry", "open_", "expected"), [row[1:] for row in CHECKINS], ids=[row[0] for row in CHECKINS]
)
def test_a_due_checkin(
    fired: datetime, passed: list[tuple[str, datetime]], retry: bool, open_: bool, expected: CheckinDue
) -> None:
    assert checkin_due(slot(23), fired, LONDON, MORNINGS, passed, retry=retry, conversation_open=open_) == expected


def test_slots_passed_during_downtime_are_every_due_slot_after_the_fired_one() -> None:
    assert slots_passed(DAILY, LONDON, MORNINGS, slot(23)[0], utc(26, 10, 30)) == [slot(24), slot(25), slot(26)]
    assert slots_passed(DAILY, LONDON, MORNINGS, slot(23)[0], utc(23, 11)) == []
    assert slots_passed(None, LONDON, MORNINGS, slot(23)[0], utc(26, 11)) == []  # no schedule: nothing to catch up


def test_slots_passed_across_the_clocks_going_back_keep_local_ten_oclock() -> None:
    passed = slots_passed(DAILY, LONDON, MORNINGS, "2026-10-24T10:00", utc(26, 10, 30, month=10))
    assert passed == [("2026-10-25T10:00", utc(25, 10, month=10)), ("2026-10-26T10:00", utc(26, 10, month=10))]


def test_catch_up_is_bounded_after_a_very_long_downtime() -> None:
    years_later = utc(23, 11) + timedelta(days=3 * 365)
    assert len(slots_passed(DAILY, LONDON, MORNINGS, slot(23)[0], years_later)) == MAX_CATCH_UP


# (name, now, started, expected)
REMINDERS = [
    ("inside her window, within grace", utc(23, 11), utc(23, 10), True),
    ("outside her safe times", utc(23, 13), utc(23, 12, 30), False),
    ("found after downtime, the check-in is over", utc(23, 11, 30), utc(23, 9, 0), False),
    ("no start recorded", utc(23, 11), None, True),
]


@pytest.mark.parametrize(("now", "started", "expected"), [r[1:] for r in REMINDERS], ids=[r[0] for r in REMINDERS])
def test_a_reminder(now: datetime, started: datetime | None, expected: bool) -> None:
    assert remind(now, LONDON, MORNINGS, started, GRACE) is expected


# (name, now, due at, started, delivered, answered, expected)
ENDINGS = [
    ("on time, nothing answered: hers to miss", utc(23, 12), utc(23, 12), utc(23, 10), True, 0, Ending.ASSESS),
    ("on time, partly answered", utc(23, 12), utc(23, 12), utc(23, 10), True, 2, Ending.ASSESS),
    ("never reached her phone", utc(23, 12), utc(23, 12), utc(23, 10), False, 0, Ending.UNDELIVERED),
    ("found after downtime, nothing recorded", utc(23, 15), utc(23, 12), utc(23, 10), True, 0, Ending.UNWATCHED),
    ("found after downtime, but she had answered", utc(23, 15), utc(23, 12), utc(23, 10), True, 3, Ending.ASSESS),
    ("no start recorded: nothing to have delivered", utc(23, 12), utc(23, 12), None, False, 0, Ending.ASSESS),
]


@pytest.mark.parametrize(
    ("now", "due_at", "started", "delivered", "answered", "expected"),
    [r[1:] for r in ENDINGS],
    ids=[r[0] for r in ENDINGS],
)
def test_how_a_checkin_ends(
    now: datetime, due_at: datetime, started: datetime | None, delivered: bool, answered: int, expected: Ending
) -> None:
    assert ending(now, due_at, started, delivered, answered) is expected
