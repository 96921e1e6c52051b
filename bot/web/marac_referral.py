"""The Marac referral drafted from what the case holds, as one structured value: the page, the PDF,
the JSON and the CSV are all made from it, so nothing is typed twice and the three exports agree.

It carries the latest DASH (each item, the count, the level, judgement and its reason), the dates, the
risk trajectory, incidents by type over the last 12 months, the criteria met, the partner agencies
linked (under their own references) and the IDVA's own two fields. Never her number, her check-in
words, the case notes or anything about her secrets.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.alert_text import FACTS
from bot.web import dash_summary, spreadsheet
from safety.dash import ITEMS, YEAR, Answer, incidents_by_type, level_for_ticks
from safety.signals import DASH_QUESTIONS
from storage import caseload, cases, dash, marac, partners, services
from storage.cases import Case
from storage.crypto import Crypto
from storage.db import Tx

FORMAT = "safecheck-marac-referral-1"

Referral = dict[str, Any]


async def gather(tx: Tx, crypto: Crypto, case: Case, now: datetime) -> Referral:
    """The referral as JSON-ready data (dates as the service's staff count days)."""
    service = await services.get(tx, case.service_id)
    zone = ZoneInfo(service.timezone)
    today = now.astimezone(zone).date()
    summary = await dash_summary.summary(tx, crypto, case.id, case.service_id, service.timezone, now)
    history = await dash.history(tx, crypto, case.id)
    meetings = await dash.meetings(tx, crypto, case.id)
    dates = await marac.case_dates(tx, case.id)
    since = datetime.combine(today - YEAR - timedelta(days=1), time(), zone)
    checkins = [(at.astimezone(zone).date(), s) for at, s in await dash.checkin_signals(tx, case.id, since)]
    names = await caseload.names_of_service(tx, crypto, case.service_id)
    people = {p.id: p for p in await partners.people_of_service(tx, crypto, case.service_id)}
    agencies = {p.id: p for p in await partners.of_service(tx, case.service_id)}
    links = await partners.links(tx, crypto, case.id)
    fields = await marac.idva_fields(tx, crypto, case.id)
    points = await caseload.risk_points(tx, case.id)

    def day(at: datetime | None) -> str | None:
        return at.astimezone(zone).date().isoformat() if at else None

    latest = summary.latest
    trajectory = [{"date": day(r.recorded_at), "source": "dash", "level": r.level.value} for r in history]
    previous = None
    for point in points:  # check-in levels where they changed: the shape, not every check-in
        if point.at.astimezone(zone).date() >= today - YEAR and point.level != previous:
            trajectory.append({"date": day(point.at), "source": "checkin", "level": point.level})
        previous = point.level
    trajectory.sort(key=lambda p: (p["date"], p["source"]))
    return {
        "format": FORMAT,
        "case_ref": case.ref,
        "service": service.name,
        "prepared_on": today.isoformat(),
        "idva": names.get(case.idva_id, ""),
        "survivor_name": cases.name_of(crypto, case),
        "dates": {
            "intake": day(dates.intake),
            "dash": [day(r.recorded_at) for r in history],
            "last_checkin": day(dates.last_checkin),
            "previous_marac": summary.last_marac.isoformat() if summary.last_marac else None,
        },
        "dash": None
        if latest is None
        else {
            "recorded_on": day(latest.recorded_at),
            "ticks": latest.ticks,
            "count_level": level_for_ticks(latest.ticks).value,
            "level": latest.level.value,
            "judgement": latest.judgement.value if latest.judgement else None,
            "judgement_reason": latest.reason,
            "items": [{"item": n, "question": DASH_QUESTIONS[n], "answer": _answer(latest.answers, n)} for n in ITEMS],
        },
        "criteria": [
            {
                "criterion": met.criterion.value,
                "title": dash_summary.CRITERION_TITLES[met.criterion.value],
                "reason": met.reason,
            }
            for met in summary.criteria
        ],
        "trajectory": trajectory,
        "incidents_12_months": [
            {"type": kind, "label": FACTS.get(kind, kind.replace("_", " ")), "count": count}
            for kind, count in incidents_by_type(checkins, today).items()
        ],
        "partners": [
            {
                "agency": agencies[link.partner_id].name if link.partner_id in agencies else "",
                "contact": people[link.contact_id].name if link.contact_id in people else "",
                "reference": link.partner_ref,
            }
            for link in links
        ],
        "marac_meetings": [{"date": m.meeting_date.isoformat(), "heard": m.heard} for m in meetings],
        "idva_fields": {"reason_for_referral": fields.reason, "her_views": fields.views},
    }


def _answer(answers: Mapping[int, Answer], item: int) -> str | None:
    """The item's answer code; None once withdrawal erased the answers (the count and level stay)."""
    return answers[item].value if item in answers else None


def flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(dotted path, scalar) for every leaf; list members are numbered from 1 (so DASH item 7 is .items.7)."""
    if isinstance(value, dict):
        return [row for key, inner in value.items() for row in flatten(inner, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [row for n, inner in enumerate(value, 1) for row in flatten(inner, f"{path}.{n}")]
    return [(path, value)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet.cell(str(value))


def to_csv(referral: Referral) -> str:
    """One row per field: `field,value`, the field the JSON path (docs/workspace.md, "Marac referral")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["field", "value"])
    writer.writerows((path, _cell(value)) for path, value in flatten(referral))
    return out.getvalue()
