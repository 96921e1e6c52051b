"""Check-ins fall due on schedule, inside safe windows, once per slot, across both clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.events import SafeWindow
from flows.schedule import (
    DAY_MINUTES,
    Due,
    Schedule,
    ScheduleError,
    in_window,
    next_due,
    parse_schedule,
    parse_windows,
    schedule_problems,
    slot_time,
    window_end,
)

LONDON = ZoneInfo("Europe/London")
NIGHT = parse_windows("00:00-03:00")
DAYTIME = parse_windows("09:00-12:00,17:00-20:00")


def middle() -> float:
    return 0.5  # no jitter


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# ---- parsing ----

SCHEDULES = [
    ("mon,wed,fri@10:00", Schedule("weekly", (time(10),), frozenset({0, 2, 4}))),
    ("Mon, Wed , FRI @ 10:00", Schedule("weekly", (time(10),), frozenset({0, 2, 4}))),
    ("daily@10:00,18:30", Schedule("weekly", (time(10), time(18, 30)))),
    ("daily@18:30,10:00", Schedule("weekly", (time(10), time(18, 30)))),
    ("weekdays@09:30", Schedule("weekly", (time(9, 30),), frozenset(range(5)))),
    ("weekends@9:30", Schedule("weekly", (time(9, 30),), frozenset({5, 6}))),
    ("mon-fri@09:30", Schedule("weekly", (time(9, 30),), frozenset(range(5)))),
    ("fri-mon@09:30", Schedule("weekly", (time(9, 30),), frozenset({4, 5, 6, 0}))),
    ("tuesday,thursday@17:00", Schedule("weekly", (time(17),), frozenset({1, 3}))),
    ("every 3 days@10:00", Schedule("interval", (time(10),), every_days=3)),
    ("every 1 day@10:00", Schedule("interval", (time(10),), every_days=1)),
]


@pytest.mark.parametrize(("spec", "expected"), SCHEDULES)
def test_a_schedule_spec_parses(spec: str, expected: Schedule) -> None:
    assert parse_schedule(spec) == expected


BAD_SCHEDULES = [
    ("", "DAYS@HH:MM"),
    ("daily", "DAYS@HH:MM"),
    ("@10:00", "DAYS@HH:MM"),
    ("daily@", "DAYS@HH:MM"),
    ("funday@10:00", "bad day 'funday'"),
    ("mon,,wed@10:00", "bad day ''"),
    ("daily@25:00", "bad time '25:00'"),
    ("daily@10", "bad time '10'"),
    ("daily@24:00", "bad time '24:00'"),
    ("daily@10:00,10:00", "listed twice"),
    ("every 0 days@10:00", "every N days"),
    ("every 400 days@10:00", "every N days"),
]


@pytest.mark.parametrize(("spec", "fragment"), BAD_SCHEDULES)
def test_a_bad_schedule_spec_is_one_clear_line(spec: str, fragment: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(spec)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_safe_windows_parse_sorted() -> None:
    assert parse_windows("17:00-20:00, 09:00-12:00") == (SafeWindow(540, 720), SafeWindow(1020, 1200))
    assert parse_windows("20:00-24:00") == (SafeWindow(1200, 1440),)
    assert parse_windows("09:00-12:00,12:00-13:00") == (SafeWindow(540, 720), SafeWindow(720, 780))


BAD_WINDOWS = [
    ("", "no safe windows"),
    ("   ", "no safe windows"),
    ("any", "HH:MM-HH:MM"),
    ("09:00", "HH:MM-HH:MM"),
    ("12:00-09:00", "must end after it starts"),
    ("22:00-02:00", "crosses midnight"),
    ("09:00-09:00", "must end after it starts"),
    ("09:00-12:00,11:00-13:00", "overlap"),
    ("09:00-25:00", "bad time '25:00'"),
    ("24:00-24:00", "bad time '24:00'"),
]


@pytest.mark.parametrize(("spec", "fragment"), BAD_WINDOWS)
def test_bad_safe_windows_are_one_clear_line(spec: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        parse_windows(spec)


def test_a_schedule_refuses_impossible_values() -> None:
    with pytest.raises(ScheduleError):
        Schedule("weekly", ())
    with pytest.raises(ScheduleError):
        Schedule("weekly", (time(10),), frozenset({7}))
    with pytest.raises(ScheduleError):
        Schedule("weekly", (time(10),), jitter_minutes=-1)
    with pytest.raises(ScheduleError):
        Schedule("interval", (time(10),), every_days=0)


# ---- problems ----


def test_a_schedule_inside_its_windows_has_no_problems() -> None:
    assert schedule_problems(parse_schedule("daily@10:00,18:30"), DAYTIME) == []


def test_a_time_outside_every_window_is_a_problem() -> None:
    problems = schedule_problems(parse_schedule("daily@10:00,13:00"), DAYTIME)
    assert len(problems) == 1
    assert "13:00 is outside every safe window" in problems[0]


def test_jitter_that_would_leave_the_window_is_a_problem() -> None:
    schedule = Schedule("weekly", (time(9, 10), time(10, 30)), jitter_minutes=20)
    problems = schedule_problems(schedule, DAYTIME)
    assert len(problems) == 1
    assert "09:10" in problems[0] and "09:00-12:00" in problems[0]


def test_no_windows_at_all_is_a_problem() -> None:
    assert schedule_problems(parse_schedule("daily@10:00"), ()) != []


# ---- next_due ----


def test_weekly_check_in_falls_on_the_next_listed_day_in_local_time() -> None:
    schedule = parse_schedule("mon,wed,fri@10:00")
    due = next_due(schedule, LONDON, DAYTIME, utc(2026, 6, 2, 12), middle)  # a Tuesday
    assert due == Due(at=utc(2026, 6, 3, 9), slot="2026-06-03T10:00")  # 10:00 BST


def test_the_slot_at_exactly_after_is_not_due_again() -> None:
    schedule = parse_schedule("daily@10:00")
    due = next_due(schedule, LONDON, DAYTIME, utc(2026, 6, 3, 9), middle)
    assert due is not None and due.slot == "2026-06-04T10:00"


def test_later_times_on_the_same_day_come_first() -> None:
    schedule = parse_schedule("daily@10:00,18:30")
    due = next_due(schedule, LONDON, DAYTIME, utc(2026, 1, 5, 10, 30), middle)
    assert due == Due(at=utc(2026, 1, 5, 18, 30), slot="2026-01-05T18:30")  # GMT in winter


def test_interval_check_in_counts_from_its_anchor() -> None:
    schedule = Schedule("interval", (time(10),), every_days=3, anchor=date(2026, 6, 1))
    due = next_due(schedule, LONDON, DAYTIME, utc(2026, 6, 1, 12), middle)
    assert due is not None and due.slot == "2026-06-04T10:00"
    assert next_due(schedule, LONDON, DAYTIME, utc(2026, 5, 1), middle) == Due(utc(2026, 6, 1, 9), "2026-06-01T10:00")


def test_interval_without_anchor_counts_from_a_fixed_epoch() -> None:
    schedule = parse_schedule("every 3 days@10:00")
    due = next_due(schedule, LONDON, DAYTIME, utc(2026, 6, 1, 12), middle)
    # 2026-06-01 is 1 day past a multiple of 3 days from 1970-01-01.
    assert due is not None and due.slot == "2026-06-03T10:00"


def test_a_time_outside_every_safe_window_is_never_due() -> None:
    schedule = parse_schedule("daily@08:00,10:00")
    due = next_due(schedule, LONDON, DAYTIME, utc(2026, 6, 1, 0), middle)
    assert due is not None and due.slot == "2026-06-01T10:00"


def test_nothing_is_due_when_no_time_is_ever_inside_a_window() -> None:
    assert next_due(parse_schedule("daily@13:00"), LONDON, DAYTIME, utc(2026, 6, 1), middle) is None


def test_nothing_is_due_beyond_the_search_horizon() -> None:
    schedule = Schedule("interval", (time(10),), every_days=3, anchor=date(2028, 1, 1))
    assert next_due(schedule, LONDON, DAYTIME, utc(2026, 6, 1), middle) is None


def test_after_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_due(parse_schedule("daily@10:00"), LONDON, DAYTIME, datetime(2026, 6, 1), middle)


# ---- jitter ----

JITTER = [
    # (time, jitter, rand, expected local time of `at`)
    (time(10), 20, 0.0, datetime(2026, 6, 3, 9, 40)),
    (time(10), 20, 0.5, datetime(2026, 6, 3, 10, 0)),
    (time(10), 20, 0.75, datetime(2026, 6, 3, 10, 10)),
    (time(9, 5), 30, 0.0, datetime(2026, 6, 3, 9, 0)),  # held at the window's start
    (time(11, 50), 30, 0.999, datetime(2026, 6, 3, 11, 59, 59)),  # held just inside its end
]


@pytest.mark.parametrize(("at", "jitter", "rand", "expected"), JITTER)
def test_jitter_moves_a_check_in_but_never_out_of_its_window(
    at: time, jitter: int, rand: float, expected: datetime
) -> None:
    schedule = Schedule("weekly", (at,), jitter_minutes=jitter)
    due = next_due(schedule, LONDON, DAYTIME, utc(2026, 6, 2, 20), lambda: rand)
    assert due is not None
    assert due.at == expected.replace(tzinfo=LONDON).astimezone(UTC)
    assert due.at.tzinfo is UTC
    assert due.slot == f"2026-06-03T{at:%H:%M}"


def test_jitter_never_moves_a_check_in_to_before_after() -> None:
    schedule = Schedule("weekly", (time(10),), jitter_minutes=30)
    after = utc(2026, 6, 3, 8, 58)  # 09:58 BST, two minutes before the slot
    due = next_due(schedule, LONDON, DAYTIME, after, lambda: 0.0)
    assert due is not None and due.at == after + timedelta(seconds=1)


def test_chaining_from_the_slot_never_repeats_a_slot_despite_jitter() -> None:
    schedule = Schedule("weekly", (time(10), time(18)), jitter_minutes=45)
    draws = iter([0.0, 0.99] * 20)
    after = utc(2026, 6, 1)
    slots = []
    for _ in range(20):
        due = next_due(schedule, LONDON, DAYTIME, after, lambda: next(draws))
        assert due is not None and in_window(due.at, LONDON, DAYTIME)
        slots.append(due.slot)
        after = slot_time(due.slot, LONDON)
    assert len(set(slots)) == 20
    assert slots[:3] == ["2026-06-01T10:00", "2026-06-01T18:00", "2026-06-02T10:00"]


# ---- clock changes in Europe/London, 2026 ----


def test_spring_gap_time_moves_forward_by_the_gap_and_is_due_once() -> None:
    # 29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 does not exist that night.
    schedule = parse_schedule("daily@01:30")
    dues = []
    after = utc(2026, 3, 27, 12)
    for _ in range(3):
        due = next_due(schedule, LONDON, NIGHT, after, middle)
        assert due is not None
        dues.append(due)
        after = due.at
    assert dues == [
        Due(at=utc(2026, 3, 28, 1, 30), slot="2026-03-28T01:30"),  # 01:30 GMT
        Due(at=utc(2026, 3, 29, 1, 30), slot="2026-03-29T01:30"),  # sent at 02:30 BST
        Due(at=utc(2026, 3, 30, 0, 30), slot="2026-03-30T01:30"),  # 01:30 BST
    ]


def test_spring_gap_time_pushed_out_of_its_window_is_skipped() -> None:
    schedule = parse_schedule("daily@01:30")
    due = next_due(schedule, LONDON, parse_windows("01:00-02:00"), utc(2026, 3, 28, 12), middle)
    assert due == Due(at=utc(2026, 3, 30, 0, 30), slot="2026-03-30T01:30")


def test_autumn_repeated_hour_is_due_once_at_its_first_occurrence() -> None:
    # 25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice.
    schedule = parse_schedule("daily@01:30")
    due = next_due(schedule, LONDON, NIGHT, utc(2026, 10, 24, 12), middle)
    assert due == Due(at=utc(2026, 10, 25, 0, 30), slot="2026-10-25T01:30")


@pytest.mark.parametrize("after", [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 29)])
def test_autumn_repeated_hour_is_not_due_a_second_time(after: datetime) -> None:
    schedule = parse_schedule("daily@01:30")
    due = next_due(schedule, LONDON, NIGHT, after, middle)
    assert due == Due(at=utc(2026, 10, 26, 1, 30), slot="2026-10-26T01:30")


def test_chaining_through_autumn_never_returns_the_repeated_hours_second_occurrence() -> None:
    schedule = parse_schedule("daily@01:15,01:45")
    after = utc(2026, 10, 22)
    seen: list[Due] = []
    for _ in range(14):  # 22 to 28 October, two a night
        due = next_due(schedule, LONDON, NIGHT, after, middle)
        assert due is not None
        seen.append(due)
        after = due.at
    assert utc(2026, 10, 25, 1, 15) not in [d.at for d in seen]
    assert utc(2026, 10, 25, 1, 45) not in [d.at for d in seen]
    assert [d.at for d in seen if d.slot.startswith("2026-10-25")] == [
        utc(2026, 10, 25, 0, 15),
        utc(2026, 10, 25, 0, 45),
    ]
    assert len({d.slot for d in seen}) == 14
    assert seen[-1].slot == "2026-10-28T01:45"


def test_slot_time_is_the_nominal_instant_of_a_slot() -> None:
    assert slot_time("2026-10-25T01:30", LONDON) == utc(2026, 10, 25, 0, 30)
    assert slot_time("2026-03-29T01:30", LONDON) == utc(2026, 3, 29, 1, 30)
    assert slot_time("2026-06-03T10:00", LONDON) == utc(2026, 6, 3, 9)


# ---- windows at a given instant ----


def test_window_end_is_when_the_current_window_closes() -> None:
    assert window_end(utc(2026, 6, 3, 9, 30), LONDON, DAYTIME) == utc(2026, 6, 3, 11)  # 10:30 -> 12:00 BST
    assert window_end(utc(2026, 1, 5, 19, 59, 59), LONDON, DAYTIME) == utc(2026, 1, 5, 20)


def test_window_end_is_none_outside_every_window() -> None:
    assert window_end(utc(2026, 6, 3, 11), LONDON, DAYTIME) is None  # 12:00 BST: the window has closed
    assert window_end(utc(2026, 6, 3, 7, 59), LONDON, DAYTIME) is None  # 08:59 BST


def test_a_window_ending_at_midnight_ends_at_the_next_local_day() -> None:
    late = parse_windows("20:00-24:00")
    assert window_end(utc(2026, 6, 3, 21), LONDON, late) == utc(2026, 6, 3, 23)  # 00:00 BST on the 4th


def test_window_end_in_the_repeated_hour_follows_the_occurrence_we_are_in() -> None:
    windows = parse_windows("01:00-01:45")
    assert window_end(utc(2026, 10, 25, 0, 30), LONDON, windows) == utc(2026, 10, 25, 0, 45)  # first, BST
    assert window_end(utc(2026, 10, 25, 1, 30), LONDON, windows) == utc(2026, 10, 25, 1, 45)  # second, GMT


def test_a_window_ending_inside_the_spring_gap_ends_when_the_clocks_jump() -> None:
    # 29 March 2026: at 01:00 GMT the wall clock jumps to 02:00 BST, past the 01:30 end.
    windows = parse_windows("00:00-01:30")
    assert window_end(utc(2026, 3, 29, 0, 45), LONDON, windows) == utc(2026, 3, 29, 1, 0)
    assert not in_window(utc(2026, 3, 29, 1, 0), LONDON, windows)


def test_jitter_never_crosses_a_window_edge_inside_the_spring_gap() -> None:
    schedule = Schedule("weekly", (time(0, 50),), jitter_minutes=60)
    windows = parse_windows("00:00-01:30")
    due = next_due(schedule, LONDON, windows, utc(2026, 3, 28, 12), lambda: 0.999)
    assert due == Due(at=utc(2026, 3, 29, 0, 59, 59), slot="2026-03-29T00:50")
    assert in_window(due.at, LONDON, windows)


def test_in_window_reads_the_local_wall_clock() -> None:
    assert in_window(utc(2026, 6, 3, 8), LONDON, DAYTIME)  # 09:00 BST
    assert not in_window(utc(2026, 1, 5, 8), LONDON, DAYTIME)  # 08:00 GMT
    assert not in_window(utc(2026, 6, 3, 8), LONDON, ())


@settings(max_examples=300)
@given(
    after=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.lists(st.integers(0, DAY_MINUTES - 1), min_size=1, max_size=4, unique=True),
    jitter=st.integers(0, 90),
    rand=st.floats(0, 1, exclude_max=True),
)
def test_a_due_check_in_is_always_inside_a_window_after_after_and_after_its_slot(
    after: datetime, minutes: list[int], jitter: int, rand: float
) -> None:
    schedule = Schedule("weekly", tuple(time(m // 60, m % 60) for m in minutes), jitter_minutes=jitter)
    windows = parse_windows("00:30-02:30,09:00-12:00,17:00-20:00")
    due = next_due(schedule, LONDON, windows, after, lambda: rand)
    if due is None:
        assert all(not any(w.contains(m) for w in windows) for m in minutes)
        return
    assert due.at > after
    assert in_window(due.at, LONDON, windows)
    assert slot_time(due.slot, LONDON) > after
    assert abs(due.at - slot_time(due.slot, LONDON)) <= timedelta(minutes=jitter)
    again = next_due(schedule, LONDON, windows, slot_time(due.slot, LONDON), lambda: rand)
    assert again is not None and again.slot > due.slot
