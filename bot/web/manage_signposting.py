"""Manage → Service → Signposting: the check-in mode new cases start from, the discreet HELP line, and the
local helplines and safety-planning advice the printed card carries.

Each form is checked by bot.commands.signposting (the CLI's checks); an error is one line next to its field
and nothing is saved. Changes are audited with codes only (mode names, whether a HELP line is set, counts).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.commands import signposting as checks
from bot.commands.common import EnrolError
from bot.web import forms, mode_choice
from bot.web.keys import APP_KEY
from bot.web.manage import configurer
from bot.web.render import render
from bot.web.viewer import Viewer
from bot.web.words import N_, maybe
from storage import audit, services, signposting
from storage.case_mode import CaseMode
from storage.db import Tx

routes = web.RouteTableDef()
PAGE = "/manage/service/signposting"
NOTICES = {
    "mode": N_("The default check-in mode is saved: the enrolment screen pre-selects it."),
    "help": N_("The HELP line is saved."),
    "card": N_("The safety card is saved."),
}


async def _page(request: web.Request, who: Viewer, status: int = 200, **extra: Any) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        s = await services.get(tx, who.service_id)
    context: dict[str, Any] = {
        "mode": {"mode": s.default_checkin_mode, "theme": s.default_cover_theme or ""},
        "themes": mode_choice.theme_choices(app, s, (s.default_language,)),
        "help_line": s.help_line or "",
        "helplines": checks.helplines_text(s.helplines),
        "safety_card": s.safety_card,
        "errors": {},
        "notice": maybe(NOTICES.get(request.query.get("done", ""))),
    }
    context.update(extra)
    return render("manage_signposting.html", request, context, status)


@routes.get(PAGE)
async def signposting_page(request: web.Request) -> web.Response:
    return await _page(request, configurer(request))


async def _store(request: web.Request, who: Viewer, action: str, detail: str, work: Any) -> None:
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        await work(tx)
        await audit.log(tx, now, who.actor, action, None, detail, who.service_id)
        await tx.commit()

    await app.db.run(unit)


@routes.post(PAGE + "/mode")
async def save_mode(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    chosen, shown = mode_choice.read(form, channel_choice=False)
    async with app.db.reading() as tx:
        s = await services.get(tx, who.service_id)
    try:
        mode = checks.check_default_mode(app, s, chosen.mode, chosen.theme)
    except EnrolError as exc:
        field = "theme" if exc.field == "default_theme" else "mode"
        return await _page(request, who, 400, errors={field: _sentence(exc.plain)}, mode=shown)
    before = CaseMode(s.default_checkin_mode, s.default_cover_theme if s.default_checkin_mode == "cover" else None)
    detail = audit.changed({"mode": before.mode, "theme": before.theme}, {"mode": mode.mode, "theme": mode.theme})

    async def work(tx: Tx) -> None:
        await signposting.set_default_mode(tx, who.service_id, mode)

    await _store(request, who, "service_default_mode_set", detail, work)
    raise web.HTTPSeeOther(f"{PAGE}?done=mode")


@routes.post(PAGE + "/help")
async def save_help_line(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    text = forms.text(await request.post(), "help_line", 400)
    async with app.db.reading() as tx:
        s = await services.get(tx, who.service_id)
    try:
        line = checks.check_help_line(s, text)
    except EnrolError as exc:
        return await _page(request, who, 400, errors={"help_line": _sentence(exc.plain)}, help_line=text)
    detail = audit.changed({"help_line": s.help_line is not None}, {"help_line": line is not None})

    async def work(tx: Tx) -> None:
        await signposting.set_help_line(tx, who.service_id, line)

    await _store(request, who, "service_help_line_set", detail, work)
    raise web.HTTPSeeOther(f"{PAGE}?done=help")


@routes.post(PAGE + "/card")
async def save_card(request: web.Request) -> web.Response:
    who = configurer(request)
    form = await request.post()
    values = {"helplines": forms.text(form, "helplines", 4000), "safety_card": forms.text(form, "safety_card", 8000)}
    errors: dict[str, str] = {}
    try:
        lines = checks.parse_helplines(values["helplines"])
    except EnrolError as exc:
        errors["helplines"] = _sentence(exc.plain)
    try:
        card = checks.check_card(values["safety_card"])
    except EnrolError as exc:
        errors["safety_card"] = _sentence(exc.plain)
    if errors:
        return await _page(request, who, 400, errors=errors, **values)
    detail = f"helplines={len(lines)} card_chars={len(card)}"

    async def work(tx: Tx) -> None:
        await signposting.set_helplines(tx, who.service_id, lines)
        await signposting.set_safety_card(tx, who.service_id, card)

    await _store(request, who, "service_safety_card_set", detail, work)
    raise web.HTTPSeeOther(f"{PAGE}?done=card")


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
