"""A manager's report as published: small counts hidden, figures on small bases withheld, charts drawn.

The page, the CSV and the PDF are all made from one `ReportView`, so what a manager sees is exactly
what they can hand a commissioner. Suppression is safety/disclosure.py's (`publish`, `figure_value`);
nothing here reads a Table's raw counts except through it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup

from bot.web import charts, spreadsheet
from bot.web.words import N_
from safety.disclosure import figure_value, hidden_cells, publish
from safety.report_tables import TOTAL, Figure, Filters, PublishedTable, Report, Section, Table

SUPPRESSION_RULE = N_(
    "Counts from 1 to 4 are hidden, and so are other counts where a total or a difference would give a hidden "
    "one away; every hidden count is shown as <5, whatever its size. A rate or time resting on fewer than 5, "
    "or on a hidden count, is withheld."
)
CSV_COLUMNS = ("section", "table", "row", "column", "value")
MAX_CHART_SERIES = 4  # more bars to a row than this is harder to read than the table


@dataclass(frozen=True)
class TableView:
    published: PublishedTable
    dom_id: str
    chart: Markup | None


@dataclass(frozen=True)
class FigureView:
    figure: Figure
    value: str  # as published


@dataclass(frozen=True)
class SectionView:
    section: Section
    tables: tuple[TableView, ...]
    figures: tuple[FigureView, ...]


@dataclass(frozen=True)
class ReportView:
    report: Report
    about: tuple[tuple[str, str], ...]  # (what, value): service, period, filters
    sections: tuple[SectionView, ...]


def dom_id(key: str) -> str:
    return "table-" + "".join(ch if ch.isalnum() else "-" for ch in key)


def wants_chart(table: Table) -> bool:
    """Bars help where there are rows to compare and few columns; a single row reads better as the table."""
    return len(table.rows) >= 2 and 1 <= len(table.columns) <= MAX_CHART_SERIES


def _table(table: Table) -> TableView:
    published = publish(table)
    chart = charts.bar_chart(published, dom_id(table.key) + "-chart") if wants_chart(table) else None
    return TableView(published, dom_id(table.key), chart)


def period_words(filters: Filters) -> str:
    last = filters.end - timedelta(days=1)  # the period's end is exclusive
    return f"{_day(filters.start)} to {_day(last)}"


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def about(report: Report, idva_name: str | None) -> tuple[tuple[str, str], ...]:
    f = report.filters
    return (
        ("Service", report.service_name),
        ("Period", period_words(f)),
        ("IDVA", idva_name or ("All" if f.idva_id is None else f"#{f.idva_id}")),
        ("Channel", f.channel or "All"),
        ("Language", f.language or "All"),
    )


def view(report: Report, idva_name: str | None = None) -> ReportView:
    """The report as published; `idva_name` names the IDVA filter, if any."""
    return ReportView(report, about(report, idva_name), tuple(_section(s) for s in report.sections))


def _section(section: Section) -> SectionView:
    tables = tuple(_table(t) for t in section.tables)
    hidden = set().union(*(hidden_cells(t.published) for t in tables))
    return SectionView(section, tables, tuple(FigureView(fig, figure_value(fig, hidden)) for fig in section.figures))


def csv_rows(shown: ReportView) -> list[tuple[str, str, str, str, str]]:
    """One row per published value: the report's filters first, then every cell, total and figure."""
    rows = [("Report", "About", what, "", value) for what, value in shown.about]
    for s in shown.sections:
        for tv in s.tables:
            p, t = tv.published, tv.published.table
            for r, (label, _key) in enumerate(t.rows):
                rows.extend(
                    (s.section.title, t.title, label, col, str(c)) for col, c in zip(t.columns, p.cells[r], strict=True)
                )
                if p.row_totals is not None:
                    rows.append((s.section.title, t.title, label, TOTAL, str(p.row_totals[r])))
            if p.column_totals is not None:
                rows.extend(
                    (s.section.title, t.title, TOTAL, col, str(c))
                    for col, c in zip(t.columns, p.column_totals, strict=True)
                )
            if p.grand_total is not None:
                rows.append((s.section.title, t.title, TOTAL, TOTAL, str(p.grand_total)))
        rows.extend((s.section.title, "Figures", f.figure.label, "", f.value) for f in s.figures)
    return rows


def csv_text(shown: ReportView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([spreadsheet.cell(v) for v in row] for row in csv_rows(shown))
    return out.getvalue()
