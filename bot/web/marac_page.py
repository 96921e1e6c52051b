"""/cases/{ref}/marac: the Marac referral drafted from what the case holds (bot/web/marac_referral.py),
the IDVA's two fields, its downloads (PDF, JSON, CSV) and the Marac meetings the case was listed at.

Only the case's IDVA or a manager: a duty worker, another IDVA or a partner is refused (audited), and
another service's case does not exist. Every view and download is audited (the format only); each
download is an attachment named by the case reference alone, never stored by the browser.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot import pdf
from bot.web import access, forms, marac_referral
from bot.web.access import Access
from bot.web.case_actions import case_to_act_on
from bot.web.case_page import REF, may_change
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.viewer import viewer
from bot.web.words import N_, _, maybe
from safety.dash import Answer
from storage import audit, marac
from storage import dash as dash_store
from storage.cases import Case
from storage.db import Tx

routes = web.RouteTableDef()
ENDED = ("closed", "withdrawn")
NOT_ALLOWED = N_("Only the case's IDVA or a manager can prepare a Marac referral.")
ANSWER_LABELS = {a.value: a.label for a in Answer}
NOTICES = {"saved": N_("Your part of the referral is saved."), "meeting": N_("The Marac meeting is recorded.")}
TYPES = {"pdf": "application/pdf", "json": "application/json", "csv": "text/csv"}


async def referral_case(request: web.Request, action: str, detail: str = "") -> Case:
    """The case if this person may prepare its referral, the view audited; else 403/404, audited."""
    who = viewer(request)
    app = request.app[APP_KEY]
    ref = request.match_info["ref"]
    async with app.db.reading() as tx:
        case, found = await access.case_access(tx, who, ref)
    if case is None or found is not Access.ALLOWED:
        await access.case_for(request, ref)  # audits the refusal and raises
        raise web.HTTPForbidden(text=_(NOT_ALLOWED))
    allowed = may_change(who, case)
    now = app.clock.now()

    async def log(tx: Tx) -> None:
        if allowed:
            await audit.log(tx, now, who.actor, action, case.id, detail)
        else:
            await audit.log(tx, now, who.actor, "case_view_denied", case.id, "access=marac_not_allowed")
        await tx.commit()

    await app.db.run(log)
    if not allowed:
        raise web.HTTPForbidden(text=_(NOT_ALLOWED))
    return case


async def _referral(request: web.Request, case: Case) -> marac_referral.Referral:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        return await marac_referral.gather(tx, app.crypto, case, app.clock.now())


async def _page(
    request: web.Request,
    case: Case,
    values: Mapping[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    r = await _referral(request, case)
    if values is None:
        fields = r["idva_fields"]
        values = {"reason": fields["reason_for_referral"] or "", "views": fields["her_views"] or ""}
    context = {
        "case": case,
        "r": r,
        "answer_labels": ANSWER_LABELS,
        "values": values,
        "errors": errors or {},
        "open": case.status not in ENDED,
        "max_text": marac.MAX_TEXT,
        "today": r["prepared_on"],
        "notice": maybe(NOTICES.get(request.query.get("done", ""))),
    }
    return render("marac.html", request, context, status=status)


@routes.get(REF + "/marac")
async def referral_page(request: web.Request) -> web.Response:
    case = await referral_case(request, "marac_referral_viewed")
    return await _page(request, case)


async def _case_to_change(request: web.Request) -> Case:
    case = await case_to_act_on(request)
    if not may_change(viewer(request), case):
        raise web.HTTPForbidden(text=_(NOT_ALLOWED))
    return case


def _text(form: Mapping[str, Any], key: str, label: str, errors: dict[str, str]) -> str:
    value = forms.text(form, key, marac.MAX_TEXT + 1).strip()
    if len(value) > marac.MAX_TEXT:
        errors[key] = f"{label} can be at most {marac.MAX_TEXT} characters."
    return value


@routes.post(REF + "/marac")
async def save_fields(request: web.Request) -> web.StreamResponse:
    case = await _case_to_change(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    errors: dict[str, str] = {}
    values = {
        "reason": _text(form, "reason", _("The reason"), errors),
        "views": _text(form, "views", _("Her views"), errors),
    }
    if case.status in ENDED:
        errors["fields"] = _("The case is {status}: its referral can no longer be changed.").format(status=case.status)
    if errors:
        return await _page(request, case, values, errors, 409 if "fields" in errors else 400)
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        reason, views = values["reason"], values["views"]
        await marac.save_idva_fields(tx, app.crypto, case.id, reason, views, who.practitioner_id, now)
        await audit.log(tx, now, who.actor, "marac_referral_saved", case.id)
        await tx.commit()

    await app.db.run(unit)
    raise web.HTTPSeeOther(f"/cases/{case.ref}/marac?done=saved")


@routes.post(REF + "/marac/meetings")
async def record_meeting(request: web.Request) -> web.StreamResponse:
    case = await _case_to_change(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    errors: dict[str, str] = {}
    today = date.fromisoformat((await _referral(request, case))["prepared_on"])
    values = {
        "meeting_date": forms.text(form, "meeting_date", 32).strip(),
        "heard": forms.text(form, "heard", 8),
        "actions": _text(form, "actions", _("The actions"), errors),
    }
    meeting_date = None
    try:
        meeting_date = date.fromisoformat(values["meeting_date"]) if values["meeting_date"] else None
    except ValueError:
        errors["meeting_date"] = _("Give the Marac's date as a date, like 2026-11-23.")
    if meeting_date is None and "meeting_date" not in errors:
        errors["meeting_date"] = _("Give the date of the Marac.")
    elif meeting_date is not None and meeting_date > today:
        errors["meeting_date"] = _("Record a Marac once it has met: the date is in the future.")
    if values["heard"] not in ("yes", "no"):
        errors["heard"] = _("Say whether her case was heard.")
    if case.status in ENDED:
        errors = {
            "meeting": _("The case is {status}: a Marac meeting can no longer be recorded.").format(status=case.status)
        }
    if errors or meeting_date is None:
        return await _page(request, case, values, errors, 409 if "meeting" in errors else 400)
    heard = values["heard"] == "yes"
    lines = "\n".join(line.strip() for line in values["actions"].splitlines() if line.strip())
    now = app.clock.now()
    when = meeting_date

    async def unit(tx: Tx) -> None:
        meeting_id = await dash_store.add_meeting(
            tx, app.crypto, case.id, when, lines or None, who.practitioner_id, now, heard=heard
        )
        detail = f"meeting={meeting_id} heard={int(heard)}"
        await audit.log(tx, now, who.actor, "marac_meeting_recorded", case.id, detail)
        await tx.commit()

    await app.db.run(unit)
    raise web.HTTPSeeOther(f"/cases/{case.ref}/marac?done=meeting")


@routes.get(REF + "/marac.{fmt:pdf|json|csv}")
async def download(request: web.Request) -> web.StreamResponse:
    fmt = request.match_info["fmt"]
    case = await referral_case(request, "marac_referral_exported", f"format={fmt}")
    r = await _referral(request, case)
    if fmt == "json":
        body = json.dumps(r, ensure_ascii=False, indent=2).encode()
    elif fmt == "csv":
        body = marac_referral.to_csv(r).encode("utf-8-sig")  # the BOM: spreadsheets read it as UTF-8
    else:
        context = {"r": r, "answer_labels": ANSWER_LABELS}
        html = aiohttp_jinja2.get_env(request.app).get_template("marac_print.html").render(context)
        try:
            body = await asyncio.get_running_loop().run_in_executor(None, pdf.html_to_pdf, html)
        except pdf.PdfUnavailable as exc:
            return await _page(request, case, errors={"pdf": str(exc)}, status=503)
    return web.Response(
        body=body,
        content_type=TYPES[fmt],
        charset="utf-8" if fmt != "pdf" else None,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="marac-referral-{case.ref}.{fmt}"',
        },
    )
