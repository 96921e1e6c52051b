"""GET/POST /cases/{ref}/dash: the IDVA records the SafeLives DASH checklist (24 items, yes / no / not known),
optionally raising its level by professional judgement with a reason. The latest DASH's level becomes the
case's intake level. Only the case's IDVA or a manager records it; the audit row carries the tick count only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.web import access, forms
from bot.web.case_actions import case_to_act_on
from bot.web.case_page import REF, may_change
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.viewer import viewer
from bot.web.words import N_, _
from safety import dash
from safety.dash import ITEMS, Answer, DashError
from safety.model import IntakeLevel
from safety.signals import DASH_QUESTIONS
from storage import audit
from storage import dash as dash_store
from storage.cases import Case
from storage.db import Tx

routes = web.RouteTableDef()
ENDED = ("closed", "withdrawn")
MAX_REASON = 1000
NOT_ALLOWED = N_("Only the case's IDVA or a manager can record a DASH.")
JUDGEMENTS = {"": N_("No: the count stands"), "medium": N_("Raise to medium"), "high": N_("Raise to high")}


def _page(case: Case, values: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "case": case,
        "items": [(n, DASH_QUESTIONS[n]) for n in ITEMS],
        "answers": list(Answer),
        "judgements": JUDGEMENTS,
        "values": values,
        "errors": errors,
    }


Posted = tuple[dict[str, str], dict[int, Answer], IntakeLevel | None, str, dict[str, str]]


def read_form(form: Mapping[str, Any]) -> Posted:
    """The posted checklist: the raw values (to show again), answers, judgement, reason, and errors by field."""
    values = {f"q{n}": forms.text(form, f"q{n}", 16) for n in ITEMS}
    values["judgement"] = forms.text(form, "judgement", 16)
    values["reason"] = forms.text(form, "reason", MAX_REASON + 1).strip()
    errors: dict[str, str] = {}
    answers: dict[int, Answer] = {}
    for n in ITEMS:
        try:
            answers[n] = Answer(values[f"q{n}"])
        except ValueError:
            errors[f"q{n}"] = _("Question {n}: choose yes, no or not known.").format(n=n)
    judgement = None
    if values["judgement"] not in JUDGEMENTS:
        errors["judgement"] = _("Choose whether your professional judgement raises the level.")
    elif values["judgement"]:
        judgement = IntakeLevel(values["judgement"])
        if not values["reason"]:
            errors["reason"] = _("Say why your professional judgement raises the level.")
        elif len(values["reason"]) > MAX_REASON:
            errors["reason"] = _("The reason can be at most {max_reason} characters.").format(max_reason=MAX_REASON)
        elif len(answers) == len(ITEMS) and not dash.raises(answers, judgement):
            counted = dash.level_for_ticks(dash.ticks(answers)).value
            errors["judgement"] = _("Judgement can only raise the level: the count already gives {counted}.").format(
                counted=counted
            )
    return values, answers, judgement, values["reason"], errors


@routes.get(REF + "/dash")
async def dash_form(request: web.Request) -> web.Response:
    ref = request.match_info["ref"]
    try:
        case = await access.case_for(request, ref)
    except access.NeedsReason:
        return render("case_reason.html", request, {"ref": ref.upper(), "error": None}, status=403)
    if not may_change(viewer(request), case):
        raise web.HTTPForbidden(text=_(NOT_ALLOWED))
    return render("dash.html", request, _page(case, {}, {}))


@routes.post(REF + "/dash")
async def dash_submit(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    case = await case_to_act_on(request)
    if not may_change(who, case):
        raise web.HTTPForbidden(text=_(NOT_ALLOWED))
    values, answers, judgement, reason, errors = read_form(await request.post())
    if case.status in ENDED:
        errors = {"form": _("The case is {status}: a DASH can no longer be recorded.").format(status=case.status)}
        return render("dash.html", request, _page(case, values, errors), status=409)
    if errors:
        return render("dash.html", request, _page(case, values, errors), status=400)
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        record = await dash_store.add(
            tx, app.crypto, case.id, who.practitioner_id, answers, judgement, reason or None, now
        )
        await audit.log(tx, now, who.actor, "dash_recorded", case.id, f"ticks={record.ticks}")
        await tx.commit()

    try:
        await app.db.run(unit)
    except DashError as exc:  # the form checks first; this is the core's own line, never a 500
        return render("dash.html", request, _page(case, values, {"form": str(exc)}), status=400)
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=dash#dash")
