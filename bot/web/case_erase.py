"""Erase her personal data from the case page: managers only, with a reason from a fixed list and the case
reference typed to confirm. The erasure itself is bot/commands/erasure.py (audited, a purge row)."""

from __future__ import annotations

from aiohttp import web

from bot.commands import erasure as erasure_commands
from bot.web import forms
from bot.web.case_actions import case_to_act_on
from bot.web.case_page import REF, render_case
from bot.web.keys import APP_KEY
from bot.web.viewer import viewer
from bot.web.words import _

routes = web.RouteTableDef()


@routes.post(REF + "/erase")
async def erase(request: web.Request) -> web.StreamResponse:
    case = await case_to_act_on(request)  # another service's case does not exist; a refusal is audited
    who = viewer(request)
    if "manager" not in who.roles:
        raise web.HTTPForbidden(text=_("Only a manager can erase her personal data."))
    form = await request.post()
    reason = forms.text(form, "reason", 40)
    typed = forms.text(form, "confirm", 40).strip().upper()
    problem = None
    if reason not in erasure_commands.REASONS:
        problem = _("Choose why her personal data is erased.")
    elif typed != case.ref:
        problem = _("Type the case reference {ref} exactly to confirm: nothing was erased.").format(ref=case.ref)
    if problem:
        return await render_case(request, case, errors={"case_erase": problem}, status=400, audited=False)
    await erasure_commands.erase(request.app[APP_KEY], case.service_id, case.ref, reason, who.actor)
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=erased#erase")
