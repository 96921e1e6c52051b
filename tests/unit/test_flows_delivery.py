"""When a survivor's message may go, and when a failed one is tried again: useful, and inside her safe times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.delivery import EXPIRED, MAX_BACKOFF, SEND, Timeliness, backoff, retry, timeliness
from flows.events import SafeWindow
from flows.schedule import next_window_start

LONDON = ZoneInfo("Europe/London")
MORNINGS = (SafeWindow(9 * 60, 12 * 60),)
MORNINGS_AND_EVENINGS = (SafeWindow(9 * 60, 12 * 60), SafeWindow(17 * 60, 21 * 60))


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # November: London is on UTC


@pytest.mark.parametrize(
    ("at", "windows", "expected"),
    [
        (utc(23, 10), MORNINGS, utc(23, 10)),  # inside: at once
        (utc(23, 12), MORNINGS, utc(24, 9)),  # the window has just closed: tomorrow morning
        (utc(23, 8, 59), MORNINGS, utc(23, 9)),
        (utc(23, 13), MORNINGS_AND_EVENINGS, utc(23, 17)),  # the evening window comes first
        (utc(23, 22), MORNINGS_AND_EVENINGS, utc(24, 9)),
        (utc(23, 22), (), None),
    ],
)
def test_next_window_start_is_the_first_safe_moment(
    at: datetime, windows: tuple[SafeWindow, ...], expected: datetime | None
) -> None:
    assert next_window_start(at, LONDON, windows) == expected


def test_next_window_start_crosses_the_spring_clock_change() -> None:
    # Saturday 28 March 2026 13:00 GMT: the next 09:00 London is Sunday 09:00 BST, 08:00 UTC.
    at = datetime(2026, 3, 28, 13, 0, tzinfo=UTC)
    assert next_window_start(at, LONDON, MORNINGS) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


CREATED = utc(23, 11, 0)
DAY_LATER = CREATED + timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (CREATED + timedelta(minutes=1), SEND),  # fresh: she has just written
        (utc(23, 13), SEND),  # no safe times known
        (DAY_LATER, EXPIRED),
    ],
)
def test_a_message_without_safe_times_goes_while_it_is_of_use(now: datetime, expected: Timeliness) -> None:
    assert timeliness(now, CREATED, DAY_LATER, LONDON, ()) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(23, 11, 1), SEND),  # fresh, inside
        (utc(23, 11, 30), SEND),  # waited, but inside her window
        (utc(23, 12, 30), Timeliness(wait_until=utc(24, 9))),  # waited, outside: next morning
        (utc(24, 10), SEND),
        (utc(24, 11, 0), EXPIRED),  # a day old
    ],
)
def test_a_message_that_had_to_wait_goes_only_inside_her_safe_times(now: datetime, expected: Timeliness) -> None:
    assert timeliness(now, CREATED, DAY_LATER, LONDON, MORNINGS) == expected


def test_a_fresh_reply_goes_at_once_even_outside_her_safe_times_since_she_has_just_written() -> None:
    written = utc(23, 22, 30)
    assert timeliness(written + timedelta(minutes=1), written, written + timedelta(days=1), LONDON, MORNINGS) == SEND


def test_a_message_that_would_wait_past_its_end_expires_instead() -> None:
    checkin_end = utc(23, 14)  # a check-in question: of use until its check-in ends
    assert timeliness(utc(23, 12, 30), CREATED, checkin_end, LONDON, MORNINGS) == EXPIRED


@pytest.mark.parametrize(
    ("attempts", "retry_after", "expected"),
    [
        (0, None, timedelta(seconds=1)),
        (3, None, timedelta(seconds=8)),
        (40, None, MAX_BACKOFF),
        (1, 30.0, timedelta(seconds=30)),
        (1, 9999.0, MAX_BACKOFF),
    ],
)
def test_backoff_grows_and_is_capped(attempts: int, retry_after: float | None, expected: timedelta) -> None:
    assert backoff(attempts, retry_after) == expected


def test_a_retry_that_would_fall_outside_her_safe_times_waits_for_the_next_window() -> None:
    assert retry(utc(23, 11, 58), 10, None, DAY_LATER, LONDON, MORNINGS) == Timeliness(wait_until=utc(24, 9))
    assert retry(utc(23, 10), 0, None, DAY_LATER, LONDON, MORNINGS) == Timeliness(
        wait_until=utc(23, 10, 0) + timedelta(seconds=1)
    )


def test_a_retry_past_the_messages_end_is_not_made() -> None:
    assert retry(utc(24, 10, 58), 10, None, DAY_LATER, LONDON, MORNINGS).expired
