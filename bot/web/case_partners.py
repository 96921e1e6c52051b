"""From the case page: link the case to a partner's person under the partner's own reference, and record
her consent (or its withdrawal) per partner and kind of information.

Only the case's IDVA or a manager (case_page.may_change), after the same per-record check as every other
case action. There is no channel command for this: nothing in her thread may hint that other agencies
exist. Bad input re-renders the page with one line next to the form; the audit detail holds ids and codes
only (the partner's reference points at another person's case and is stored encrypted).
"""

from __future__ import annotations

from aiohttp import web

from bot.web import forms
from bot.web.case_actions import case_to_act_on
from bot.web.case_page import REF, may_change, render_case
from bot.web.case_partner_view import CONSENT_KINDS, CONSENT_TEXT_VERSION, HOW
from bot.web.keys import APP_KEY
from bot.web.viewer import viewer
from bot.web.words import _
from storage import audit, partners
from storage.cases import Case
from storage.db import Tx

routes = web.RouteTableDef()
REF_LIMIT = 40
ENDED = ("closed", "withdrawn")


async def _changer(request: web.Request) -> Case:
    case = await case_to_act_on(request)
    if not may_change(viewer(request), case):
        raise web.HTTPForbidden(text=_("Only the case's IDVA or a manager can link partners or record her consent."))
    return case


async def _refuse(request: web.Request, case: Case, key: str, line: str) -> web.Response:
    return await render_case(request, case, errors={key: line}, status=400, audited=False)


@routes.post(REF + "/partners/link")
async def link(request: web.Request) -> web.StreamResponse:
    case = await _changer(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    chosen = forms.text(form, "contact", 12)
    reference = " ".join(forms.text(form, "partner_ref", 200).split())
    if case.status in ENDED:
        return await _refuse(
            request, case, "partner_link", _("The case is {status}: nothing more is shared.").format(status=case.status)
        )
    async with app.db.reading() as tx:
        current = {p.id for p in await partners.of_service(tx, case.service_id)}  # agreements not ended
        everyone = await partners.people_of_service(tx, app.crypto, case.service_id)
        people = {p.id: p for p in everyone if p.partner_id in current}
    if not forms.is_number(chosen) or int(chosen) not in people:
        return await _refuse(request, case, "partner_link", _("Choose one of the partners' people."))
    if not reference:
        return await _refuse(request, case, "partner_link", _("Give the partner's own reference for this case."))
    if len(reference) > REF_LIMIT or not reference.isprintable():
        return await _refuse(
            request,
            case,
            "partner_link",
            _("Use at most {ref_limit} printable characters.").format(ref_limit=REF_LIMIT),
        )
    person = people[int(chosen)]
    now = app.clock.now()

    async def unit(tx: Tx) -> bool:
        if await partners.linked(tx, case.id, person.id):
            return False
        link_id = await partners.link(tx, app.crypto, case.id, person.partner_id, person.id, reference, who.actor, now)
        detail = f"link={link_id} partner={person.partner_id} contact={person.id}"  # never the reference
        await audit.log(tx, now, who.actor, "case_partner_linked", case.id, detail)
        await tx.commit()
        return True

    if not await app.db.run(unit):
        return await _refuse(request, case, "partner_link", _("The case is already linked to that person."))
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=partner_linked#partners")


@routes.post(REF + "/partners/unlink")
async def unlink(request: web.Request) -> web.StreamResponse:
    """End a link (the Drive case closed, the person moved on): nothing more is shared with them about it.
    Shares already made stay on record, under the reference they went with."""
    case = await _changer(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    chosen = forms.text(await request.post(), "contact", 12)
    now = app.clock.now()

    async def unit(tx: Tx) -> int | None:
        link_id = await partners.unlink(tx, case.id, int(chosen), now) if forms.is_number(chosen) else None
        if link_id is not None:
            await audit.log(tx, now, who.actor, "case_partner_unlinked", case.id, f"link={link_id} contact={chosen}")
        await tx.commit()
        return link_id

    if await app.db.run(unit) is None:
        return await _refuse(request, case, "partner_link", _("The case is not linked to that person."))
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=partner_unlinked#partners")


@routes.post(REF + "/partners/consent")
async def consent(request: web.Request) -> web.StreamResponse:
    case = await _changer(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    chosen = forms.text(form, "partner", 12)
    kind = forms.text(form, "kind", 40)
    agreed = forms.text(form, "agreed", 4)
    how = forms.text(form, "how", 20)
    version = forms.text(form, "text_version", 60)
    async with app.db.reading() as tx:
        ours = {p.id for p in await partners.of_service(tx, case.service_id)}
    line = None
    if not forms.is_number(chosen) or int(chosen) not in ours:
        line = _("Choose one of the service's partners.")
    elif kind not in CONSENT_KINDS:
        line = _("Choose what kind of information her answer is about.")
    elif agreed not in ("yes", "no"):
        line = _("Choose yes or no: what she said.")
    elif how not in HOW:
        line = _("Choose how she gave her answer.")
    elif version != CONSENT_TEXT_VERSION:
        line = _("The consent wording has changed: reload the page and read her the current wording.")
    elif agreed == "yes" and case.status in ENDED:
        line = _("The case is {status}: nothing more is shared.").format(status=case.status)
    if line:
        return await _refuse(request, case, "partner_consent", line)
    partner_id = int(chosen)
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        consent_id = await partners.record_consent(
            tx, case.id, partner_id, kind, agreed == "yes", version, how, who.actor, now
        )
        detail = f"consent={consent_id} partner={partner_id} kind={kind} agreed={agreed} how={how} version={version}"
        await audit.log(tx, now, who.actor, "partner_consent_recorded", case.id, detail)
        await tx.commit()

    await app.db.run(unit)
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=partner_consent#partners")
