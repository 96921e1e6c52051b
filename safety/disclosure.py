"""Small-count suppression for a report's tables and figures, so that no report can single out a survivor.

Primary suppression hides every count from 1 to 4, totals included (shown "<5").

0 is shown. It identifies nobody, and a commissioner needs to read "no undeliverable alerts". So a hidden cell
is always at least 1, and the reader knows it. Complementary suppression never hides a 0 either.

Complementary suppression, for a table with totals: every row with its row total, every column with its column
total, the total row with the grand total and the total column with the grand total are lines whose members add
up. While some line has exactly one hidden member, the smallest non-zero shown cell of that line is hidden too
(first in reading order on ties), or the line's total if no such cell is left.

That line rule is not always enough. A row of two hidden 1s whose total is 2 can only be 1 and 1. So an audit
then checks that every hidden entry can take at least two values consistent with everything shown, given that
hidden entries are at least 1 and every line adds up. Where one cannot, one more entry is hidden, and the line
rule and the audit run again, until every hidden entry can. (Hiding every non-zero entry always passes, so this
ends.)

The audit is exact for these tables. Two consistent fillings differ by changes that add up to zero along every
line. Such changes break down into cycles through the hidden entries, alternately +1 and -1, and each cycle is
feasible on its own. So an entry can take another value iff some such cycle through it keeps every hidden cell
at 1 or more: a path search in a small directed graph. tests/unit/test_disclosure.py checks the result against
brute force.

A table without totals gets primary suppression only. Its columns must not add up to one another; see
docs/reports.md.

A figure (a rate, a percentile) is withheld when the count it rests on is under 5.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from safety.report_tables import TOTAL, Cell, CellRef, Figure, PublishedTable, Table

THRESHOLD = 5  # counts from 1 to THRESHOLD - 1 are hidden
WITHHELD = "withheld (fewer than 5)"  # a figure's value when its base is under THRESHOLD

Entry = tuple[int, int]  # (row, column) in the full grid; the last row and column hold the totals


def is_small(count: int) -> bool:
    return 0 < count < THRESHOLD


def figure_value(figure: Figure, hidden: Container[CellRef] = frozenset()) -> str:
    """The figure as published: its value, or WITHHELD when it rests on fewer than 5 or on a hidden cell."""
    if figure.base < THRESHOLD or any(ref in hidden for ref in figure.rests_on):
        return WITHHELD
    return figure.value


def hidden_cells(published: PublishedTable) -> set[CellRef]:
    """Every hidden cell of a published table, totals included, by its labels."""
    table = published.table
    labels = [label for label, _ in table.rows]
    found = {
        CellRef(table.key, labels[i], table.columns[j])
        for i, row in enumerate(published.cells)
        for j, cell in enumerate(row)
        if cell.hidden
    }
    for i, cell in enumerate(published.row_totals or ()):
        if cell.hidden:
            found.add(CellRef(table.key, labels[i], TOTAL))
    for j, cell in enumerate(published.column_totals or ()):
        if cell.hidden:
            found.add(CellRef(table.key, TOTAL, table.columns[j]))
    if published.grand_total is not None and published.grand_total.hidden:
        found.add(CellRef(table.key, TOTAL, TOTAL))
    return found


def publish(table: Table) -> PublishedTable:
    values = [list(counts) for _, counts in table.rows]
    if not table.totals:
        cells = tuple(tuple(Cell(v, is_small(v)) for v in row) for row in values)
        return PublishedTable(table, cells, None, None, None)
    grid = full_grid(values, len(table.columns))
    hidden = {e for e, v in _entries(grid) if is_small(v)}
    hidden = complement(grid, hidden)
    n, m = len(grid) - 1, len(grid[0]) - 1

    def cell(i: int, j: int) -> Cell:
        return Cell(grid[i][j], (i, j) in hidden)

    return PublishedTable(
        table,
        tuple(tuple(cell(i, j) for j in range(m)) for i in range(n)),
        tuple(cell(i, m) for i in range(n)),
        tuple(cell(n, j) for j in range(m)),
        cell(n, m),
    )


def full_grid(values: list[list[int]], width: int) -> list[list[int]]:
    """The counts with a total column, a total row and the grand total in the corner."""
    rows = [[*row, sum(row)] for row in values]
    rows.append([sum(row[j] for row in rows) for j in range(width + 1)])
    return rows


def complement(grid: list[list[int]], hidden: set[Entry]) -> set[Entry]:
    """The entries to hide, beyond `hidden`, so that each hidden one can take at least two values."""
    hidden = set(hidden)
    while True:
        _line_rule(grid, hidden)
        exposed = next((e for e in sorted(hidden) if determined(grid, hidden, e)), None)
        if exposed is None:
            return hidden
        hidden.add(_cover(grid, hidden, exposed))


def _lines(grid: list[list[int]]) -> list[list[Entry]]:
    """Every row and every column of the full grid; each one's total is its last member."""
    n, m = len(grid), len(grid[0])
    return [[(i, j) for j in range(m)] for i in range(n)] + [[(i, j) for i in range(n)] for j in range(m)]


def _entries(grid: list[list[int]]) -> Iterable[tuple[Entry, int]]:
    return (((i, j), v) for i, row in enumerate(grid) for j, v in enumerate(row))


def _smallest(grid: list[list[int]], candidates: Iterable[Entry]) -> Entry | None:
    shown = [e for e in candidates if grid[e[0]][e[1]] > 0]
    return min(shown, key=lambda e: (grid[e[0]][e[1]], e), default=None)


def _line_rule(grid: list[list[int]], hidden: set[Entry]) -> None:
    changed = True
    while changed:
        changed = False
        for line in _lines(grid):
            if sum(e in hidden for e in line) != 1:
                continue
            pick = _smallest(grid, (e for e in line[:-1] if e not in hidden)) or line[-1]
            # The lone hidden member is at least 1, so the line holds a non-zero shown entry: pick is never a 0.
            hidden.add(pick)
            changed = True


def _cover(grid: list[list[int]], hidden: set[Entry], exposed: Entry) -> Entry:
    """One more entry to hide for `exposed`: the smallest that frees it, else the smallest on its lines."""
    i, j = exposed
    near = sorted(
        (e for e in {*((i, b) for b in range(len(grid[0]))), *((a, j) for a in range(len(grid)))} if e not in hidden),
        key=lambda e: (grid[e[0]][e[1]], e),
    )
    anywhere = sorted((e for e, _ in _entries(grid) if e not in hidden), key=lambda e: (grid[e[0]][e[1]], e))
    for e in (*near, *anywhere):
        if grid[e[0]][e[1]] > 0 and not determined(grid, hidden | {e}, exposed):
            return e
    pick = _smallest(grid, near) or _smallest(grid, anywhere)
    assert pick is not None, "every non-zero entry hidden, yet one is determined"  # cannot happen: see module doc
    return pick


def determined(grid: list[list[int]], hidden: set[Entry], entry: Entry) -> bool:
    """Whether everything shown pins `entry` to one value (hidden entries being at least 1).

    Rows and columns are nodes; a hidden entry (i, j) is an edge. Going row -> column adds 1 to it and is always
    allowed; going column -> row takes 1 off it, allowed for a total (free: it follows its cells) or a cell of 2
    or more. The entry can change iff a directed cycle uses it."""
    n, m = len(grid) - 1, len(grid[0]) - 1
    arcs: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for a, b in hidden:
        if (a, b) == entry:
            continue
        arcs.setdefault(("r", a), []).append(("c", b))
        if a == n or b == m or grid[a][b] >= 2:
            arcs.setdefault(("c", b), []).append(("r", a))
    i, j = entry
    if _reaches(arcs, ("c", j), ("r", i)):
        return False
    can_lower = i == n or j == m or grid[i][j] >= 2
    return not (can_lower and _reaches(arcs, ("r", i), ("c", j)))


def _reaches(arcs: dict[tuple[str, int], list[tuple[str, int]]], start: tuple[str, int], goal: tuple[str, int]) -> bool:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for nxt in arcs.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
