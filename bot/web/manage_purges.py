"""Manage → Purges: every erasure and retention pass of the manager's own service, newest first, and each
one as a page a manager can print or save (what went, per kind, and the references of the cases erased).

Managers only. The records hold counts, codes and our references, never personal data; viewing is audited.
"""

from __future__ import annotations

from aiohttp import web

from bot.commands.erasure import LABELS
from bot.web import forms
from bot.web.access import require_role
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.timefmt import shower
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _
from storage import audit, erasure, services
from storage.db import Tx

routes = web.RouteTableDef()
PAGE = "/manage/purges"

# What each count is, in a manager's words (a kind not named here shows as its code).
KIND_WORDS = {
    "cases_erased": N_("Cases whose personal data was erased"),
    "cases_closed": N_("Open cases closed by the erasure"),
    "answers": N_("Her check-in answers"),
    "messages_from_her": N_("Messages she sent (their text)"),
    "notes": N_("Case notes"),
    "access_reasons": N_("Duty staff's reasons for opening the case"),
    "alert_notes": N_("Notes on alerts"),
    "share_texts": N_("Share justifications and partners' action notes"),
    "share_request_texts": N_("Reasons for shares without consent, and refusals"),
    "marac_actions": N_("Marac meeting actions"),
    "partner_refs": "Partners' references for her case",
    "inbox_items": N_("Practitioner inbox items about her"),
    "sent_messages": N_("Sent messages (their text; a delivery record stays)"),
    "delivery_records": N_("Delivery records"),
    "sms_records": N_("SMS delivery records"),
    "finished_outbox": N_("Finished messages past the delivery-record period"),
}
KIND_LABELS = {"request": N_("Erasure on request"), "retention": "Retention"}


def _manager(request: web.Request) -> Viewer:
    who = viewer(request)
    require_role(who, "manager")
    return who


async def _viewed(request: web.Request, who: Viewer, detail: str) -> None:
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, "purges_viewed", None, detail, who.service_id)
        await tx.commit()

    await app.db.run(unit)


def _context(timezone: str) -> dict[str, object]:
    return {"when": shower(timezone), "kind_words": KIND_WORDS, "kind_labels": KIND_LABELS, "reasons": LABELS}


@routes.get(PAGE)
async def purges_page(request: web.Request) -> web.Response:
    who = _manager(request)
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        service = await services.get(tx, who.service_id)
        found = await erasure.of_service(tx, who.service_id)
    await _viewed(request, who, "list")
    context = _context(service.timezone) | {"purges": found, "service": service}
    return render("manage_purges.html", request, context)


@routes.get(PAGE + "/{purge_id:[0-9]{1,12}}")
async def purge_page(request: web.Request) -> web.Response:
    who = _manager(request)
    app = request.app[APP_KEY]
    raw = request.match_info["purge_id"]
    async with app.db.reading() as tx:
        service = await services.get(tx, who.service_id)
        found = await erasure.get(tx, who.service_id, int(raw)) if forms.is_number(raw) and len(raw) < 12 else None
    if found is None:
        raise web.HTTPNotFound(text=_("No such purge record in this service."))
    await _viewed(request, who, f"purge={found.id}")
    return render("manage_purge.html", request, _context(service.timezone) | {"p": found, "service": service})
