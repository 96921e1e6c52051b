"""From the case page: share something with a linked partner's person now, with a recorded justification,
or ask for a share without her consent, which waits for a second manager (bot/web/manage_overrides.py).

Who: the case's IDVA or a manager (case_page.may_change). What goes is the case's state now, in the alerts'
words (bot/share_content.py), never her words, name or number. With her consent it goes at once the way an
automatic share goes (bot/sharing.deliver: the record, the outbox, the partner's escalation timers). Every
check is made again inside the unit that writes, so a consent withdrawn a moment ago is honoured. Bad input
re-renders the case page with one line next to the form and changes nothing; audit detail is ids and codes.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from bot import share_content, sharing
from bot.web import forms
from bot.web.case_actions import case_to_act_on
from bot.web.case_page import REF, may_change, render_case
from bot.web.keys import APP_KEY
from bot.web.viewer import viewer
from bot.web.words import _
from safety.sharing import OVERRIDE_BASES, Basis, Kind, automatic
from storage import audit, cases, partners, practitioners, share_requests
from storage.cases import Case
from storage.crypto import Crypto
from storage.db import Tx

routes = web.RouteTableDef()
WHY_LIMIT = 1000
ENDED = ("closed", "withdrawn")


class Refused(Exception):
    """One line for the form: nothing was changed."""


async def _changer(request: web.Request) -> Case:
    case = await case_to_act_on(request)
    if not may_change(viewer(request), case):
        raise web.HTTPForbidden(text=_("Only the case's IDVA or a manager can share with partners."))
    return case


def why_of(form: Mapping[str, object], name: str, missing: str) -> str:
    """A required free-text reason, whitespace tidied; Refused when missing or too long."""
    raw = forms.text(form, name, WHY_LIMIT + 1)
    value = " ".join(raw.split())
    if not value:
        raise Refused(missing)
    if len(raw) > WHY_LIMIT or not value.isprintable():
        raise Refused(_("Use at most {why_limit} printable characters.").format(why_limit=WHY_LIMIT))
    return value


def kind_of(form: Mapping[str, object]) -> Kind:
    value = forms.text(form, "kind", 40)
    if value not in Kind._value2member_map_:
        raise Refused(_("Choose what kind of information to share."))
    return Kind(value)


async def target(
    tx: Tx, crypto: Crypto, case: Case, contact_id: int, kind: Kind
) -> tuple[partners.Link, partners.Partner]:
    """The case's current link to that person and their partner, if that partner may be sent this kind at all
    and the person can be reached; otherwise Refused."""
    status = (await cases.get(tx, case.id)).status  # read in the writing unit: a withdrawal just now counts
    if status in ENDED:
        raise Refused(_("The case is {status}: nothing more is shared.").format(status=status))
    found = [link for link in await partners.links(tx, crypto, case.id) if link.contact_id == contact_id]
    partner = await partners.get(tx, found[0].partner_id) if found else None
    if not found or partner is None:
        raise Refused(_("Choose one of the people this case is linked to."))
    if not partner.active:
        raise Refused(
            _("The service's agreement with {name} has ended: nothing more is shared with them.").format(
                name=partner.name
            )
        )
    if await partners.partner_of(tx, contact_id) != partner.id:
        raise Refused(_("That person no longer works with the partner: link the case to someone who does."))
    if kind not in partner.agreement.kinds:
        raise Refused(_("The agreement with {name} does not allow that kind of information.").format(name=partner.name))
    if not await practitioners.channel_names(tx, contact_id):
        raise Refused(_("That person has no way to be reached: ask a manager to add one."))
    return found[0], partner


async def _now(tx: Tx, case: Case, kind: Kind) -> sharing.Sent:
    """What that kind of share would carry now; Refused when the case has nothing of that kind."""
    what = await share_content.current(tx, case, kind)
    if what is None:
        raise Refused(share_content.NOTHING[kind])
    return what


def contact_of(form: Mapping[str, object]) -> int:
    value = forms.text(form, "contact", 12)
    if not forms.is_number(value):
        raise Refused(_("Choose one of the people this case is linked to."))
    return int(value)


async def _refuse(request: web.Request, case: Case, key: str, line: str) -> web.Response:
    return await render_case(request, case, errors={key: line}, status=400, audited=False)


@routes.post(REF + "/partners/share")
async def share(request: web.Request) -> web.StreamResponse:
    """Share now, on her consent, with a justification."""
    case = await _changer(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    try:
        contact_id, kind = contact_of(form), kind_of(form)
        justification = why_of(form, "justification", _("Say why you are sharing this now."))
    except Refused as refused:
        return await _refuse(request, case, "partner_share", str(refused))
    now = app.clock.now()

    async def unit(tx: Tx) -> int | str:
        try:
            link, partner = await target(tx, app.crypto, case, contact_id, kind)
            decision = automatic(frozenset({kind}), partner.agreement, await partners.consents(tx, case.id, partner.id))
            if decision is None:
                raise Refused(
                    _(
                        "She has not agreed to share this with {name}: record her consent, "
                        "or ask for a share without her consent."
                    ).format(name=partner.name)
                )
            what = await _now(tx, case, kind)
        except Refused as refused:
            await tx.commit()  # nothing was written
            return str(refused)
        share_id = await sharing.deliver(
            tx,
            app.crypto,
            case,
            link,
            partner,
            decision,
            what,
            now,
            escalate=kind is not Kind.CHECKIN_SUMMARIES,  # as automatic shares: summaries are not chased
            justification=justification,
            requested_by=who.actor,
        )
        consent_id = decision.consent.consent_id if decision.consent else None
        detail = f"share={share_id} partner={partner.id} contact={contact_id} kind={kind.value} consent={consent_id}"
        await audit.log(tx, now, who.actor, "share_made", case.id, detail)
        await tx.commit()
        return share_id

    done = await app.db.run(unit)
    if isinstance(done, str):
        return await _refuse(request, case, "partner_share", done)
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=shared#share-{done}")


@routes.post(REF + "/partners/override")
async def override(request: web.Request) -> web.StreamResponse:
    """Ask for a share without her consent: it waits, sending nothing, until a second manager approves it."""
    case = await _changer(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    basis_value = forms.text(form, "basis", 40)
    try:
        contact_id, kind = contact_of(form), kind_of(form)
        if basis_value not in {b.value for b in OVERRIDE_BASES}:
            raise Refused(_("Choose the lawful basis for sharing without her consent."))
        reason = why_of(form, "reason", _("Say why this must be shared without her consent."))
    except Refused as refused:
        return await _refuse(request, case, "partner_override", str(refused))
    basis = Basis(basis_value)
    now = app.clock.now()

    async def unit(tx: Tx) -> int | str:
        try:
            link, partner = await target(tx, app.crypto, case, contact_id, kind)
            if automatic(frozenset({kind}), partner.agreement, await partners.consents(tx, case.id, partner.id)):
                raise Refused(
                    _("She has agreed to share this with {name}: share it with her consent.").format(name=partner.name)
                )
            what = await _now(tx, case, kind)
        except Refused as refused:
            await tx.commit()  # nothing was written
            return str(refused)
        request_id = await share_requests.create(
            tx,
            app.crypto,
            service_id=case.service_id,
            case_id=case.id,
            partner_id=partner.id,
            contact_id=link.contact_id,
            kind=kind.value,
            basis=basis.value,
            alert_id=what.alert_id,
            content={"severity": what.severity, "reason": what.reason, "level": what.level, "facts": list(what.facts)},
            reason=reason,
            requested_by=who.practitioner_id,
            now=now,
        )
        detail = f"request={request_id} partner={partner.id} contact={contact_id} kind={kind.value} basis={basis.value}"
        await audit.log(tx, now, who.actor, "share_override_requested", case.id, detail)
        await tx.commit()
        return request_id

    done = await app.db.run(unit)
    if isinstance(done, str):
        return await _refuse(request, case, "partner_override", done)
    raise web.HTTPSeeOther(f"/cases/{case.ref}?done=override_requested#share-request-{done}")
