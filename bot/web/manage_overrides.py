"""Manage → Shares without consent: the requests waiting for a second manager, who approves or refuses each.

Managers only, and never the person who asked (safety.sharing.overridden decides). On approval the share
goes exactly as the request fixed it, the way every share goes (bot/sharing.deliver), on the override's
basis with the requester and the approver on record, and reports flag it. Deciding is one guarded update,
so a request is decided once. Her name and number are never on an override. Bad input is one line at the
top of the list and changes nothing; the audit detail holds ids and codes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot import sharing
from bot.alert_text import fact_codes, reason_words
from bot.web.case_partner_view import BASES, SHARE_KINDS
from bot.web.case_share import Refused, target, why_of
from bot.web.keys import APP_KEY
from bot.web.manage_partners import manager
from bot.web.render import render
from bot.web.timefmt import shower
from bot.web.viewer import Viewer
from bot.web.words import N_, _, maybe
from safety.sharing import Basis, Kind, Override, overridden
from storage import audit, cases, partners, practitioners, services, share_requests
from storage.caseload import names_of_service
from storage.db import Tx

routes = web.RouteTableDef()
PAGE = "/manage/overrides"
NOTICES = {"approved": N_("Approved: the share has gone."), "refused": N_("Refused: nothing was shared.")}


async def _page(
    request: web.Request, who: Viewer, status: int = 200, error: str | None = None, *, viewed: bool = False
) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        pending = await share_requests.pending_of_service(tx, app.crypto, who.service_id)
        names = await names_of_service(tx, app.crypto, who.service_id)
        of_service = {p.id: p for p in await partners.of_service(tx, who.service_id)}
        people = {p.id: p for p in await partners.people_of_service(tx, app.crypto, who.service_id)}
        service = await services.get(tx, who.service_id)
        # Her answer now for that partner and kind: she may have been asked since the request was made.
        answers = {q.id: await _her_answer(tx, q) for q in pending}
    if viewed:  # case references and the requesters' reasons: audited as the alert queue is (ids only)
        now = app.clock.now()
        detail = f"requests={','.join(str(q.id) for q in pending) or '-'}"

        async def log(tx: Tx) -> None:
            await audit.log(tx, now, who.actor, "share_requests_viewed", None, detail, who.service_id)
            await tx.commit()

        await app.db.run(log)
    context: dict[str, Any] = {
        "pending": pending,
        "her_answers": answers,
        "names": names,
        "partners": of_service,
        "partner_people": people,
        "share_kinds": SHARE_KINDS,
        "bases": BASES,
        "when": shower(service.timezone),
        "says": {q.id: _says(q.content) for q in pending},
        "errors": {"override": error} if error else {},
        "notice": maybe(NOTICES.get(request.query.get("done", ""))),
    }
    return render("manage_overrides.html", request, context, status)


async def _her_answer(tx: Tx, asked: share_requests.Request) -> str:
    if asked.kind not in Kind._value2member_map_:
        return "not asked"
    consent = (await partners.consents(tx, asked.case_id, asked.partner_id)).get(Kind(asked.kind))
    if consent is None:
        return "not asked"
    return "agreed: share it with her consent instead" if consent.agreed else "said no"


def _says(content: Mapping[str, object]) -> str:
    """What would go, in the alerts' words."""
    said = reason_words(str(content.get("reason") or ""), fact_codes(content.get("facts")))
    return f"{said} (level {content['level']})" if content.get("level") else said


@routes.get(PAGE)
async def overrides_page(request: web.Request) -> web.Response:
    return await _page(request, manager(request), viewed=True)


def _pending(found: share_requests.Request | None, who: Viewer) -> share_requests.Request:
    if found is None or found.service_id != who.service_id:
        raise web.HTTPNotFound(text=_("No such request."))
    if found.status != "pending":
        raise Refused(_("Request R-{id} was already {status}.").format(id=found.id, status=found.status))
    if found.requested_by == who.practitioner_id:
        raise Refused(_("You asked for R-{id}: another manager must decide it.").format(id=found.id))
    return found


@routes.post(PAGE + "/{id:[0-9]{1,12}}/approve")
async def approve(request: web.Request) -> web.StreamResponse:
    who = manager(request)
    app = request.app[APP_KEY]
    request_id = int(request.match_info["id"])
    now = app.clock.now()

    async def unit(tx: Tx) -> str | None:
        try:
            asked = _pending(await share_requests.get(tx, app.crypto, request_id), who)
            basis = Basis(asked.basis)
            gate = Override(asked.requested_by, asked.reason, basis, approved_by=who.practitioner_id)
            decision = overridden(gate, frozenset(await practitioners.ids_with_role(tx, who.service_id, "manager")))
            if decision is None:
                raise Refused(_("Only a second person with the manager role can approve it."))
            case = await cases.get(tx, asked.case_id)
            link, partner = await target(tx, app.crypto, case, asked.contact_id, Kind(asked.kind))
        except Refused as refused:
            await tx.commit()  # nothing was written
            return str(refused)
        c = asked.content
        what = sharing.Sent(
            asked.kind,
            str(c.get("severity") or ""),
            str(c.get("reason") or ""),
            str(c["level"]) if c.get("level") else None,
            fact_codes(c.get("facts")),
            alert_id=asked.alert_id,
        )
        share_id = await sharing.deliver(
            tx,
            app.crypto,
            case,
            link,
            partner,
            decision,
            what,
            now,
            escalate=asked.kind != Kind.CHECKIN_SUMMARIES.value,
            justification=asked.reason,
            requested_by=f"practitioner:{asked.requested_by}",
        )
        if not await share_requests.approve(tx, asked.id, who.practitioner_id, share_id, now):
            raise RuntimeError(f"request {asked.id} changed inside its own unit")  # rolled back: nothing sent
        detail = (
            f"request={asked.id} share={share_id} partner={partner.id} kind={asked.kind} basis={basis.value} "
            f"requested_by={asked.requested_by} approved_by={who.practitioner_id}"
        )
        await audit.log(tx, now, who.actor, "share_override_approved", case.id, detail)
        await tx.commit()
        return None

    line = await app.db.run(unit)
    if line:
        return await _page(request, who, 400, line)
    raise web.HTTPSeeOther(f"{PAGE}?done=approved")


@routes.post(PAGE + "/{id:[0-9]{1,12}}/refuse")
async def refuse(request: web.Request) -> web.StreamResponse:
    who = manager(request)
    app = request.app[APP_KEY]
    request_id = int(request.match_info["id"])
    form = await request.post()
    now = app.clock.now()
    try:
        why = why_of(form, "why", _("Say why you refuse R-{request_id}.").format(request_id=request_id))
    except Refused as refused:
        return await _page(request, who, 400, str(refused))

    async def unit(tx: Tx) -> str | None:
        try:
            asked = _pending(await share_requests.get(tx, app.crypto, request_id), who)
        except Refused as refused:
            await tx.commit()
            return str(refused)
        if not await share_requests.refuse(tx, app.crypto, asked.id, who.practitioner_id, why, now):
            raise RuntimeError(f"request {asked.id} changed inside its own unit")
        detail = f"request={asked.id} requested_by={asked.requested_by} refused_by={who.practitioner_id}"
        await audit.log(tx, now, who.actor, "share_override_refused", asked.case_id, detail)
        await tx.commit()
        return None

    line = await app.db.run(unit)
    if line:
        return await _page(request, who, 400, line)
    raise web.HTTPSeeOther(f"{PAGE}?done=refused")
