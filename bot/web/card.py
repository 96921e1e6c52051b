"""GET /cases/{ref}/card: the safety card the IDVA prints for the in-person meeting.

What the channel must never say is here, on paper, given in person: 999 and the Silent Solution, the
service's local helplines and safety-planning advice, the commands she can send, and in cover mode the
key to her cover questions. Never her name, number or secrets (the secrets are only digests anyway).
Opened through the per-record check like the case page, and audited as a card printed.
"""

from __future__ import annotations

from aiohttp import web

from bot.web import access
from bot.web.case_page import REF
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.words import N_
from flows import cover
from storage import services

routes = web.RouteTableDef()

# The commands she can send, as the card explains them (the English words work in every language).
COMMANDS = (
    ("HELP", N_("A reminder of what you can send.")),
    ("PAUSE", N_("No messages for a week. PAUSE 3 DAYS for a shorter break.")),
    ("RESUME", N_("Start the check-ins again after a pause.")),
    ("LANGUAGE", N_("Choose another language.")),
    ("WITHDRAW", N_("Stop for good: no more messages, and what you told us is erased.")),
)


@routes.get(REF + "/card")
async def safety_card(request: web.Request) -> web.Response:
    ref = request.match_info["ref"]
    try:
        case = await access.case_for(request, ref, "safety_card_printed")
    except access.NeedsReason:
        return render("case_reason.html", request, {"ref": ref.upper(), "error": None}, status=403)
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        service = await services.get(tx, case.service_id)
    qs = app.questionset(service.questionset)
    try:
        theme = cover.theme_for(case.checkin_mode, case.cover_theme, qs)
        problem = None
    except cover.CoverThemeError:  # the theme is gone or no longer fits her service's questions
        theme, problem = None, N_("Her cover theme cannot be used with the service's questions: change her mode first.")
    key = cover.key(theme, qs, case.language, app.catalogs.gettext, service.sender_name) if theme else ()
    context = {
        "theme_problem": problem,
        "ref": case.ref,
        "theme": theme,
        "key": key,
        "helplines": service.helplines,
        "advice": [p.strip() for p in service.safety_card.split("\n\n") if p.strip()],
        "commands": COMMANDS,
        "language": case.language,
    }
    return render("card.html", request, context)
