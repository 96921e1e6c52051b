"""Small counts are hidden, and so is enough else that no total or difference gives a hidden count away.

The known cases are worked by hand. The property test brute-forces every small table hypothesis finds: for
each hidden entry, totals included, it searches for fillings of the hidden entries (each at least 1, every line
adding up to what is shown) and needs two different values for that entry."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.web.report_view import view
from safety.disclosure import WITHHELD, figure_value, hidden_cells, publish
from safety.report_tables import TOTAL, CellRef, Figure, Filters, PublishedTable, Report, Section, Table

H = None  # a hidden entry, in the expected grids below


def table(rows: list[list[int]], totals: bool = True) -> Table:
    columns = tuple(f"c{j}" for j in range(len(rows[0])))
    return Table("t", "T", "Row", columns, tuple((f"r{i}", tuple(r)) for i, r in enumerate(rows)), totals)


def shown(pub: PublishedTable) -> list[list[int | None]]:
    """The full grid as the reader sees it (None where hidden), totals as the last column and row."""
    grid: list[list[int | None]] = []
    for i, row in enumerate(pub.cells):
        line = [None if c.hidden else c.value for c in row]
        if pub.row_totals is not None:
            t = pub.row_totals[i]
            line.append(None if t.hidden else t.value)
        grid.append(line)
    if pub.column_totals is not None and pub.grand_total is not None:
        g = pub.grand_total
        grid.append([None if c.hidden else c.value for c in pub.column_totals] + [None if g.hidden else g.value])
    return grid


CASES = {
    # 3 7 9 | 19 / 6 8 10 | 24: the 3 is alone on its row, so its smallest neighbour 7 goes; each is then alone
    # in its column, so the 6 and the 8 below go. The four can move together (+1 -1 -1 +1).
    "a lone 3 in a row hides its smallest neighbour, and the pair below": (
        [[3, 7, 9], [6, 8, 10]],
        [[H, H, 9, 19], [H, H, 10, 24], [9, 15, 19, 43]],
    ),
    # 2 20 | 22 / 6 7 | 13 / 30 40 | 70: the 2 takes the 20 on its row and the 6 below it; the 20, alone in
    # its column, takes the 7, which closes the chain on the second row.
    "a chain from row to column to column": (
        [[2, 20], [6, 7], [30, 40]],
        [[H, H, 22], [H, H, 13], [30, 40, 70], [38, 67, 105]],
    ),
    # 0 2 0 | 2: the row total is small too, so both go; then the 2's column takes the 6, and the total column
    # takes the second row's total (18). The 2 can be anything from 1 to 7.
    "a row of zeros with one 2 hides the row total": (
        [[0, 2, 0], [5, 6, 7]],
        [[0, H, 0, H], [5, H, 7, H], [5, 8, 7, 20]],
    ),
    # The 6 is hidden for the 8 beside it; its column holds only zeros besides, so its column total goes.
    "a column of zeros with one hidden count hides its total": (
        [[0, 3], [0, 9], [6, 8]],
        [[0, H, H], [0, H, H], [H, H, 14], [H, H, 26]],
    ),
    "nothing small: everything shows": (
        [[5, 6], [7, 0]],
        [[5, 6, 11], [7, 0, 7], [12, 6, 18]],
    ),
    # 1 1 5 | 7: no line has a lone hidden count, yet the two 1s of a row must add up to 2 (their column
    # totals 2 and 2 are hidden), so each is 1. The audit hides the 5s and their column total as well.
    "two 1s that can only be 1 and 1: the audit hides more": (
        [[1, 1, 5], [1, 1, 5]],
        [[H, H, H, 7], [H, H, H, 7], [H, H, H, 14]],
    ),
}


@pytest.mark.parametrize("rows, expected", CASES.values(), ids=list(CASES))
def test_known_tables(rows: list[list[int]], expected: list[list[int | None]]) -> None:
    pub = publish(table(rows))
    assert shown(pub) == expected
    assert not consistent_values_missing(rows, shown(pub))


def test_without_totals_only_small_counts_are_hidden() -> None:
    pub = publish(table([[3, 7], [0, 12]], totals=False))
    assert shown(pub) == [[H, 7], [0, 12]]
    assert pub.row_totals is None and pub.column_totals is None and pub.grand_total is None
    assert str(pub.cells[0][0]) == "<5" and pub.cells[0][0].value == 3


def test_a_zero_is_shown_and_never_hidden_as_a_complement() -> None:
    pub = publish(table([[4, 0], [0, 9]]))
    grid = shown(pub)
    assert grid[0][1] == 0 and grid[1][0] == 0
    assert grid[0][0] is None  # and its row total 4 too, the only other non-zero on its row


def test_a_figure_on_fewer_than_5_is_withheld() -> None:
    assert figure_value(Figure("k", "Rate", "75%", 4)) == WITHHELD
    assert figure_value(Figure("k", "Rate", "80%", 5)) == "80%"
    assert figure_value(Figure("k", "Rate", "0%", 0)) == WITHHELD


# --- brute force ------------------------------------------------------------------------------------------------


Entry = tuple[int, int]


def consistent_values_missing(rows: list[list[int]], seen: list[list[int | None]]) -> list[Entry]:
    """The hidden entries for which no filling consistent with what is shown gives another value."""
    n, m = len(rows), len(rows[0])
    hidden = [(i, j) for i in range(n + 1) for j in range(m + 1) if seen[i][j] is None]
    return [e for e in hidden if not another_value(rows, seen, e)]


def another_value(rows: list[list[int]], seen: list[list[int | None]], target: Entry) -> bool:
    """Search the fillings of the hidden cells (each from 1 to `cap`) for one where `target` differs from the truth
    and every shown entry, totals included, still adds up."""
    n, m = len(rows), len(rows[0])
    truth = [[*r, sum(r)] for r in rows]
    truth.append([sum(r[j] for r in truth) for j in range(m + 1)])
    free = [(i, j) for i in range(n) for j in range(m) if seen[i][j] is None]
    # A second value, where there is one, is reached by moving hidden cells by 1, so trying each cell up to one
    # more than the largest count is enough. (Too small a cap could only make this test fail, never pass.)
    cap = max(max(r) for r in rows) + 1
    ti, tj = target
    on_line = [e for e in free if (ti == n or e[0] == ti) and (tj == m or e[1] == tj)]
    order = on_line + [e for e in free if e not in on_line]  # the target's own cells first: prune early
    lines = [[(i, j) for j in range(m)] for i in range(n)] + [[(i, j) for i in range(n)] for j in range(m)]
    sums = [seen[i][m] for i in range(n)] + [seen[n][j] for j in range(m)]
    lines.append([(i, j) for i in range(n) for j in range(m)])
    sums.append(seen[n][m])
    fill: dict[Entry, int] = {}

    def value(e: Entry) -> int:
        return fill.get(e, 1) if e in free else rows[e[0]][e[1]]  # an unfilled hidden cell is at least 1

    def fits() -> bool:
        for line, total in zip(lines, sums, strict=True):
            if total is None:
                continue
            got = sum(value(e) for e in line)
            if got > total or (got != total and all(e in fill for e in line if e in free)):
                return False
        if all(e in fill for e in on_line):  # the target is now known: it must differ from the truth
            if target in free:
                return fill[target] != truth[ti][tj]
            cells = [(i, j) for i in range(n) for j in range(m) if (ti == n or i == ti) and (tj == m or j == tj)]
            return sum(value(e) for e in cells) != truth[ti][tj]
        return True

    def search(k: int) -> bool:
        if k == len(order):
            return hidden_totals_positive()
        e = order[k]
        for v in sorted(range(1, cap + 1), key=lambda v: abs(v - rows[e[0]][e[1]])):  # near the truth first
            fill[e] = v
            if fits() and search(k + 1):
                return True
        del fill[e]
        return False

    def hidden_totals_positive() -> bool:
        full = [[value((i, j)) for j in range(m)] for i in range(n)]
        row_totals = [sum(r) for r in full]
        col_totals = [sum(r[j] for r in full) for j in range(m)]
        shown_totals = [seen[i][m] for i in range(n)] + seen[n][:m]
        return all(t >= 1 for t, s in zip(row_totals + col_totals, shown_totals, strict=True) if s is None)

    return search(0)


tables = st.integers(1, 3).flatmap(
    lambda n: st.integers(1, 3).flatmap(
        lambda m: st.lists(st.lists(st.integers(0, 9), min_size=m, max_size=m), min_size=n, max_size=n)
    )
)


@settings(max_examples=200, deadline=None)
@given(tables)
def test_no_hidden_entry_can_be_worked_out(rows: list[list[int]]) -> None:
    pub = publish(table(rows))
    seen = shown(pub)
    assert consistent_values_missing(rows, seen) == []
    for i, row in enumerate(seen):
        for j, v in enumerate(row):
            truth = rows[i][j] if i < len(rows) and j < len(rows[0]) else None
            if v is None and truth is not None:
                assert truth > 0  # a 0 is never hidden
            if truth is not None and 0 < truth < 5:
                assert v is None  # every small count is hidden


def test_a_figure_resting_on_a_hidden_cell_is_withheld_on_the_published_report() -> None:
    """17 of 20 answered, with 15 completed shown, would give a hidden 2 back: the rate goes too."""
    table = Table("t", "T", "Channel", ("Completed", "Partly"), (("sms", (15, 2)), ("telegram", (30, 10))))
    rests = (CellRef("t", "sms", "Partly"), CellRef("t", "sms", TOTAL))
    leaning = Figure("t.rate.sms", "Answered, sms", "100%", 17, rests)
    free = Figure("t.rate.telegram", "Answered, telegram", "100%", 40, (CellRef("t", "telegram", TOTAL),))
    shown = view(
        Report("S", Filters(date(2026, 10, 1), date(2026, 11, 1)), (Section("s", "S", (table,), (leaning, free)),))
    )
    values = {f.figure.key: f.value for f in shown.sections[0].figures}
    assert values == {"t.rate.sms": WITHHELD, "t.rate.telegram": "100%"}
    assert CellRef("t", "sms", "Partly") in hidden_cells(publish(table))


def test_hidden_cells_name_hidden_totals_too() -> None:
    table = Table("t", "T", "Row", ("A", "B"), (("x", (3, 0)), ("y", (9, 9))))
    hidden = hidden_cells(publish(table))
    assert CellRef("t", "x", "A") in hidden and CellRef("t", "x", TOTAL) in hidden  # a row of 3 and 0: its total goes
