"""The report's "Sharing with partners" section: shares made in the period by partner and kind and by lawful
basis, how fast each partner acknowledged them (BS 8484-shaped: the share acknowledged within each bound,
and percentiles), and what partners did.

Shares counted: those the service made in the period (shares.created_at) about cases in scope
(storage.report_scope). Waits run from the risk change (the alert's time, else the share's own, as on the
share report) to the acknowledgement, as they stand when the report is made: a share not acknowledged is
in every base and within no bound (safety.share_times).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from safety.report_tables import Figure, Filters, Section, Table, duration_text, period_bounds, share_text
from safety.share_times import BOUNDS_MINUTES, Sample, percentile, summarise
from safety.sharing import ACTION_LABELS, KIND_LABELS
from storage.db import Row, Tx, parse_ts, ts
from storage.partners import ACTION_CODES
from storage.report_scope import cases_in_scope

KINDS = {**KIND_LABELS, "manual": "Shared by her adviser"}
BASES = {
    "consent": "Her consent",
    "vital_interests": "Vital interests (without consent)",
    "public_task": "Public task (without consent)",
    "safeguarding": "Safeguarding (without consent)",
}
ACTIONS = {**ACTION_LABELS, "other": "Other"}
NO_ACTION_YET = "Acknowledged, no action recorded yet"
NOT_ACKNOWLEDGED = "Not acknowledged"
PERCENTILES = (50.0, 80.0, 98.5)
assert set(ACTIONS) == set(ACTION_CODES), "every partner action needs its words here"


async def section(tx: Tx, service_id: int, filters: Filters, tz: tzinfo) -> Section:
    start, end = period_bounds(filters, tz)
    where, params = cases_in_scope(service_id, filters)
    shares = await tx.all(
        f"SELECT s.id, s.partner_id, p.name AS partner_name, s.kind, s.basis, s.created_at, s.acknowledged_at, "
        f"s.action, a.created_at AS alert_at FROM shares s JOIN cases c ON c.id = s.case_id "
        f"JOIN partners p ON p.id = s.partner_id LEFT JOIN alerts a ON a.id = s.alert_id "
        f"WHERE s.service_id = ? AND p.service_id = s.service_id AND {where} "
        f"AND s.created_at >= ? AND s.created_at < ? ORDER BY p.name, s.id",
        [service_id, *params, ts(start), ts(end)],
    )
    return Section(
        "sharing",
        "Sharing with partners",
        (_by_partner(shares), _by_basis(shares), _actions(shares)),
        tuple(_ack_figures(shares)),
    )


def _by_partner(shares: Sequence[Row]) -> Table:
    names = list(dict.fromkeys(r["partner_name"] for r in shares))  # by name, as queried
    kinds: list[str] = list(KINDS) + sorted({str(r["kind"]) for r in shares} - KINDS.keys())
    rows = tuple(
        (name, tuple(sum(1 for r in shares if r["partner_name"] == name and r["kind"] == k) for k in kinds))
        for name in names
    )
    return Table(
        "sharing.by_partner",
        "Shares made in the period, by partner and kind",
        "Partner",
        tuple(KINDS.get(k, k) for k in kinds),
        rows,
        note="Partners with no share in the period are not listed.",
    )


def _by_basis(shares: Sequence[Row]) -> Table:
    bases: list[str] = list(BASES) + sorted({str(r["basis"]) for r in shares} - BASES.keys())
    return Table(
        "sharing.by_basis",
        "Shares made in the period, by lawful basis",
        "Lawful basis",
        ("Shares",),
        tuple((BASES.get(b, b), (sum(1 for r in shares if r["basis"] == b),)) for b in bases),
        note="A share without her consent went only with a second manager's approval or under the agreement.",
    )


def _actions(shares: Sequence[Row]) -> Table:
    def row(r: Row) -> str:
        if r["acknowledged_at"] is None:
            return NOT_ACKNOWLEDGED
        return ACTIONS.get(r["action"], r["action"]) if r["action"] else NO_ACTION_YET

    labels = [ACTIONS[code] for code in ACTION_CODES] + [NO_ACTION_YET, NOT_ACKNOWLEDGED]
    return Table(
        "sharing.actions",
        "What partners did about the shares made in the period",
        "Action",
        ("Shares",),
        tuple((label, (sum(1 for r in shares if row(r) == label),)) for label in labels),
        note="The latest action a partner recorded for each share, as it stands when the report is made.",
    )


def _sample(r: Row) -> Sample:
    raised = parse_ts(r["alert_at"] or r["created_at"])
    return Sample(raised, parse_ts(r["acknowledged_at"]) if r["acknowledged_at"] else None)


def _ack_figures(shares: Sequence[Row]) -> list[Figure]:
    groups = [("all", "all partners", list(shares))]
    for pid in dict.fromkeys(r["partner_id"] for r in shares):
        members = [r for r in shares if r["partner_id"] == pid]
        groups.append((f"partner_{pid}", members[0]["partner_name"], members))
    out: list[Figure] = []
    for key, who, members in groups:
        samples = [_sample(r) for r in members]
        times = summarise(samples)
        for minutes in BOUNDS_MINUTES:
            out.append(
                Figure(
                    f"sharing.ack.{key}.within_{minutes}m",
                    f"Shares to {who} acknowledged within {minutes} min",
                    share_text(times.within[minutes], times.count, "no shares"),
                    times.count,
                )
            )
        waits = [s.wait for s in samples]
        for p in PERCENTILES:
            out.append(
                Figure(
                    f"sharing.ack.{key}.p" + f"{p:g}".replace(".", "_"),
                    f"Time within which {p:g}% of shares to {who} were acknowledged",
                    duration_text(percentile(waits, p)) if waits else "no shares",
                    times.count,
                )
            )
    return out
