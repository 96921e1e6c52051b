"""The report's "Response to alerts" section: alerts by reason and severity, how fast they were acknowledged
and resolved (distributions, and BS 8484-shaped figures), the rung that acknowledged them, escalations,
and alerts no practitioner could be told of.

Alerts counted: those created in the period for cases in scope (storage.report_scope). Waits are read as
they stand when the report is made: an alert still open is "not yet", and counts as never done in every
share and percentile (safety.share_times.percentile), so a slow tail is never left out of a figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from safety.alert_reasons import REASONS, reason_label
from safety.report_tables import (
    TOTAL,
    CellRef,
    Figure,
    Filters,
    Section,
    Table,
    duration_text,
    period_bounds,
    share_text,
)
from safety.share_times import percentile
from storage.db import Tx, parse_ts, ts
from storage.report_scope import cases_in_scope

SEVERITIES = ("urgent", "high", "raised")  # columns, most serious first
COLUMNS = tuple(s.capitalize() for s in SEVERITIES)

# Non-overlapping buckets: each holds waits over the previous bound, up to and including its own.
BUCKETS: tuple[tuple[int, str], ...] = (
    (1, "Within 1 min"),
    (5, "1–5 min"),
    (15, "5–15 min"),
    (60, "15–60 min"),
)
OVER = "Over 1 hour"
NOT_YET = "Not yet"

# BS 8484 asks monitoring centres for 80% of alarms in 10 s and 98.5% in 40 s. A person reading an alert on
# their phone is slower than a console: shares within bounds fit for people, and the same percentiles.
ACK_BOUNDS_MINUTES = (5, 15)
RESOLVE_BOUNDS_MINUTES = (60, 24 * 60)
PERCENTILES = (50.0, 80.0, 98.5)


@dataclass(frozen=True)
class _Alert:
    id: int
    severity: str
    reason: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None

    def wait(self, done: datetime | None) -> timedelta | None:
        return None if done is None else max(done - self.created_at, timedelta(0))


async def section(tx: Tx, service_id: int, filters: Filters, tz: ZoneInfo) -> Section:
    start, end = period_bounds(filters, tz)
    where, params = cases_in_scope(service_id, filters)
    # The alerts counted, as a subquery every query below narrows by.
    chosen = (
        f"SELECT a.id FROM alerts a JOIN cases c ON c.id = a.case_id "
        f"WHERE a.service_id = ? AND {where} AND a.created_at >= ? AND a.created_at < ?"
    )
    chosen_params: list[object] = [service_id, *params, ts(start), ts(end)]
    rows = await tx.all(
        f"SELECT id, severity, reason, created_at, acknowledged_at, resolved_at FROM alerts "
        f"WHERE id IN ({chosen}) ORDER BY id",
        chosen_params,
    )
    found = [
        _Alert(
            r["id"],
            r["severity"],
            r["reason"],
            parse_ts(r["created_at"]),
            parse_ts(r["acknowledged_at"]) if r["acknowledged_at"] else None,
            parse_ts(r["resolved_at"]) if r["resolved_at"] else None,
        )
        for r in rows
    ]
    told: dict[int, list[tuple[int, datetime]]] = {}
    for r in await tx.all(
        f"SELECT alert_id, step, at FROM alert_notifications WHERE alert_id IN ({chosen})", chosen_params
    ):
        told.setdefault(r["alert_id"], []).append((int(r["step"]), parse_ts(r["at"])))
    # Pruning moves finished outbox rows to `deliveries`: an alert's messages are in either, or both.
    statuses: dict[int, set[str]] = {}
    for r in await tx.all(
        f"SELECT alert_id, status FROM outbox WHERE recipient = 'practitioner' AND alert_id IN ({chosen}) "
        f"UNION ALL SELECT alert_id, status FROM deliveries WHERE recipient = 'practitioner' "
        f"AND alert_id IN ({chosen})",
        [*chosen_params, *chosen_params],
    ):
        statuses.setdefault(r["alert_id"], set()).add(r["status"])

    by_rung, rung_figures = _ack_time_by_rung(found, told)
    tables = (
        _by_reason(found),
        _distribution(
            "response.time_to_acknowledge",
            "Time to acknowledge",
            found,
            lambda a: a.wait(a.acknowledged_at),
            "acknowledged",
        ),
        _distribution(
            "response.time_to_resolve", "Time to resolve", found, lambda a: a.wait(a.resolved_at), "resolved"
        ),
        _ack_rung(found, told),
        by_rung,
        _highest_rung(found, told),
        _delivery(found, statuses),
    )
    figures = (
        *_figures("ack", "acknowledged", found, lambda a: a.wait(a.acknowledged_at), ACK_BOUNDS_MINUTES),
        *rung_figures,
        *_figures("resolve", "resolved", found, lambda a: a.wait(a.resolved_at), RESOLVE_BOUNDS_MINUTES),
    )
    return Section("response", "Response to alerts", tables, figures)


def _by_severity(
    alerts: Iterable[_Alert], row_of: Callable[[_Alert], str], labels: Sequence[str]
) -> list[tuple[str, tuple[int, ...]]]:
    """Rows in `labels` order, each a count per severity column."""
    counts = {label: [0] * len(SEVERITIES) for label in labels}
    for alert in alerts:
        if alert.severity in SEVERITIES:
            counts[row_of(alert)][SEVERITIES.index(alert.severity)] += 1
    return [(label, tuple(counts[label])) for label in labels]


def _by_reason(alerts: list[_Alert]) -> Table:
    # Reasons that occurred, in the catalog's order (most telling first), then any unknown code.
    codes = {a.reason for a in alerts}
    ordered = [c for c in REASONS if c in codes] + sorted(codes - REASONS.keys())
    labels = [reason_label(c) for c in ordered]
    by_code = dict(zip(ordered, labels, strict=True))
    return Table(
        "response.alerts_by_reason",
        "Alerts by reason and severity",
        "Reason",
        COLUMNS,
        tuple(_by_severity(alerts, lambda a: by_code[a.reason], labels)),
        note="Alerts raised in the period for the cases the report covers.",
    )


def bucket(wait: timedelta | None) -> str:
    """The distribution row a wait falls in; None (not done) is "Not yet"."""
    if wait is None:
        return NOT_YET
    for minutes, label in BUCKETS:
        if wait <= timedelta(minutes=minutes):
            return label
    return OVER


def _distribution(
    key: str, title: str, alerts: list[_Alert], wait: Callable[[_Alert], timedelta | None], done: str
) -> Table:
    labels = [label for _, label in BUCKETS] + [OVER, NOT_YET]
    return Table(
        key,
        title,
        "Time from the alert",
        COLUMNS,
        tuple(_by_severity(alerts, lambda a: bucket(wait(a)), labels)),
        note=(
            f"Each row counts alerts {done} after more than the row above's time, up to and including its own; "
            f'"{NOT_YET}": not {done} when the report was made.'
        ),
    )


def _rung_label(step: int) -> str:
    return f"Rung {step + 1}"


BEFORE_ANYONE = "Before anyone was told"


def _rung_at_ack(alert: _Alert, told: dict[int, list[tuple[int, datetime]]]) -> str | None:
    """The highest rung told by the time the alert was acknowledged; None if it is not acknowledged."""
    if alert.acknowledged_at is None:
        return None
    steps = [step for step, at in told.get(alert.id, []) if at <= alert.acknowledged_at]
    return _rung_label(max(steps)) if steps else BEFORE_ANYONE


def _ack_time_by_rung(alerts: list[_Alert], told: dict[int, list[tuple[int, datetime]]]) -> tuple[Table, list[Figure]]:
    """Time to acknowledge, per rung that had been reached: how long each step of the ladder takes."""
    rung_of = {a.id: rung for a in alerts if (rung := _rung_at_ack(a, told)) is not None}
    top = max((s for pairs in told.values() for s, _ in pairs), default=0)
    rungs = [_rung_label(s) for s in range(top + 1)] + ([BEFORE_ANYONE] if BEFORE_ANYONE in rung_of.values() else [])
    labels = [label for _, label in BUCKETS] + [OVER]
    counts = {label: [0] * len(rungs) for label in labels}
    for a in alerts:
        if a.id in rung_of:
            counts[bucket(a.wait(a.acknowledged_at))][rungs.index(rung_of[a.id])] += 1
    table = Table(
        "response.time_to_acknowledge_by_rung",
        "Time to acknowledge, by the rung reached",
        "Time from the alert",
        tuple(rungs),
        tuple((label, tuple(row)) for label, row in counts.items()),
        note="Acknowledged alerts only, counted under the rung the ladder had reached when one was acknowledged.",
    )
    figures = []
    for rung in rungs:
        waits = [a.wait(a.acknowledged_at) for a in alerts if rung_of.get(a.id) == rung]
        for p in PERCENTILES:
            figures.append(
                Figure(
                    f"response.ack.rung_{rung.removeprefix('Rung ').lower().replace(' ', '_')}.p"
                    + f"{p:g}".replace(".", "_"),
                    f"Time within which {p:g}% of alerts acknowledged at {rung.lower()} were acknowledged",
                    duration_text(percentile(waits, p)) if waits else "no alerts",
                    len(waits),
                )
            )
    return table, figures


def _ack_rung(alerts: list[_Alert], told: dict[int, list[tuple[int, datetime]]]) -> Table:
    """The highest rung told by the time the alert was acknowledged: who the ladder had reached."""
    before_anyone = BEFORE_ANYONE
    not_acked = "Not acknowledged"

    def row(alert: _Alert) -> str:
        return _rung_at_ack(alert, told) or not_acked

    rows = {row(a) for a in alerts}
    top = max((s for pairs in told.values() for s, _ in pairs), default=0)
    labels = [_rung_label(s) for s in range(top + 1)]
    labels += [before_anyone] if before_anyone in rows else []
    labels.append(not_acked)
    return Table(
        "response.acknowledged_at_rung",
        "Rung of the ladder that had been reached when the alert was acknowledged",
        "Rung",
        COLUMNS,
        tuple(_by_severity(alerts, row, labels)),
        note="Rung 1 is whoever the ladder tells at once (usually her IDVA); each later rung is told only if "
        "no one has acknowledged by then.",
    )


def _highest_rung(alerts: list[_Alert], told: dict[int, list[tuple[int, datetime]]]) -> Table:
    """Escalations: how far up the ladder each alert went."""
    nobody = "No one told"
    top = max((s for pairs in told.values() for s, _ in pairs), default=0)
    labels = ["Rung 1 only (not escalated)"] + [f"Escalated to rung {s + 1}" for s in range(1, top + 1)] + [nobody]

    def row(alert: _Alert) -> str:
        steps = [step for step, _ in told.get(alert.id, [])]
        if not steps:
            return nobody
        highest = max(steps)
        return labels[0] if highest == 0 else f"Escalated to rung {highest + 1}"

    return Table(
        "response.escalations",
        "Escalations: the highest rung each alert reached",
        "Highest rung",
        COLUMNS,
        tuple(_by_severity(alerts, row, labels)),
        note="An escalated alert went beyond the first rung because no one acknowledged it in time.",
    )


def _delivery(alerts: list[_Alert], statuses: dict[int, set[str]]) -> Table:
    sent = "Sent to at least one practitioner"
    trying = "Not sent yet, still being tried"
    lost = "Undeliverable"

    def row(alert: _Alert) -> str:
        seen = statuses.get(alert.id, set())
        if "sent" in seen:
            return sent
        return trying if "pending" in seen else lost

    return Table(
        "response.delivery",
        "Alerts that reached a practitioner",
        "Delivery",
        COLUMNS,
        tuple(_by_severity(alerts, row, [sent, trying, lost])),
        note=f'"{lost}": no message about the alert was ever sent to any practitioner, on any rung or channel: '
        "every one failed or was cancelled, or none could be queued (no one had an alert channel).",
    )


def _figures(
    key: str,
    done: str,
    alerts: list[_Alert],
    wait: Callable[[_Alert], timedelta | None],
    bounds: tuple[int, ...],
) -> list[Figure]:
    groups = [("all", "all", alerts)] + [(s, s, [a for a in alerts if a.severity == s]) for s in SEVERITIES]
    table = f"response.time_to_{'acknowledge' if key == 'ack' else key}"
    out: list[Figure] = []
    for group, word, members in groups:
        column = TOTAL if group == "all" else group.capitalize()
        waits = [wait(a) for a in members]
        base = len(waits)
        which = "alerts" if group == "all" else f"{word} alerts"
        for minutes in bounds:
            within = sum(1 for w in waits if w is not None and w <= timedelta(minutes=minutes))
            out.append(
                Figure(
                    f"response.{key}.{group}.within_{minutes}m",
                    f"Share of {which} {done} within {duration_text(timedelta(minutes=minutes))}",
                    share_text(within, base, "no alerts"),
                    base,
                    (*(CellRef(table, row, column) for row in rows_within(minutes)), CellRef(table, TOTAL, column)),
                )
            )
        for p in PERCENTILES:
            out.append(
                Figure(
                    f"response.{key}.{group}.p" + f"{p:g}".replace(".", "_"),  # p50, p80, p98_5
                    f"Time within which {p:g}% of {which} were {done}",
                    duration_text(percentile(waits, p)) if base else "no alerts",
                    base,
                )
            )
    return out


def rows_within(minutes: int) -> list[str]:
    """The distribution rows a count "within `minutes`" adds up: every bucket up to the one it ends in."""
    rows = []
    for bound, label in BUCKETS:
        rows.append(label)
        if minutes <= bound:
            return rows
    return [*rows, OVER]
