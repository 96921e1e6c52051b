"""A partner agency's person in the workspace: the shares sent to them, acknowledged and acted on here.

They see the shares bot/share_followup.py lets them act on: those sent to them, and those that escalated
to them as their partner's duty contact (the same rule as acknowledging by reply, so what they can read
is what they were sent). Each shows their own reference, the kind, the level, the reason in the alert's
words and the time; never our case reference, her name, number or words (a share's content holds none of
them: bot/sharing.py records codes only). Anything else does not exist for them: 404, the same for
another agency's share as for none. The session middleware keeps them off every staff page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from bot import share_followup
from bot.alert_text import share_words
from bot.web import forms
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.timefmt import shower
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _, maybe
from safety.sharing import ACTION_LABELS
from storage import audit, cases, partners, practitioners, services
from storage.db import Tx
from storage.partners import ShareStatus

routes = web.RouteTableDef()
ONE = r"/shares/S-{share_id:[0-9]{1,12}}"
NOTE_LIMIT = 500
KIND_LABELS = {
    "risk_changes": N_("Risk-level change"),
    "urgent_alerts": N_("Urgent alert"),
    "checkin_summaries": N_("Check-in summary"),
    "manual": N_("Shared by her adviser"),
}
NOTICES = {"ack": N_("Acknowledged. Thank you."), "action": N_("What you did is recorded.")}


def partner(request: web.Request) -> Viewer:
    """The partner's person; staff have their own pages and never act on a partner's behalf."""
    who = viewer(request)
    if not who.is_partner:
        raise web.HTTPForbidden(text=_("Shares are for partner agencies' accounts."))
    return who


@dataclass(frozen=True)
class Shown:
    """One share as its partner reads it: nothing of ours beyond the share id."""

    id: int
    partner_ref: str | None
    kind: str
    severity: str
    level: str | None
    reason: str
    sent_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    action: str | None
    action_at: datetime | None


async def _shown(tx: Tx, request: web.Request, share: ShareStatus) -> Shown:
    app = request.app[APP_KEY]
    c = share.content
    listed = c.get("facts")
    facts = [str(f) for f in listed] if isinstance(listed, list) else []
    by = None
    if share.acknowledged_by is not None:
        found = await practitioners.get(tx, app.crypto, share.acknowledged_by)
        by = found.name if found else None
    return Shown(
        id=share.id,
        partner_ref=await partners.partner_ref_of(tx, app.crypto, share.case_id, share.partner_id, share.contact_id),
        kind=KIND_LABELS.get(share.kind, share.kind.replace("_", " ")),
        severity=str(c.get("severity") or ""),
        level=str(c["level"]) if c.get("level") else None,
        reason=share_words(str(c.get("reason") or ""), facts),
        sent_at=share.created_at,
        acknowledged_at=share.acknowledged_at,
        acknowledged_by=by,
        action=ACTION_LABELS.get(share.action, share.action) if share.action else None,
        action_at=share.action_at,
    )


@dataclass(frozen=True)
class Details:
    """Her name and number, for a share whose record says they may be shown (agreement and consent)."""

    name: str | None
    number: str | None


async def _details(tx: Tx, request: web.Request, share: ShareStatus) -> Details | None:
    """Her details where the share was made with them allowed and both still allow them now: a later
    withdrawal of her consent, or a narrower agreement, hides them on old shares too. Never in a message."""
    if share.content.get("personal_details") is not True:
        return None
    app = request.app[APP_KEY]
    partner = await partners.get(tx, share.partner_id)
    if partner is None or not partner.agreement.personal_details:
        return None
    if not await partners.consented_to_details(tx, share.case_id, share.partner_id):
        return None
    case = await cases.get(tx, share.case_id)
    name = cases.name_of(app.crypto, case)
    number = cases.address_of(app.crypto, case) if case.channel in ("sms", "simulator") else None
    return Details(name, number) if name or number else None  # erased on withdrawal: nothing left to show


async def _audit(request: web.Request, who: Viewer, action: str, case_id: int | None, detail: str) -> None:
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, action, case_id, detail, who.service_id)
        await tx.commit()

    await app.db.run(unit)


@routes.get("/shares")
async def shares_page(request: web.Request) -> web.Response:
    who = partner(request)
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        found = await share_followup.shares_for(tx, who.practitioner_id)
        rows = [await _shown(tx, request, s) for s in found]
        service = await services.get(tx, who.service_id)
    await _audit(request, who, "shares_viewed", None, f"shown={len(rows)}")
    return render("shares.html", request, {"shares": rows, "when": shower(service.timezone)})


async def _one(request: web.Request, who: Viewer, tried: str) -> ShareStatus:
    """The share in the path if it is this person's; 404 otherwise (audited), whether it exists or not."""
    app = request.app[APP_KEY]
    share_id = int(request.match_info["share_id"])
    async with app.db.reading() as tx:
        share = await share_followup.share_for(tx, share_id, who.practitioner_id)
    if share is None:
        await _audit(request, who, "share_view_denied", None, f"share={share_id} tried={tried}")
        raise web.HTTPNotFound(text=_("No such share."))
    return share


async def _page(request: web.Request, who: Viewer, share: ShareStatus, status: int = 200, **extra: Any) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        shown = await _shown(tx, request, share)
        details = extra.pop("details") if "details" in extra else await _details(tx, request, share)
        note = await partners.action_note(tx, app.crypto, share.id)  # their own words, shown back to them
        service = await services.get(tx, who.service_id)
    context: dict[str, Any] = {
        "share": shown,
        "note": note,
        "details": details,
        "actions": ACTION_LABELS,
        "values": {"action": "", "note": ""},
        "errors": {},
        "notice": maybe(NOTICES.get(request.query.get("done", ""))),
        "when": shower(service.timezone),
    }
    context.update(extra)
    return render("share.html", request, context, status)


@routes.get(ONE)
async def share_page(request: web.Request) -> web.Response:
    who = partner(request)
    share = await _one(request, who, "view")
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        details = await _details(tx, request, share)
    flag = " personal_details=1" if details else ""  # that her details were shown, never what they are
    await _audit(request, who, "share_viewed", share.case_id, f"share={share.id}{flag}")
    return await _page(request, who, share, details=details)


@routes.post(ONE + "/ack")
async def acknowledge(request: web.Request) -> web.Response:
    who = partner(request)
    share = await _one(request, who, "ack")
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        # The same path as an ACK reply: it records the first acknowledgement, stops the escalation, audits.
        await share_followup.acknowledge(tx, share.id, who.practitioner_id, now)
        await tx.commit()

    await app.db.run(unit)
    raise web.HTTPSeeOther(f"/shares/S-{share.id}?done=ack")


@routes.post(ONE + "/action")
async def record_action(request: web.Request) -> web.Response:
    who = partner(request)
    share = await _one(request, who, "action")
    app = request.app[APP_KEY]
    form = await request.post()
    values = {"action": forms.text(form, "action", 40), "note": forms.text(form, "note", 4 * NOTE_LIMIT).strip()}
    errors: dict[str, str] = {}
    if values["action"] not in ACTION_LABELS:
        errors["action"] = _("Choose what you did from the list.")
    if len(values["note"]) > NOTE_LIMIT or not values["note"].replace("\n", " ").replace("\r", "").isprintable():
        errors["note"] = _("Keep the note to {note_limit} printable characters.").format(note_limit=NOTE_LIMIT)
    if errors:
        return await _page(request, who, share, 400, values=values, errors=errors)
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        # Acknowledges first if nobody had (an action is an answer), encrypts the note, audits the code only.
        await share_followup.record_action(
            tx, app.crypto, share.id, who.practitioner_id, values["action"], values["note"] or None, now
        )
        await tx.commit()

    await app.db.run(unit)
    raise web.HTTPSeeOther(f"/shares/S-{share.id}?done=action")
