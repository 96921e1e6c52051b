"""The report's engagement section: cases enrolled, activated and active, check-ins by how they ended, and
response rates, by channel, language and local time of day. See docs/reports.md for what each word means."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError

from safety.disclosure import WITHHELD, publish
from safety.report_tables import Figure, Filters, Section, Table, period_bounds
from storage.db import Tx, parse_ts, ts
from storage.report_scope import cases_in_scope

# How a check-in ended (checkins.status) -> its column. Every status has exactly one column, so a row adds up
# to the check-ins due; "sent" is every column but the last.
OUTCOMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Completed", ("completed",)),
    ("Partly answered", ("partial",)),  # some answers, then the window closed, or "not safe right now"
    ("Not a good time", ("deferred",)),  # she put it off; a retry later is a check-in of its own
    ("Missed by her", ("missed",)),  # reached her, no answer in the window
    ("Stopped early", ("exited", "pin_failed", "ended")),  # quick exit, PIN wrong twice, pause or withdrawal
    ("Still open", ("open",)),  # waiting for her answer when the report was made
    ("Missed by the system", ("missed_system",)),  # never sent or never delivered: downtime, undeliverable
)
COLUMNS = tuple(label for label, _ in OUTCOMES)
COLUMN_OF = {status: i for i, (_, statuses) in enumerate(OUTCOMES) for status in statuses}
SYSTEM = COLUMN_OF["missed_system"]
ANSWERED = (COLUMN_OF["completed"], COLUMN_OF["partial"])

TIMES_OF_DAY: tuple[tuple[str, int], ...] = (  # local hours, the service's time zone
    ("Night (00:00-06:00)", 0),
    ("Morning (06:00-12:00)", 6),
    ("Afternoon (12:00-18:00)", 12),
    ("Evening (18:00-24:00)", 18),
)
CHANNELS = {"sms": "SMS", "telegram": "Telegram", "simulator": "Simulator"}

NOTE = (
    "Each check-in due in the period is counted once, by how it ended; the total is all that were due. "
    "Sent: every column but Missed by the system, the check-ins that reached her phone. "
    "Missed by the system: due while the service was down, or never delivered; they never count against her. "
    "Channel and language are the case's own now."
)


async def section(tx: Tx, service_id: int, filters: Filters, tz: ZoneInfo) -> Section:
    start, end = period_bounds(filters, tz)
    scope, params = cases_in_scope(service_id, filters)
    cases = await _cases(tx, scope, params, start, end)
    rows = await tx.all(
        f"SELECT c.channel, c.language, k.due_at, k.status FROM checkins k JOIN cases c ON c.id = k.case_id "
        f"WHERE {scope} AND k.due_at >= ? AND k.due_at < ?",
        (*params, ts(start), ts(end)),
    )
    by_channel: dict[str, list[int]] = {}
    by_language: dict[str, list[int]] = {}
    by_time = {label: [0] * len(COLUMNS) for label, _ in TIMES_OF_DAY}
    for r in rows:
        column = COLUMN_OF[r["status"]]
        by_channel.setdefault(CHANNELS.get(r["channel"], r["channel"]), [0] * len(COLUMNS))[column] += 1
        by_language.setdefault(_language(r["language"]), [0] * len(COLUMNS))[column] += 1
        by_time[_time_of_day(parse_ts(r["due_at"]), tz)][column] += 1
    tables = (
        cases,
        _checkins("channel", "Check-ins by channel", "Channel", sorted(by_channel.items())),
        _checkins("language", "Check-ins by language", "Language", sorted(by_language.items())),
        _checkins("time_of_day", "Check-ins by local time of day", "Time due", list(by_time.items())),
    )
    figures = tuple(f for t in tables[1:] for f in _rates(t))
    return Section("engagement", "Engagement", tables, figures)


async def _cases(tx: Tx, scope: str, params: list[object], start: datetime, end: datetime) -> Table:
    window = (ts(start), ts(end))
    enrolled = await tx.scalar(
        f"SELECT count(*) FROM cases c WHERE {scope} AND created_at >= ? AND created_at < ?", (*params, *window)
    )
    activated = await tx.scalar(
        f"SELECT count(*) FROM cases c WHERE {scope} AND onboarded_at >= ? AND onboarded_at < ?", (*params, *window)
    )
    active = await tx.scalar(
        f"SELECT count(*) FROM cases c WHERE {scope} AND EXISTS (SELECT 1 FROM checkins k WHERE k.case_id = c.id "
        "AND k.due_at >= ? AND k.due_at < ?)",
        (*params, *window),
    )
    return Table(
        "engagement.cases",
        "Cases",
        "Cases",
        ("Cases",),
        (("Enrolled", (enrolled,)), ("Activated", (activated,)), ("Active", (active,))),
        totals=False,  # one case can be all three
        note="Enrolled: created in the period. Activated: finished set-up on her phone in the period. "
        "Active: at least one check-in due in the period.",
    )


def _checkins(key: str, title: str, heading: str, rows: list[tuple[str, list[int]]]) -> Table:
    return Table(
        f"engagement.checkins_by_{key}", title, heading, COLUMNS, tuple((k, tuple(v)) for k, v in rows), note=NOTE
    )


def _rates(table: Table) -> list[Figure]:
    """Answered (completed or partly answered) of sent, per row.

    Withheld where the table hides a count the rate rests on: the rate and its base would give it back."""
    published = publish(table)
    figures = []
    for (label, counts), cells, total in zip(table.rows, published.cells, published.row_totals or (), strict=True):
        sent = sum(counts) - counts[SYSTEM]
        answered = sum(counts[i] for i in ANSWERED)
        hides = total.hidden or any(cells[i].hidden for i in (*ANSWERED, SYSTEM))
        value = WITHHELD if hides else f"{round(100 * answered / sent)}%" if sent else "-"
        key = table.key.replace("checkins_by_", "response_rate.") + "." + _slug(label)
        figures.append(Figure(key, f"Response rate, {label}", value, sent))
    return figures


def _time_of_day(due: datetime, tz: ZoneInfo) -> str:
    hour = due.astimezone(tz).hour
    return next(label for label, starts in reversed(TIMES_OF_DAY) if hour >= starts)


@cache
def _language(code: str) -> str:
    try:
        return str(Locale.parse(code).get_display_name("en"))
    except (ValueError, UnknownLocaleError):
        return code


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
