"""Server-rendered SVG charts of risk: a caseload row's sparkline and a case's chart over time.

Each is an image with a text alternative (role="img", <title>, <desc>), so it reads aloud, prints
and works without JavaScript; the case page adds the same figures as a table. Colours come from
classes in app.css (no style attributes: the CSP forbids them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup

from bot.web.words import _
from safety.report_tables import Cell, PublishedTable
from storage.caseload import RiskPoint

LEVELS = ("standard", "raised", "high", "urgent")


def rank(level: str | None) -> int:
    """A level's height (standard 0 … urgent 3); -1 for none or unknown."""
    return LEVELS.index(level) if level in LEVELS else -1


def describe_trend(levels: Sequence[str]) -> str:
    if not levels:
        return _("No check-ins assessed yet")
    return _("Risk at the last {count} check-ins, oldest first: {levels}").format(
        count=len(levels), levels=", ".join(levels)
    )


def sparkline(levels: Sequence[str], width: int = 84, height: int = 22) -> Markup:
    """A small line of the latest levels, oldest on the left."""
    label = describe_trend(levels)
    if not levels:
        return Markup('<span class="hint">{}</span>').format("—")
    pad = 3
    step = (width - 2 * pad) / max(1, len(levels) - 1)
    span = height - 2 * pad

    def y(level: str) -> float:
        return pad + span - span * rank(level) / (len(LEVELS) - 1)

    points = [(pad + i * step if len(levels) > 1 else width / 2, y(level)) for i, level in enumerate(levels)]
    line = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
    last_x, last_y = points[-1]
    return Markup(
        '<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        "<title>{label}</title>"
        '<polyline class="spark-line" points="{line}" fill="none"/>'
        '<circle class="dot-{last}" cx="{lx:.1f}" cy="{ly:.1f}" r="3"/></svg>'
    ).format(w=width, h=height, label=label, line=line, last=levels[-1], lx=last_x, ly=last_y)


def _day(when: datetime) -> str:
    return when.strftime("%d %b %Y")


def signal_words(signals: Sequence[str]) -> str:
    return ", ".join(s.replace("_", " ") for s in signals)


def chart_description(points: Sequence[RiskPoint]) -> str:
    """The chart in words: its span, its highest point and its latest."""
    if not points:
        return _("No check-in has been assessed yet.")
    top = max(points, key=lambda p: rank(p.level))
    last = points[-1]
    parts = [
        f"{len(points)} assessed check-ins from {_day(points[0].at)} to {_day(last.at)}.",
        _("Highest: {level} on {day}").format(level=top.level, day=_day(top.at))
        + (f" ({signal_words(top.signals)})." if top.signals and rank(top.level) > 0 else "."),
        _("Latest: {level} on {day}.").format(level=last.level, day=_day(last.at)),
    ]
    return " ".join(parts)


def risk_chart(points: Sequence[RiskPoint], chart_id: str = "risk-chart") -> Markup:
    """Risk level over time: one marker per assessed check-in, placed by date; each marker has a title."""
    width, height, left, right, top, bottom = 640, 200, 74, 12, 12, 28
    inner_w, inner_h = width - left - right, height - top - bottom

    def y(level: str) -> float:
        return top + inner_h - inner_h * max(0, rank(level)) / (len(LEVELS) - 1)

    parts = [
        Markup(
            '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{i}-title {i}-desc">'
            '<title id="{i}-title">Risk level over time</title><desc id="{i}-desc">{desc}</desc>'
        ).format(w=width, h=height, i=chart_id, desc=chart_description(points))
    ]
    for level in LEVELS:
        parts.append(
            Markup(
                '<line class="grid" x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}"/>'
                '<text class="axis" x="{tx}" y="{ty:.1f}" text-anchor="end">{label}</text>'
            ).format(x1=left, x2=width - right, y=y(level), tx=left - 6, ty=y(level) + 4, label=level)
        )
    if points:
        first, last = points[0].at, points[-1].at
        spread = (last - first).total_seconds()

        def x(when: datetime) -> float:
            if spread <= 0:
                return left + inner_w / 2
            return left + inner_w * (when - first).total_seconds() / spread

        coords = [(x(p.at), y(p.level)) for p in points]
        parts.append(
            Markup('<polyline class="chart-line" fill="none" points="{}"/>').format(
                " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            )
        )
        for p, (cx, cy) in zip(points, coords, strict=True):
            said = f"{_day(p.at)}: {p.level}" + (f" ({signal_words(p.signals)})" if p.signals else "")
            parts.append(
                Markup('<circle class="dot-{lv}" cx="{cx:.1f}" cy="{cy:.1f}" r="4"><title>{t}</title></circle>').format(
                    lv=p.level, cx=cx, cy=cy, t=said
                )
            )
        for when, anchor, at_x in ((first, "start", left), (last, "end", width - right)):
            parts.append(
                Markup('<text class="axis" x="{x}" y="{y}" text-anchor="{a}">{d}</text>').format(
                    x=at_x, y=height - 8, a=anchor, d=_day(when)
                )
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


# --- a report table as bars (bot/web/report_view.py) ---------------------------------------------

SERIES_FILLS = ("#1d5fa8", "#b35900", "#2e7d32", "#6a3d9a")  # also fill attributes, for the PDF


def _cell_words(cell: Cell) -> str:
    return str(cell)


def bars_description(published: PublishedTable) -> str:
    """The chart in words: every bar's label and published value (so "<5" where a count is hidden)."""
    table = published.table
    parts = []
    for (label, _key), cells in zip(table.rows, published.cells, strict=True):
        values = ", ".join(f"{col} {_cell_words(c)}" for col, c in zip(table.columns, cells, strict=True))
        parts.append(f"{label}: {values}")
    return "; ".join(parts) + ". Counts under 5 are shown as <5 and not drawn."


def bar_chart(published: PublishedTable, chart_id: str) -> Markup:
    """A table's counts as horizontal bars, one group per row and one bar per column.

    Only published values are drawn, scaled to the largest one shown: a hidden cell has no bar, just
    "<5", so neither its length nor the scale gives its true value away."""
    table = published.table
    series = len(table.columns)
    bar_h, gap, left, right, top = 14, 10, 170, 60, 8
    legend_h = 20 if series > 1 else 0
    group_h = series * bar_h + gap
    width = 640
    height = top + legend_h + group_h * len(table.rows) + 4
    inner_w = width - left - right
    shown = [c.value for row in published.cells for c in row if not c.hidden]
    scale = max([*shown, 1])
    parts = [
        Markup(
            '<svg class="chart report-chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{i}-title"'
            ' aria-describedby="{i}-desc">'
            '<title id="{i}-title">{title}</title><desc id="{i}-desc">{desc}</desc>'
        ).format(w=width, h=height, i=chart_id, title=table.title, desc=bars_description(published))
    ]
    if series > 1:
        x = left
        for n, column in enumerate(table.columns):
            parts.append(
                Markup(
                    '<rect class="bar-{n}" fill="{fill}" x="{x}" y="{y}" width="10" height="10"/>'
                    '<text class="axis" x="{tx}" y="{ty}">{label}</text>'
                ).format(
                    n=n % len(SERIES_FILLS),
                    fill=SERIES_FILLS[n % len(SERIES_FILLS)],
                    x=x,
                    y=top,
                    tx=x + 14,
                    ty=top + 9,
                    label=column,
                )
            )
            x += 24 + 7 * len(column)
    y = top + legend_h
    for (label, _key), cells in zip(table.rows, published.cells, strict=True):
        parts.append(
            Markup('<text class="axis" x="{x}" y="{y}" text-anchor="end">{label}</text>').format(
                x=left - 8, y=y + series * bar_h / 2 + 4, label=label
            )
        )
        for n, cell in enumerate(cells):
            top_of_bar = y + n * bar_h
            length = 0.0 if cell.hidden else inner_w * cell.value / scale
            if length > 0:
                parts.append(
                    Markup('<rect class="bar-{n}" fill="{fill}" x="{x}" y="{y}" width="{w:.1f}" height="{h}"/>').format(
                        n=n % len(SERIES_FILLS),
                        fill=SERIES_FILLS[n % len(SERIES_FILLS)],
                        x=left,
                        y=top_of_bar + 1,
                        w=length,
                        h=bar_h - 2,
                    )
                )
            parts.append(
                Markup('<text class="bar-value" x="{x:.1f}" y="{y}">{v}</text>').format(
                    x=left + length + 4, y=top_of_bar + bar_h - 3, v=str(cell)
                )
            )
        y += group_h
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
