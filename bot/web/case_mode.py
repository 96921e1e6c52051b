"""POST /cases/{ref}/mode: the IDVA changes how a case's check-ins read (direct or cover, and the theme),
only with the tick that she chose it with her in person. Audited with the mode before and after."""

from __future__ import annotations

from aiohttp import web

from bot.commands.case_mode import check_mode, store_mode
from bot.commands.common import EnrolError
from bot.web import forms, mode_choice
from bot.web.case_actions import case_to_act_on
from bot.web.case_page import REF, may_change, render_case
from bot.web.keys import APP_KEY
from bot.web.viewer import viewer
from bot.web.words import _
from storage import services

routes = web.RouteTableDef()
ENDED = ("closed", "withdrawn")


@routes.post(REF + "/mode")
async def change_mode(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    case = await case_to_act_on(request)
    if not may_change(who, case):
        raise web.HTTPForbidden(text=_("Only the case's IDVA or a manager can change how her check-ins read."))
    if case.status in ENDED:
        error = {"mode": _("The case is {status}: nothing more is sent to her.").format(status=case.status)}
        return await render_case(request, case, errors=error, status=409, audited=False)
    form = await request.post()
    chosen, _unused = mode_choice.read(form, channel_choice=False)
    if forms.text(form, "in_person", 4) != "yes":
        # What reaches her phone changes: only as she chose it, with her, in person.
        error = {"in_person": _("Tick that she chose this with you in person.")}
        return await render_case(request, case, errors=error, status=400, audited=False)
    async with app.db.reading() as tx:
        service = await services.get(tx, case.service_id)
    try:
        mode = check_mode(app, service, case.language, chosen.mode or "direct", chosen.theme)
    except EnrolError as exc:
        return await render_case(request, case, errors={exc.field: exc.plain}, status=400, audited=False)
    await store_mode(app, case.id, mode, who.actor)
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=mode#mode")
