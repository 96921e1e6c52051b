"""GET /cases/{ref}: one case — its timeline, risk chart, consent, schedule and safe times — and the
reason a duty worker gives before opening a case that has no open alert.

Every view goes through access.case_for (the per-record check, audited either way). The actions on a
case (notes, pause, resume, close, reassign) are in case_actions.py and render this page on an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.alert_text import reason_words
from bot.case_state import PAUSE_REASONS, RESUME_REASONS
from bot.commands.erasure import LABELS as ERASE_LABELS
from bot.commands.erasure import REASONS as ERASE_REASONS
from bot.web import access, case_partner_view, dash_summary, forms, mode_choice
from bot.web.access import Access
from bot.web.alerts import OUTCOME_NAMES
from bot.web.charts import chart_description, risk_chart, signal_words
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.timefmt import shower
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _, maybe
from safety import closure_outcomes
from storage import audit, caseload, cases, deliveries, notes, outcomes, schedules, services, timers
from storage.cases import Case
from storage.db import Tx, parse_ts

routes = web.RouteTableDef()
# A case reference ("C-4F7Q2"); the pattern keeps /cases/new and other fixed paths apart.
REF = "/cases/{ref:[Cc]-[A-Za-z0-9]{1,12}}"
KINDS = {"all": "Everything", "checkins": "Check-ins", "alerts": "Alerts", "messages": "Messages", "notes": "Notes"}
PAGE_EVENTS = 100  # timeline events per step of "show older"
MAX_EVENTS = 5000
NOTICES = {
    "note": N_("Note saved."),
    "paused": N_("Check-ins are paused."),
    "resumed": N_("Check-ins have resumed."),
    "closed": N_("The case is closed."),
    "reassigned": N_("The case has a new IDVA."),
    "mode": N_("How her check-ins read is saved: the next check-in reads that way."),
    "dash": N_("DASH recorded: its level is now the case's intake level."),
    "partner_linked": N_("Linked to the partner's person."),
    "partner_unlinked": N_("The link has ended: nothing more is shared with that person about this case."),
    "partner_consent": N_("Her answer is recorded: it holds from now on."),
    "shared": N_("Shared: it is on its way to the partner's person, with your justification on record."),
    "override_requested": N_("Asked: nothing is sent unless another manager approves it."),
    "erased": N_("Her personal data is erased. The purge report (Manage → Purges) says what went."),
}


def may_change(who: Viewer, case: Case) -> bool:
    """Pause, resume and close: the case's own IDVA, or a manager (duty staff read and write notes)."""
    return "manager" in who.roles or ("idva" in who.roles and case.idva_id == who.practitioner_id)


def may_reassign(who: Viewer) -> bool:
    return "manager" in who.roles


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # checkin | alert | message | note
    item: object


def timeline(
    shown: list[caseload.CheckinShown],
    alerts: list[caseload.AlertShown],
    sent: list[deliveries.Delivery],
    written: list[notes.Note],
    kind: str,
) -> list[Event]:
    """Every event of a case, newest first (optionally one kind only)."""
    events = []
    if kind in ("all", "checkins"):
        events += [Event(c.at, "checkin", c) for c in shown]
    if kind in ("all", "alerts"):
        events += [Event(a.created_at, "alert", a) for a in alerts]
    if kind in ("all", "messages"):
        events += [Event(d.sent_at or d.failed_at or d.queued_at, "message", d) for d in sent]
    if kind in ("all", "notes"):
        events += [Event(n.at, "note", n) for n in written]
    return sorted(events, key=lambda e: (e.at, e.kind), reverse=True)


async def render_case(
    request: web.Request,
    case: Case,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    audited: bool = True,
    close_answers: dict[str, str] | None = None,
) -> web.Response:
    """The case page. `audited`: the view was already audited (by case_for); if not, it is audited here."""
    who = viewer(request)
    app = request.app[APP_KEY]
    kind = request.query.get("show", "all")
    kind = kind if kind in KINDS else "all"
    wanted = request.query.get("events", "")
    limit = min(MAX_EVENTS, max(PAGE_EVENTS, int(wanted))) if forms.is_number(wanted) else PAGE_EVENTS
    async with app.db.reading() as tx:
        service = await services.get(tx, case.service_id)
        # Each check-in is one event: no more of them than events shown are needed.
        shown = await caseload.checkins_shown(tx, app.crypto, case.id, limit + 1)
        points = await caseload.risk_points(tx, case.id)
        case_alerts = await caseload.alerts_shown(tx, app.crypto, case.id)
        sent = await deliveries.for_case(tx, case.id)
        written = await notes.for_case(tx, app.crypto, case.id)
        names = await caseload.names_of_service(tx, app.crypto, case.service_id)
        consents = await cases.consents(tx, case.id)
        schedule = await schedules.get(tx, case.id)
        nxt = await timers.pending_for_case(tx, case.id, "checkin")
        exit_pause = await audit.paused_by_her_exit(tx, case.id) if case.status == "paused" else None
        idvas = await caseload.active_idvas(tx, app.crypto, case.service_id) if may_reassign(who) else {}
        risk = await dash_summary.summary(tx, app.crypto, case.id, case.service_id, service.timezone, app.clock.now())
        shared = await case_partner_view.context(tx, app, case)
        closure = await outcomes.get(tx, case.id) if case.status == "closed" else None
    if not audited:
        now = app.clock.now()

        async def viewed(tx: Tx) -> None:
            await audit.log(tx, now, who.actor, "case_viewed", case.id)
            await tx.commit()

        await app.db.run(viewed)
    events = timeline(shown, case_alerts, sent, written, kind)
    context: dict[str, Any] = {
        "case": case,
        "name": cases.name_of(app.crypto, case),
        "idva_name": names.get(case.idva_id, f"#{case.idva_id}"),
        "names": names,
        "now_level": points[-1].level if points else None,
        "chart": risk_chart(points),
        "chart_text": chart_description(points),
        "points": points,
        "signal_words": signal_words,
        "events": events[:limit],
        "older": len(events) > limit,
        "more": limit + PAGE_EVENTS,
        "kind": kind,
        "kinds": KINDS,
        "consents": [{**dict(r), "at": parse_ts(r["at"])} for r in consents],
        "schedule": schedule,
        "next_checkin": nxt[0].due_at if nxt else None,
        "when": shower(service.timezone),
        "today": app.clock.now().astimezone(UTC).date().isoformat(),
        "may_change": may_change(who, case),
        "dash": risk,
        "criterion_titles": dash_summary.CRITERION_TITLES,
        "exit_pause": exit_pause,
        "may_reassign": may_reassign(who),
        "other_idvas": {pid: n for pid, n in idvas.items() if pid != case.idva_id},
        "alert_said": reason_words,
        "erase_reasons": ERASE_REASONS,
        "erase_labels": ERASE_LABELS,
        "close_reasons": closure_outcomes.CLOSE_REASONS,
        "closure": closure,
        "closure_fields": closure_outcomes.FIELDS,
        "abuse_types": closure_outcomes.ABUSE_TYPES,
        "close_answers": close_answers or {},
        "pause_reasons": PAUSE_REASONS,
        "resume_reasons": RESUME_REASONS,
        "outcomes": OUTCOME_NAMES,
        "notice": notice,
        "errors": errors or {},
        "note_text": "",
        **mode_choice.case_context(app, service, case),
        **shared,
    }
    return render("case.html", request, context, status=status)


@routes.get(REF)
async def case_page(request: web.Request) -> web.Response:
    ref = request.match_info["ref"]
    try:
        case = await access.case_for(request, ref)
    except access.NeedsReason:
        return render("case_reason.html", request, {"ref": ref.upper(), "error": None}, status=403)
    return await render_case(request, case, notice=maybe(NOTICES.get(request.query.get("done", ""))))


@routes.post(REF + "/reason")
async def reason_submit(request: web.Request) -> web.StreamResponse:
    """A duty worker's reason for opening a case with no open alert: recorded, audited, then the case."""
    who = viewer(request)
    app = request.app[APP_KEY]
    ref = request.match_info["ref"]
    form = await request.post()
    reason = forms.text(form, "reason", 500).strip()
    async with app.db.reading() as tx:
        case, found = await access.case_access(tx, who, ref)
    if case is None or found not in (Access.NEEDS_REASON, Access.ALLOWED):
        await access.case_for(request, ref)  # audits the refusal and raises 403/404
        raise web.HTTPForbidden()
    if found is Access.NEEDS_REASON:
        if not reason:
            error = _("Say why you need to open this case.")
            return render("case_reason.html", request, {"ref": case.ref, "error": error}, status=400)
        await access.give_reason(request, case, reason)
    raise web.HTTPSeeOther(f"/cases/{case.ref}")
