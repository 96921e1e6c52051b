"""/cases/{ref}/subject-access: a survivor's subject access export (storage/subject_access.py), for managers.

GET shows the review: every text written by staff or partners that may identify someone else, each to
release or withhold with a reason. The form has two buttons, "Download PDF" and "Download JSON"; each
POSTs the same review and returns that file as an attachment, so the browser stays on the review with the
choices still made and the manager downloads the other file from the same review. Nothing is kept on the
server between the two (no stored export, nothing to expire), and each download is audited with its
format and the ids withheld, so two downloads that differ show in the audit. A POST whose review misses an
item added since the page was opened is refused with the page shown again: nothing unreviewed goes out.

Managers only (an IDVA, duty worker or partner is refused, audited); another service's case, or an unknown
reference, is a 404 that says nothing. The export is never sent anywhere: no channel is involved.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot import pdf
from bot.i18n import CatalogError
from bot.web import access, forms
from bot.web.access import Access
from bot.web.case_page import REF
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.viewer import viewer
from bot.web.words import N_, _
from storage import audit, cases
from storage import subject_access as sar
from storage.cases import Case
from storage.db import Tx

routes = web.RouteTableDef()
NOT_ALLOWED = N_("Only a manager can prepare a subject access export.")
TYPES = {"pdf": "application/pdf", "json": "application/json"}
PARTS = {
    "case": N_("Her case record"),
    "consents": N_("Her consents"),
    "schedule": N_("Check-in schedule"),
    "outcome_at_closure": N_("Outcome recorded when her case closed"),
    "checkins": N_("Check-ins: questions, answers and her words"),
    "alerts": N_("Alerts, who was told, and how each ended"),
    "messages_to_her": N_("Messages sent to her"),
    "messages_from_her": N_("Messages she sent"),
    "case_notes": N_("Case notes"),
    "partner_links": N_("Partner agencies linked to her case"),
    "partner_consents": N_("Her consents to sharing with partners"),
    "shares": N_("Information shared with partners"),
    "share_requests": N_("Requests to share without her consent"),
    "dash_assessments": N_("DASH risk assessments"),
    "marac_meetings": N_("Marac meetings"),
    "marac_referral": N_("Marac referral"),
    "access_reasons": N_("Reasons staff gave for opening her case"),
    "audit": N_("Audit entries about her case"),
    "withheld": N_("Items withheld"),
}
LOCAL_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d(\.\d+)?)?[+-]\d\d:\d\d")


async def export_case(request: web.Request) -> Case:
    """The case if this person is a manager who may read it; else 403 (audited) or 404 (audited, says nothing)."""
    who = viewer(request)
    app = request.app[APP_KEY]
    ref = request.match_info["ref"]
    if not who.has("manager"):
        async with app.db.reading() as tx:
            found = await cases.by_ref(tx, ref)
        case_id = found.id if found is not None and found.service_id == who.service_id else None
        now = app.clock.now()

        async def refused(tx: Tx) -> None:
            detail = "access=subject_access_not_allowed"
            await audit.log(tx, now, who.actor, "case_view_denied", case_id, detail, who.service_id)
            await tx.commit()

        await app.db.run(refused)
        raise web.HTTPForbidden(text=_(NOT_ALLOWED))
    async with app.db.reading() as tx:
        case, allowed = await access.case_access(tx, who, ref)
    if case is None or allowed is not Access.ALLOWED:
        await access.case_for(request, ref)  # audits the refusal and raises
        raise web.HTTPNotFound(text=_("No such case."))
    return case


async def _export(request: web.Request, case: Case, withheld: Mapping[str, str] | None = None) -> sar.Export:
    app = request.app[APP_KEY]

    def said(message: dict[str, Any], language: str, timezone: str) -> str | None:
        try:
            return app.catalogs.render(message, language, timezone).text
        except (CatalogError, KeyError, IndexError, ValueError):  # a message the catalogs no longer render
            return None

    async with app.db.reading() as tx:
        return await sar.gather(tx, app.crypto, case.id, app.clock.now(), withheld=withheld, render=said)


async def _page(
    request: web.Request,
    case: Case,
    choices: Mapping[str, str] | None = None,
    errors: dict[str, str] | None = None,
    new: frozenset[str] = frozenset(),
    status: int = 200,
) -> web.Response:
    export = await _export(request, case)
    context = {
        "case": case,
        "items": export.reviewed,
        "reviewed": ",".join(item.id for item in export.reviewed),
        "choices": choices or {},
        "reasons": sar.WITHHOLD_REASONS,
        "new": new,
        "errors": errors or {},
    }
    return render("subject_access.html", request, context, status=status)


@routes.get(REF + "/subject-access")
async def review(request: web.Request) -> web.Response:
    case = await export_case(request)
    app = request.app[APP_KEY]
    who, now = viewer(request), app.clock.now()

    async def viewed(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, "subject_access_reviewed", case.id)
        await tx.commit()

    await app.db.run(viewed)  # the review shows notes: a view of case content
    return await _page(request, case)


def field_id(item: str) -> str:
    """The form field of one item's choice (ids are like "case_note:12")."""
    return "withhold-" + item.replace(":", "-")


@routes.post(REF + "/subject-access")
async def download(request: web.Request) -> web.StreamResponse:
    case = await export_case(request)
    app = request.app[APP_KEY]
    who = viewer(request)
    form = await request.post()
    fmt = forms.text(form, "format", 8)
    seen = frozenset(forms.text(form, "reviewed", 100_000).split(","))
    current = (await _export(request, case)).reviewed
    choices = {item.id: forms.text(form, field_id(item.id), 32) for item in current}
    errors = {
        field_id(item): _("Choose to release it or a reason to withhold it.")
        for item, choice in choices.items()
        if choice and choice not in sar.WITHHOLD_REASONS
    }
    if fmt not in TYPES:
        errors["format"] = _("Choose PDF or JSON.")
    new = frozenset(item.id for item in current) - seen
    if new:
        errors["new"] = _("Something was added to her case since this page was opened: review the marked items.")
    if errors:
        return await _page(request, case, choices, errors, new, 409 if new else 400)
    withheld = {item: choice for item, choice in choices.items() if choice}
    export = await _export(request, case, withheld)
    if fmt == "json":
        body = json.dumps(export.data, ensure_ascii=False, indent=2).encode()
    else:
        context = {"d": export.data, "parts": PARTS, "readable": readable, "label": label}
        html = aiohttp_jinja2.get_env(request.app).get_template("subject_access_print.html").render(context)
        try:
            body = await asyncio.get_running_loop().run_in_executor(None, pdf.html_to_pdf, html)
        except pdf.PdfUnavailable as exc:
            return await _page(request, case, choices, {"pdf": str(exc)}, status=503)
    now = app.clock.now()
    detail = f"format={fmt} withheld=" + (",".join(f"{k}/{v}" for k, v in sorted(withheld.items())) or "none")

    async def exported(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, "subject_access_export", case.id, detail)
        await tx.commit()

    await app.db.run(exported)
    return web.Response(
        body=body,
        content_type=TYPES[fmt],
        charset="utf-8" if fmt == "json" else None,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="subject-access-{case.ref}.{fmt}"',
        },
    )


def readable(value: Any) -> str:
    """A leaf value as the PDF shows it: local times without seconds, yes/no, a dash for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    found = LOCAL_TIME.fullmatch(text)
    return f"{found.group(1)} {found.group(2)}" if found else text


LABELS = {
    "idva": "IDVA",
    "checkin_mode": N_("Check-in mode"),
    "sms_reports": N_("SMS delivery reports"),
    "missed_checkin_alerts_agreed": N_("Alerts on missed check-ins agreed"),
}


def label(key: Any) -> str:
    """A JSON key as a heading: "acknowledged_at" reads "Acknowledged at"."""
    if key in LABELS:
        return _(LABELS[key])
    text = str(key).replace("_", " ")
    return text[:1].upper() + text[1:]
