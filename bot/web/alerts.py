"""The alert queue: the viewer's open alerts, acknowledge in one click, resolve with an outcome and a note."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot import alerting
from bot.web.alert_view import Scope, Wording, duration, may_see, queue_for, scope_of
from bot.web.forms import is_number, text
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _
from storage import alert_work, audit, cases
from storage.alert_work import Action, Outcome, QueuedAlert
from storage.db import Tx

routes = web.RouteTableDef()

# The fixed lists a resolution is chosen from, in the order the form offers them.
OUTCOMES = (
    (Outcome.SAFE, N_("Spoke to her: safe")),
    (Outcome.ACTION, N_("Spoke to her: action taken")),
    (Outcome.NOT_REACHED, N_("Could not reach her")),
    (Outcome.FALSE_ALARM, N_("False alarm")),
    (Outcome.MARAC, N_("Referred to Marac")),
)
ACTIONS = (
    (Action.POLICE, N_("Police called")),
    (Action.REFUGE, "Refuge"),
    (Action.SAFETY_PLAN, N_("Safety plan updated")),
    (Action.OTHER, N_("Other (say what in the note)")),
)
OUTCOME_NAMES = dict(OUTCOMES) | {"unrecorded": N_("Closed before outcomes were recorded")}
NOTE_LIMIT = 2000


async def _queue_context(request: web.Request, who: Viewer) -> dict[str, Any]:
    """The queue in words, its version for the live stream, and the view audited."""
    app = request.app[APP_KEY]
    now = app.clock.now()
    async with app.db.reading() as tx:
        version = await alert_work.version(tx, who.service_id)
        queue = await queue_for(tx, who)
        wording = await Wording.load(tx, app.crypto, who.service_id, now)
    ids = ",".join(str(a.id) for a in queue)

    async def viewed(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, "alert_queue_viewed", None, f"alerts={ids}", who.service_id)
        await tx.commit()

    await app.db.run(viewed)
    return {
        "alerts": [wording.show(a) for a in queue],
        "version": version,
        "watching": scope_of(who) is not Scope.NONE,
        "whole_service": scope_of(who) is Scope.SERVICE,
    }


@routes.get("/alerts")
async def queue_page(request: web.Request) -> web.Response:
    who = viewer(request)
    return render("alerts.html", request, await _queue_context(request, who))


@routes.get("/alerts/fragment")
async def queue_fragment(request: web.Request) -> web.Response:
    """Just the list, for the live page to swap in when the stream says the queue changed."""
    who = viewer(request)
    return render("_alert_queue.html", request, await _queue_context(request, who))


def _alert_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not is_number(raw) or len(raw) > 18:
        raise web.HTTPNotFound(text=_("No such alert."))
    return int(raw)


async def _reachable(request: web.Request, who: Viewer, alert_id: int, action: str) -> QueuedAlert:
    """The alert if this person may see it (the view or action audited by the caller); else 404/403, audited."""
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        found = await alert_work.item(tx, alert_id)
    allowed = may_see(who, found) if found is not None else None
    if found is not None and allowed:
        return found
    now = app.clock.now()
    case_id = found.case_id if found is not None and allowed is False else None

    async def refused(tx: Tx) -> None:
        detail = f"alert={alert_id} tried={action}"
        await audit.log(tx, now, who.actor, "case_view_denied", case_id, detail, who.service_id)
        await tx.commit()

    await app.db.run(refused)
    if allowed is False:
        raise web.HTTPForbidden(text=_("This alert is not in your queue."))
    raise web.HTTPNotFound(text=_("No such alert."))


async def _alert_page(
    request: web.Request, who: Viewer, alert: QueuedAlert, status: int = 200, **context: Any
) -> web.Response:
    app = request.app[APP_KEY]
    now = app.clock.now()
    async with app.db.reading() as tx:
        wording = await Wording.load(tx, app.crypto, who.service_id, now)
        done = await alert_work.resolution(tx, app.crypto, alert.id)
    resolution = None
    if done is not None:
        resolution = {
            "outcome": OUTCOME_NAMES.get(done.outcome, done.outcome),
            "action": dict(ACTIONS).get(done.action) if done.action else None,
            "by": wording.name(done.resolved_by),
            "at": wording.at(done.resolved_at),
            "took": duration(done.time_to_resolve),
            "note": done.note,
        }
    values = {"outcome": "", "action": "", "note": ""} | context.pop("values", {})
    page = {
        "alert": wording.show(alert),
        "resolution": resolution,
        "outcomes": [(o.value, label) for o, label in OUTCOMES],
        "actions": [(a.value, label) for a, label in ACTIONS],
        "values": values,
        "errors": {"outcome": "", "action": "", "note": ""} | context.pop("errors", {}),
        "message": context.pop("message", ""),
    }
    return render("alert.html", request, page, status=status)


@routes.get("/alerts/{id:[0-9]{1,12}}")
async def alert_page(request: web.Request) -> web.Response:
    who = viewer(request)
    alert = await _reachable(request, who, _alert_id(request), "view")
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def viewed(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, "alert_viewed", alert.case_id, f"alert={alert.id}")
        await tx.commit()

    await app.db.run(viewed)
    return await _alert_page(request, who, alert)


@routes.post("/alerts/{id:[0-9]{1,12}}/ack")
async def acknowledge(request: web.Request) -> web.StreamResponse:
    """One click: the same rule and the same effect as ACK over SMS (bot.alerting.acknowledge)."""
    who = viewer(request)
    alert = await _reachable(request, who, _alert_id(request), "acknowledge")
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def ack(tx: Tx) -> str | None:
        try:
            await alerting.acknowledge(tx, alert.id, who.practitioner_id, now)
        except alerting.AckRefused:
            await audit.log(tx, now, who.actor, "alert_ack_refused", alert.case_id, f"alert={alert.id}")
            await tx.commit()
            return _(
                "Only those the alert was sent to, the case's IDVA, the duty IDVA and a manager may acknowledge it."
            )
        await tx.commit()
        return None

    refused = await app.db.run(ack, urgent=True)
    if refused:
        return await _alert_page(request, who, alert, status=403, message=refused)
    raise web.HTTPSeeOther(f"/alerts#alert-{alert.id}")


def _read_resolution(form: dict[str, str]) -> tuple[dict[str, str], Outcome | None, Action | None]:
    """The form's choices, checked: errors by field (one line each), or the outcome and action."""
    errors: dict[str, str] = {}
    outcome = next((o for o, _ in OUTCOMES if o.value == form["outcome"]), None)
    action = next((a for a, _ in ACTIONS if a.value == form["action"]), None)
    if outcome is None:
        errors["outcome"] = _("Choose an outcome.")
    elif outcome is Outcome.ACTION and action is None:
        errors["action"] = _("Choose the action taken.")
    if outcome is not Outcome.ACTION:
        action = None
    if action is Action.OTHER and not form["note"]:
        errors["note"] = _("Say in the note what action was taken.")
    elif len(form["note"]) > NOTE_LIMIT:
        errors["note"] = _("Keep the note under {note_limit:,} characters.").format(note_limit=NOTE_LIMIT)
    return errors, outcome, action


@routes.post("/alerts/{id:[0-9]{1,12}}/resolve")
async def resolve(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    alert = await _reachable(request, who, _alert_id(request), "resolve")
    posted = await request.post()
    form = {
        "outcome": text(posted, "outcome", 40),
        "action": text(posted, "action", 40),
        "note": text(posted, "note", NOTE_LIMIT + 1).strip(),
    }
    errors, outcome, action = _read_resolution(form)
    if form["note"] and "note" not in errors:
        async with request.app[APP_KEY].db.reading() as tx:
            erased = (await cases.get(tx, alert.case_id)).erased_at is not None
        if erased:  # retention passes over erased cases: a note written now would stay for ever
            errors["note"] = _("Her personal data is erased: resolve the alert without a note.")
    if errors or outcome is None:
        return await _alert_page(request, who, alert, status=400, errors=errors, values=form)
    app = request.app[APP_KEY]
    now = app.clock.now()
    chosen = outcome

    async def unit(tx: Tx) -> tuple[int, str] | None:
        try:
            done = await alerting.resolve(
                tx, app.crypto, alert.id, who.practitioner_id, chosen, action, form["note"] or None, now
            )
        except alerting.AckRefused:
            await audit.log(tx, now, who.actor, "alert_ack_refused", alert.case_id, f"alert={alert.id}")
            await tx.commit()
            return 403, _(
                "Only those the alert was sent to, the case's IDVA, the duty IDVA and a manager may resolve it."
            )
        await tx.commit()
        return None if done else (409, _("This alert was already resolved."))

    problem = await app.db.run(unit, urgent=True)
    if problem:
        async with app.db.reading() as tx:
            fresh = await alert_work.item(tx, alert.id) or alert
        return await _alert_page(request, who, fresh, status=problem[0], message=problem[1])
    raise web.HTTPSeeOther(f"/alerts/{alert.id}")  # the record as kept: what was saved, and by whom
