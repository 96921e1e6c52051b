"""Check-in schedules: parse them, check them against safe windows, and work out when one is due.

Pure scheduling maths: the caller passes the time zone, the current instant and the random source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from flows.events import SafeWindow

SEARCH_DAYS = 400  # more than a year, so a schedule that is due rarely still finds its slot
MAX_EVERY_DAYS = 90
DAY_MINUTES = 24 * 60

ALL_DAYS: frozenset[int] = frozenset(range(7))
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_SETS = {"daily": ALL_DAYS, "weekdays": frozenset(range(5)), "weekends": frozenset({5, 6})}
_EVERY = re.compile(r"every\s+(\d{1,4})\s+days?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_SCHEDULE_EXAMPLES = "e.g. 'mon,wed,fri@10:00', 'daily@10:00,18:30', 'every 3 days@10:00', 'weekdays@09:30'"


class ScheduleError(ValueError):
    """A schedule or safe-window spec is wrong; the message says what and how to write it."""


@dataclass(frozen=True)
class Schedule:
    """When check-ins fall due, in the survivor's local time."""

    kind: Literal["weekly", "interval"]
    times: tuple[time, ...]
    days: frozenset[int] = ALL_DAYS  # weekly: 0 = Monday
    every_days: int = 1  # interval: every this many days from `anchor`
    anchor: date | None = None  # interval: the first day; None counts from 1 January 1970
    jitter_minutes: int = 0  # each check-in moves by up to this much either way

    def __post_init__(self) -> None:
        if not self.times:
            raise ScheduleError("a schedule needs at least one time")
        if not self.days or not self.days <= ALL_DAYS:
            raise ScheduleError("a schedule needs days from 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.every_days <= MAX_EVERY_DAYS:
            raise ScheduleError(f"every_days must be from 1 to {MAX_EVERY_DAYS}, not {self.every_days}")
        if not 0 <= self.jitter_minutes < DAY_MINUTES:
            raise ScheduleError(f"jitter_minutes must be from 0 to {DAY_MINUTES - 1}, not {self.jitter_minutes}")

    def falls_on(self, day: date) -> bool:
        """Whether check-ins are due on local date `day`."""
        if self.kind == "weekly":
            return day.weekday() in self.days
        anchor = self.anchor or date(1970, 1, 1)
        return day >= anchor and (day - anchor).days % self.every_days == 0


@dataclass(frozen=True)
class Due:
    """The next check-in: when to send it (UTC) and the local slot it stands for."""

    at: datetime
    slot: str  # local nominal date and time, "2026-10-25T01:30": one check-in per slot, ever


def _minutes(text: str, spec: str, *, end: bool = False) -> int:
    match = _CLOCK.fullmatch(text.strip())
    hour, minute = (int(match[1]), int(match[2])) if match else (-1, -1)
    if not (0 <= hour <= 23 and 0 <= minute <= 59) and not (end and (hour, minute) == (24, 0)):
        raise ScheduleError(f"bad time {text.strip()!r} in {spec!r}: use HH:MM from 00:00 to 23:59")
    return hour * 60 + minute


def _days(text: str, spec: str) -> tuple[Literal["weekly", "interval"], frozenset[int], int]:
    if text in _DAY_SETS:
        return "weekly", _DAY_SETS[text], 1
    every = _EVERY.fullmatch(text)
    if every:
        count = int(every[1])
        if not 1 <= count <= MAX_EVERY_DAYS:
            raise ScheduleError(f"bad schedule {spec!r}: every N days needs N from 1 to {MAX_EVERY_DAYS}")
        return "interval", ALL_DAYS, count
    days: set[int] = set()
    for part in text.split(","):
        first_name, dash, last_name = part.partition("-")
        first = _day(first_name, spec)
        last = _day(last_name, spec) if dash else first
        # A range may wrap past Sunday: "fri-mon" is Friday to Monday.
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return "weekly", frozenset(days), 1


def _day(name: str, spec: str) -> int:
    name = name.strip()
    for names in (_DAY_NAMES, _FULL_DAY_NAMES):
        if name in names:
            return names.index(name)
    raise ScheduleError(f"bad day {name!r} in {spec!r}: use mon..sun, a range like mon-fri, daily or weekdays")


def parse_schedule(spec: str) -> Schedule:
    """Parse DAYS@TIMES, e.g. 'mon,wed,fri@10:00', 'daily@10:00,18:30' or 'every 3 days@10:00'."""
    days_text, at, times_text = spec.strip().lower().partition("@")
    if not at or not days_text.strip() or not times_text.strip():
        raise ScheduleError(f"bad schedule {spec!r}: write DAYS@HH:MM, {_SCHEDULE_EXAMPLES}")
    kind, days, every = _days(" ".join(days_text.split()), spec)
    minutes = [_minutes(part, spec) for part in times_text.split(",")]
    if len(set(minutes)) != len(minutes):
        raise ScheduleError(f"bad schedule {spec!r}: a time is listed twice")
    times = tuple(time(m // 60, m % 60) for m in sorted(minutes))
    return Schedule(kind=kind, times=times, days=days, every_days=every)


def parse_windows(spec: str) -> tuple[SafeWindow, ...]:
    """Parse safe windows like '09:00-12:00,17:00-20:00' (sorted; each ends after it starts; no overlap)."""
    if not spec.strip():
        raise ScheduleError("no safe windows: give at least one, e.g. '09:00-12:00,17:00-20:00'")
    windows: list[SafeWindow] = []
    for part in spec.split(","):
        start_text, dash, end_text = part.partition("-")
        if not dash:
            raise ScheduleError(f"bad safe window {part.strip()!r}: write HH:MM-HH:MM, e.g. '09:00-12:00'")
        window = SafeWindow(_minutes(start_text, spec), _minutes(end_text, spec, end=True))
        if window.end <= window.start:
            problem = "it must end after it starts (split one that crosses midnight in two)"
            raise ScheduleError(f"bad safe window {part.strip()!r}: {problem}")
        windows.append(window)
    windows.sort(key=lambda w: w.start)
    for earlier, later in pairwise(windows):
        if later.start < earlier.end:
            raise ScheduleError(f"safe windows {earlier} and {later} overlap: merge them into one")
    return tuple(windows)


def _window_for(minute_of_day: int, windows: Iterable[SafeWindow]) -> SafeWindow | None:
    return next((w for w in windows if w.contains(minute_of_day)), None)


def schedule_problems(schedule: Schedule, windows: tuple[SafeWindow, ...]) -> list[str]:
    """List what is wrong with a schedule given the survivor's safe windows (empty when fine)."""
    if not windows:
        return ["no safe windows: no check-in could ever be sent"]
    problems: list[str] = []
    listed = ", ".join(map(str, windows))
    jitter = schedule.jitter_minutes
    for at in schedule.times:
        minute = at.hour * 60 + at.minute
        window = _window_for(minute, windows)
        if window is None:
            problems.append(f"{at:%H:%M} is outside every safe window ({listed}): it would never be sent")
        elif jitter and (minute - jitter < window.start or minute + jitter >= window.end):
            problems.append(
                f"jitter of {jitter} minutes around {at:%H:%M} would leave the safe window {window}: "
                "use less jitter or a time further inside the window"
            )
    return problems


def _utc(day: date, minute_of_day: int, tz: ZoneInfo, fold: int = 0) -> datetime:
    """The UTC instant of a local wall time; fold=0 takes the first of a repeated hour.

    A wall time in the spring gap does not exist; with fold=0 it takes the offset from before
    the change, which moves it forward by the gap (01:30 becomes 02:30 BST).
    """
    day = day + timedelta(days=minute_of_day // DAY_MINUTES)  # a window may end at 24:00
    minute_of_day %= DAY_MINUTES
    local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=tz).replace(fold=fold)
    return local.astimezone(UTC)


def _edge(day: date, minute_of_day: int, tz: ZoneInfo, fold: int) -> datetime:
    """The first instant (UTC) whose local wall clock reads at least this time: a window's edge.

    In a spring gap the wall time never shows, so the edge is the moment the clocks jump past it.
    """
    edge = _utc(day, minute_of_day, tz, fold)
    wall = datetime.combine(day, time()) + timedelta(minutes=minute_of_day)
    if edge.astimezone(tz).replace(tzinfo=None) == wall:
        return edge
    edge = _utc(day, minute_of_day, tz, fold=1)  # the later offset lands just before the jump
    while edge.astimezone(tz).replace(tzinfo=None) < wall:
        edge += timedelta(minutes=1)  # a gap is at most a few hours of whole minutes
    return edge


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _local_minute(at: datetime) -> int:
    return at.hour * 60 + at.minute


def slot_time(slot: str, tz: ZoneInfo) -> datetime:
    """Return the nominal UTC instant of a slot key: chain `next_due` from it, not from `Due.at`."""
    nominal = datetime.fromisoformat(slot)
    return _utc(nominal.date(), _local_minute(nominal), tz)


def next_due(
    schedule: Schedule,
    tz: ZoneInfo,
    windows: tuple[SafeWindow, ...],
    after: datetime,
    rand: Callable[[], float],
) -> Due | None:
    """Return the first slot whose nominal time is after `after` and inside a safe window, jittered.

    A slot's time is read on the local wall clock once: in the autumn's repeated hour it is the
    first occurrence (APScheduler's cron would fire twice). To find the slot after a Due, pass
    `after=slot_time(due.slot, tz)`: jitter may have moved `due.at` before its own slot.
    """
    _aware(after, "after")
    first = after.astimezone(tz).date() - timedelta(days=1)  # a gap may push yesterday's slot past midnight
    for offset in range(SEARCH_DAYS + 2):
        day = first + timedelta(days=offset)
        if not schedule.falls_on(day):
            continue
        for clock in sorted(schedule.times):
            nominal = _utc(day, clock.hour * 60 + clock.minute, tz)
            if nominal <= after:
                continue
            # The window is judged on the wall clock when it is sent: 01:30 in the gap is 02:30.
            local = nominal.astimezone(tz)
            window = _window_for(_local_minute(local), windows)
            if window is None:
                continue
            sent_at = _jitter(nominal, window, local, after, schedule.jitter_minutes, tz, rand)
            return Due(at=sent_at, slot=f"{day.isoformat()}T{clock:%H:%M}")
    return None


def _jitter(
    nominal: datetime,
    window: SafeWindow,
    local: datetime,
    after: datetime,
    jitter_minutes: int,
    tz: ZoneInfo,
    rand: Callable[[], float],
) -> datetime:
    if not jitter_minutes:
        return nominal
    shift = timedelta(seconds=round((2 * rand() - 1) * jitter_minutes * 60))
    # Held inside the window (a survivor's safe time is a promise) and after `after`. Both
    # bounds are widened to the nominal time, which satisfies both, so they never cross.
    low = max(_edge(local.date(), window.start, tz, local.fold), after + timedelta(seconds=1))
    high = _edge(local.date(), window.end, tz, local.fold) - timedelta(seconds=1)
    low, high = min(low, nominal), max(high, nominal)
    return min(max(nominal + shift, low), high)


def window_end(at: datetime, tz: ZoneInfo, windows: tuple[SafeWindow, ...]) -> datetime | None:
    """Return when the safe window holding `at` ends (UTC), or None if `at` is outside every window."""
    _aware(at, "at")
    local = at.astimezone(tz)
    window = _window_for(_local_minute(local), windows)
    if window is None:
        return None
    return _edge(local.date(), window.end, tz, local.fold)


def next_window_start(at: datetime, tz: ZoneInfo, windows: tuple[SafeWindow, ...]) -> datetime | None:
    """The first moment from `at` on that is inside a safe window: `at` itself if it is; None without windows."""
    _aware(at, "at")
    if not windows:
        return None
    if in_window(at, tz, windows):
        return at
    local = at.astimezone(tz)
    starts = [
        _edge(local.date() + timedelta(days=days), w.start, tz, 0) for days in (0, 1, 2) for w in windows
    ]  # the windows repeat daily: the next start is today, tomorrow or (across a clock change) the day after
    return min(start for start in starts if start > at)


def in_window(at: datetime, tz: ZoneInfo, windows: tuple[SafeWindow, ...]) -> bool:
    """Whether `at` falls inside one of the safe windows, on the local wall clock."""
    _aware(at, "at")
    return _window_for(_local_minute(at.astimezone(tz)), windows) is not None


def default_schedule(windows: tuple[SafeWindow, ...]) -> Schedule | None:
    """Without a schedule set by the IDVA: Mondays and Thursdays, a little into the first safe window."""
    if not windows:
        return None
    first = min(windows, key=lambda w: w.start)
    minute = first.start + min(30, (first.end - first.start) // 2)  # always inside the window
    return Schedule(kind="weekly", times=(time(minute // 60, minute % 60),), days=frozenset({0, 3}))
