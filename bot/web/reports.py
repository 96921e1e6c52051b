"""Manage → Reports: the service's report for a period, narrowed by IDVA, channel and language, as a page,
a CSV and a PDF.

Managers only (as Manage → Shares). All three show the same published numbers (bot/web/report_view.py):
counts under 5 as "<5", with the figures that would give them away hidden too. Viewing and each
download are audited with the filters as ids and codes, never a name.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import pdf, report_pdf
from bot.web import forms, report_mailing
from bot.web.access import require_role
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.report_view import SUPPRESSION_RULE, ReportView, csv_text, view
from bot.web.viewer import Viewer, viewer
from bot.web.words import _
from safety.report_tables import Filters
from storage import audit, monthly_reports, practitioners, report_figures, services
from storage.db import Tx
from storage.report_figures import SectionBuilder

routes = web.RouteTableDef()
PAGE = "/manage/reports"
FIELDS = ("month", "from", "to", "idva", "channel", "language")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
YEARS = range(2000, 2100)  # a date outside these is a typing slip (and 9999-12-31 has no day after it)
# The report's sections; a test serves the page with builders of its own.
SECTIONS_KEY = web.AppKey("safecheck.report_sections", tuple[SectionBuilder, ...])


@dataclass(frozen=True)
class Choices:
    """What each filter may be: the service's IDVAs (by id, with names) and its cases' channels and languages."""

    idvas: dict[int, str]
    channels: tuple[str, ...]
    languages: tuple[str, ...]


def _month(text: str, errors: dict[str, str]) -> tuple[date, date] | None:
    found = MONTH.match(text)
    if not found or int(found[1]) not in YEARS or not 1 <= int(found[2]) <= 12:
        errors["month"] = _("Choose a month, as YYYY-MM.")
        return None
    return monthly_reports.month_bounds(text)


def _dates(raw: dict[str, str], errors: dict[str, str]) -> tuple[date, date] | None:
    since, until = forms.period(raw["from"], raw["to"], errors)
    for name, day in (("from", since), ("to", until)):
        if name not in errors and day is None:
            errors[name] = _("Give both dates, or clear both to report on the month.")
        elif day is not None and day.year not in YEARS:
            errors[name] = _("Give a date between 2000 and 2099.")
    if errors or since is None or until is None:
        return None
    return since, until + timedelta(days=1)  # "to" is included; a Filters' end is not


def parse(raw: dict[str, str], today: date, choices: Choices) -> tuple[Filters | None, dict[str, str]]:
    """The filters the form asks for, or None and a one-line error per bad field.

    Dates, when given, win over the month; with neither, last month."""
    errors: dict[str, str] = {}
    if raw["from"] or raw["to"]:
        period = _dates(raw, errors)
    else:
        period = _month(raw["month"] or monthly_reports.previous_month(today), errors)
    idva = int(raw["idva"]) if forms.is_number(raw["idva"]) and len(raw["idva"]) < 12 else None
    if raw["idva"] and idva not in choices.idvas:
        errors["idva"] = _("Choose one of the service's IDVAs.")
    if raw["channel"] and raw["channel"] not in choices.channels:
        errors["channel"] = _("Choose one of the channels listed.")
    if raw["language"] and raw["language"] not in choices.languages:
        errors["language"] = _("Choose one of the languages listed.")
    if errors or period is None:
        return None, errors
    return Filters(period[0], period[1], idva, raw["channel"] or None, raw["language"] or None), {}


def query_of(filters: Filters, raw: dict[str, str]) -> dict[str, str]:
    """The query that asks for these filters again (the month made explicit, so a download made after
    midnight on the 1st is still the month on the page)."""
    dates = {"from": raw["from"], "to": raw["to"]}
    shown = dates if raw["from"] or raw["to"] else {"month": f"{filters.start:%Y-%m}"}
    narrow = {"idva": filters.idva_id, "channel": filters.channel, "language": filters.language}
    return {**shown, **{k: str(v) for k, v in narrow.items() if v is not None}}


def audit_detail(fmt: str, filters: Filters) -> str:
    """Ids and codes only: the IDVA by id, never by name."""
    parts = [f"format={fmt}", f"start={filters.start}", f"end={filters.end}"]
    narrow = (("idva", filters.idva_id), ("channel", filters.channel), ("language", filters.language))
    parts += [f"{k}={v}" for k, v in narrow if v is not None]
    return " ".join(parts)


@dataclass(frozen=True)
class Asked:
    who: Viewer
    raw: dict[str, str]
    choices: Choices
    filters: Filters | None
    errors: dict[str, str]
    shown: ReportView | None
    today: date


async def _asked(request: web.Request) -> Asked:
    """The manager's request read and checked, and the report for it (None if a filter is bad)."""
    who = viewer(request)
    require_role(who, "manager")
    app = request.app[APP_KEY]
    raw = {name: request.query.get(name, "").strip()[:32] for name in FIELDS}
    sections = request.app.get(SECTIONS_KEY, report_figures.SECTIONS)
    async with app.db.reading() as tx:
        service = await services.get(tx, who.service_id)
        zone = ZoneInfo(service.timezone)
        today = app.clock.now().astimezone(zone).date()
        idva_ids, channels, languages = await report_figures.filter_values(tx, who.service_id)
        people = {p.id: p.name for p in await practitioners.list_for_service(tx, app.crypto, who.service_id)}
        idvas = [*await practitioners.ids_with_role(tx, who.service_id, "idva"), *idva_ids]
        choices = Choices(
            {pid: people[pid] for pid in sorted(set(idvas)) if pid in people},
            tuple(sorted({*channels, *app.survivor_channels})),
            tuple(dict.fromkeys([*service.languages, *languages])),
        )
        filters, errors = parse(raw, today, choices)
        report = None
        if filters is not None:
            report = await report_figures.build(tx, service.id, service.name, zone, filters, sections)
    idva_name = choices.idvas.get(filters.idva_id) if filters and filters.idva_id is not None else None
    shown = view(report, idva_name) if report is not None else None
    return Asked(who, raw, choices, filters, errors, shown, today)


async def _audited(request: web.Request, asked: Asked, action: str, fmt: str) -> None:
    app = request.app[APP_KEY]
    now = app.clock.now()
    assert asked.filters is not None
    detail = audit_detail(fmt, asked.filters)

    async def unit(tx: Tx) -> None:
        await audit.log(tx, now, asked.who.actor, action, None, detail, asked.who.service_id)
        await tx.commit()

    await app.db.run(unit)


def _page(request: web.Request, asked: Asked, status: int, mailing: bool | None = None, **errors: str) -> web.Response:
    query = urlencode(query_of(asked.filters, asked.raw)) if asked.filters else ""
    context: dict[str, Any] = {
        "asked": asked,
        "shown": asked.shown,
        "errors": {**asked.errors, **errors},
        "query": asked.raw,
        "default_month": monthly_reports.previous_month(asked.today),
        "rule": _(SUPPRESSION_RULE),
        "csv_link": f"{PAGE}.csv?{query}",
        "pdf_link": f"{PAGE}.pdf?{query}",
        "mailing": mailing,  # whether this manager gets it monthly; None: not asked (a failed download)
        "mailing_done": request.query.get("mailing", ""),
        "no_email": _(report_mailing.NO_EMAIL),
    }
    return render("manage_reports.html", request, context, status)


@routes.get(PAGE)
async def reports_page(request: web.Request) -> web.Response:
    asked = await _asked(request)
    if asked.filters is not None:
        await _audited(request, asked, "report_viewed", "page")
    mailing = await report_mailing.subscribed(request, asked.who)
    return _page(request, asked, 400 if asked.errors else 200, mailing)


def _download(body: bytes, content_type: str, filters: Filters, ext: str) -> web.Response:
    name = f"safecheck-report-{filters.start}-to-{filters.end - timedelta(days=1)}.{ext}"
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8" if ext == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@routes.get(PAGE + ".csv")
async def reports_csv(request: web.Request) -> web.Response:
    asked = await _asked(request)
    if asked.shown is None or asked.filters is None:
        raise web.HTTPBadRequest(text=next(iter(asked.errors.values())))
    body = csv_text(asked.shown).encode("utf-8-sig")  # the BOM: spreadsheets read it as UTF-8
    await _audited(request, asked, "report_export", "csv")
    return _download(body, "text/csv", asked.filters, "csv")


@routes.get(PAGE + ".pdf")
async def reports_pdf(request: web.Request) -> web.Response:
    asked = await _asked(request)
    if asked.shown is None or asked.filters is None:
        raise web.HTTPBadRequest(text=next(iter(asked.errors.values())))
    try:
        body = await asyncio.get_running_loop().run_in_executor(None, report_pdf.render, asked.shown, asked.today)
    except pdf.PdfUnavailable as exc:
        return _page(request, asked, 503, pdf=str(exc))
    await _audited(request, asked, "report_export", "pdf")
    return _download(body, "application/pdf", asked.filters, "pdf")
