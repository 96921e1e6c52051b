"""Small counts in a published report: replaced by the suppress helper's module at merge.

A stand-in with primary suppression only (counts 1 to 4 hidden as "<5", totals included), so the
reports page and its exports can be built and tested before the real module, which adds the
complementary suppression, lands. The page and exports use nothing but `publish` and `figure_value`.
"""

from __future__ import annotations

from safety.report_tables import HIDDEN, Cell, Figure, PublishedTable, Table

SMALL = 5  # a count under this (and over 0) is hidden


def _cell(value: int) -> Cell:
    return Cell(value, 0 < value < SMALL)


def publish(table: Table) -> PublishedTable:
    cells = tuple(tuple(_cell(v) for v in values) for _, values in table.rows)
    if not table.totals:
        return PublishedTable(table, cells, None, None, None)
    row_totals = tuple(_cell(sum(values)) for _, values in table.rows)
    column_totals = tuple(_cell(sum(values[i] for _, values in table.rows)) for i in range(len(table.columns)))
    grand = _cell(sum(sum(values) for _, values in table.rows))
    return PublishedTable(table, cells, row_totals, column_totals, grand)


def figure_value(figure: Figure) -> str:
    """The figure's worded value, or HIDDEN when the count it rests on is under 5."""
    return figure.value if figure.base >= SMALL else HIDDEN
