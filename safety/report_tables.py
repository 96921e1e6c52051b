"""The shape of a manager's report: sections of count tables and figures, before and after suppression.

Pure data, shared by the figures (storage/report_figures.py), the suppression of small counts
(safety/disclosure.py), the page, the CSV and the PDF. A count table has rows and count columns and,
unless told otherwise, a total row and a total column, which the page and exports show; suppression
treats every row, every column and the totals as lines that must not give a hidden cell away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

HIDDEN = "<5"  # what a suppressed count shows
TOTAL = "Total"  # the row or column label of a table's totals


@dataclass(frozen=True)
class Table:
    """Counts: one row per label, one value per column. Rows and columns are in display order."""

    key: str  # stable, for CSV and tests: "engagement.checkins_by_channel"
    title: str
    row_heading: str  # what the rows are: "Channel"
    columns: tuple[str, ...]  # what is counted: ("Sent", "Completed", ...)
    rows: tuple[tuple[str, tuple[int, ...]], ...]
    totals: bool = True  # show a total row and a total column (only where adding up makes sense)
    note: str = ""  # how to read it, shown under the table


@dataclass(frozen=True)
class Cell:
    """A count as published: its value, or hidden (shown as "<5")."""

    value: int
    hidden: bool = False

    def __str__(self) -> str:
        return HIDDEN if self.hidden else str(self.value)


@dataclass(frozen=True)
class PublishedTable:
    """A table after suppression: every cell, total included, is a Cell; totals are None without totals."""

    table: Table
    cells: tuple[tuple[Cell, ...], ...]  # [row][column]
    row_totals: tuple[Cell, ...] | None
    column_totals: tuple[Cell, ...] | None
    grand_total: Cell | None


@dataclass(frozen=True)
class CellRef:
    """A cell of one of the section's tables, by labels: TOTAL names a total row or column."""

    table: str  # the Table's key
    row: str
    column: str


@dataclass(frozen=True)
class Figure:
    """A single derived number (a rate, a percentile), with the count it rests on.

    `value` is already worded ("83%", "4 min"); it is withheld when `base` is under 5, since a rate of a
    handful of cases can point at one survivor, and when a cell of `rests_on` is hidden, since the rate
    and its base would give that count back."""

    key: str
    label: str
    value: str
    base: int
    rests_on: tuple[CellRef, ...] = ()


@dataclass(frozen=True)
class Section:
    key: str  # "engagement", "response", "risk", "outcomes", "sharing"
    title: str
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True)
class Filters:
    """What the report covers: a period of local dates (end exclusive) and optional narrowing."""

    start: date
    end: date
    idva_id: int | None = None
    channel: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Report:
    service_name: str
    filters: Filters
    sections: tuple[Section, ...] = field(default_factory=tuple)


def period_bounds(filters: Filters, tz: tzinfo) -> tuple[datetime, datetime]:
    """The period as UTC instants: from local midnight of `start` to local midnight of `end`."""
    start = datetime.combine(filters.start, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(filters.end, time(), tzinfo=tz).astimezone(UTC)
    return start, end


def share_text(part: int, whole: int, none: str) -> str:
    """A share rounded down to a tenth of a percent, so 79.96% never reads as meeting an 80% target;
    `none` says there was nothing to take a share of ("no alerts")."""
    if whole == 0:
        return none
    tenths = math.floor(part * 1000 / whole)
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths / 10:.1f}%"


def duration_text(wait: timedelta | None) -> str:
    """A wait in plain words ("45 s", "4 min 5 s", "2 h 10 min", "3 d 4 h"), or "not reached" when a
    percentile falls on one not done yet."""
    if wait is None:
        return "not reached"
    seconds = int(wait.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
