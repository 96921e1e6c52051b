"""Manage → Shares: every share of the manager's own service on record, and the partners' response times.

Managers only. Each share shows what went (kind, level, the reason in the alert's words), to whom, when, on
which basis (a share not made on her consent is flagged "without consent"), the agreement's lawful basis,
the consent text version, the acknowledgement and the partner's action. The response times are BS 8484's
shape (safety/share_times.py). Viewing and downloading are audited with the filters only.

Personal data: a case is named by our reference. The partner's own reference for it (which points at
another person's case) is on the case page and is left out here, on the page and in the CSV alike.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.alert_text import reason_words
from bot.web import forms, spreadsheet
from bot.web.access import require_role
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.timefmt import shower
from bot.web.viewer import Viewer, viewer
from bot.web.words import _
from safety.share_times import BOUNDS_MINUTES, ResponseTimes, Sample, by_partner, minutes_text, summarise
from safety.sharing import ACTION_LABELS
from storage import audit, partners, services, share_report
from storage.db import Tx
from storage.share_report import ShareRecord

routes = web.RouteTableDef()
PAGE = "/manage/shares"
CSV_PATH = "/manage/shares.csv"
TIMED_KINDS = ("risk_changes", "urgent_alerts")  # what the response times are about: risk changes


@dataclass(frozen=True)
class Filters:
    partner_id: int | None
    since: date | None
    until: date | None  # included

    def query(self) -> dict[str, str]:
        shown = {"partner": self.partner_id, "from": self.since, "to": self.until}
        return {k: str(v) for k, v in shown.items() if v is not None}


@dataclass(frozen=True)
class Report:
    filters: Filters
    timezone: str
    partner_names: dict[int, str]
    shares: list[ShareRecord]
    times: dict[int, ResponseTimes]  # per partner
    overall: ResponseTimes


def timed(record: ShareRecord) -> bool:
    """A share of a risk change or an urgent alert: the response times count it (summaries are not chased)."""
    return record.alert_id is not None and record.kind != "checkin_summaries"


async def _report(request: web.Request, who: Viewer) -> tuple[Report, dict[str, str], dict[str, str]]:
    """The report for the request's filters, the errors, and the raw query to show back in the form."""
    app = request.app[APP_KEY]
    raw = {name: request.query.get(name, "").strip()[:32] for name in ("partner", "from", "to")}
    errors: dict[str, str] = {}
    async with app.db.reading() as tx:
        service = await services.get(tx, who.service_id)
        names = {p.id: p.name for p in await partners.of_service(tx, who.service_id)}
        partner_id = int(raw["partner"]) if forms.is_number(raw["partner"]) and len(raw["partner"]) < 12 else None
        if raw["partner"] and partner_id not in names:
            errors["partner"] = _("Choose one of the service's partners.")
            partner_id = None
        since, until = forms.period(raw["from"], raw["to"], errors)
        zone = ZoneInfo(service.timezone)
        found = (
            []
            if errors
            else await share_report.of_service(
                tx,
                app.crypto,
                who.service_id,
                partner_id=partner_id,
                since=datetime.combine(since, time(0), tzinfo=zone) if since else None,
                until=datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone) if until else None,
            )
        )
    for r in found:  # a partner made inactive since still names its shares
        names.setdefault(r.partner_id, r.partner_name)
    samples = [(r.partner_id, Sample(r.raised_at, r.acknowledged_at)) for r in found if timed(r)]
    report = Report(
        Filters(partner_id, since, until) if not errors else Filters(None, None, None),
        service.timezone,
        names,
        found,
        by_partner(samples),
        summarise(s for _when, s in samples),
    )
    return report, errors, raw


def wait_of(record: ShareRecord) -> timedelta | None:
    return Sample(record.raised_at, record.acknowledged_at).wait


async def _audited(request: web.Request, who: Viewer, action: str, report: Report) -> None:
    app = request.app[APP_KEY]
    now = app.clock.now()
    detail = json.dumps({"filters": report.filters.query(), "shares": len(report.shares)}, sort_keys=True)

    async def unit(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, action, None, detail, who.service_id)
        await tx.commit()

    await app.db.run(unit)


def action_words(code: str | None) -> str:
    return ACTION_LABELS.get(code, code) if code else ""


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"


@routes.get(PAGE)
async def shares_page(request: web.Request) -> web.Response:
    who = viewer(request)
    require_role(who, "manager")
    report, errors, raw = await _report(request, who)
    await _audited(request, who, "shares_viewed", report)
    context: dict[str, Any] = {
        "report": report,
        "errors": errors,
        "query": raw,
        "bounds": BOUNDS_MINUTES,
        "when": shower(report.timezone),
        "minutes_text": minutes_text,
        "percent": percent,
        "reason_words": reason_words,
        "action_words": action_words,
        "wait_of": wait_of,
        "timed": timed,
        "csv_link": f"{CSV_PATH}?{urlencode(report.filters.query())}" if report.filters.query() else CSV_PATH,
    }
    return render("manage_shares.html", request, context, 400 if errors else 200)


SHARE_COLUMNS = (
    "share",
    "created_utc",
    "risk_change_utc",
    "case_ref",
    "partner",
    "person",
    "kind",
    "level",
    "reason",
    "basis",
    "without_consent",
    "agreement_ref",
    "agreement_basis",
    "consent_version",
    "justification_recorded",
    "approved_by",
    "acknowledged_utc",
    "acknowledged_by",
    "minutes_to_acknowledge",
    "action",
    "action_utc",
)
SUMMARY_COLUMNS = (
    "partner",
    "shares_of_risk_changes",
    "acknowledged",
    "median_m_ss",
    "p90_m_ss",
    *(f"within_{m}_min" for m in BOUNDS_MINUTES),
)


def _utc(value: datetime | None) -> str:
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _summary_row(label: str, times: ResponseTimes) -> list[str]:
    within = [f"{times.within[m]} ({percent(times.within[m], times.count)})" for m in BOUNDS_MINUTES]
    return [
        label,
        str(times.count),
        str(times.acknowledged),
        minutes_text(times.median),
        minutes_text(times.p90),
        *within,
    ]


def report_csv(report: Report) -> str:
    """The shares, then a blank line and the response times per partner and overall."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SHARE_COLUMNS)
    for r in report.shares:
        wait = wait_of(r)
        writer.writerow(
            [
                spreadsheet.cell(v)
                for v in (
                    f"S-{r.id}",
                    _utc(r.created_at),
                    _utc(r.raised_at),
                    r.case_ref,
                    r.partner_name,
                    r.contact_name,
                    r.kind,
                    r.level or "",
                    reason_words(r.reason, r.facts),
                    r.basis,
                    "yes" if r.without_consent else "no",
                    r.agreement_ref,
                    r.agreement_basis,
                    r.consent_version or "",
                    "yes" if r.justification else "no",
                    r.approved_by or "",
                    _utc(r.acknowledged_at),
                    r.acknowledged_by or "",
                    minutes_text(wait) if wait is not None else "",
                    r.action or "",
                    _utc(r.action_at),
                )
            ]
        )
    writer.writerow([])
    writer.writerow(SUMMARY_COLUMNS)
    for pid, times in report.times.items():
        writer.writerow([spreadsheet.cell(v) for v in _summary_row(report.partner_names.get(pid, f"#{pid}"), times)])
    writer.writerow(_summary_row(_("All partners"), report.overall))
    return out.getvalue()


@routes.get(CSV_PATH)
async def shares_csv(request: web.Request) -> web.Response:
    who = viewer(request)
    require_role(who, "manager")
    report, errors, _rest = await _report(request, who)
    if errors:
        raise web.HTTPBadRequest(text=next(iter(errors.values())))
    await _audited(request, who, "shares_exported", report)
    return web.Response(
        text=report_csv(report),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="safecheck-shares.csv"', "Cache-Control": "no-store"},
    )
