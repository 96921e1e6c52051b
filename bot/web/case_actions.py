"""What a practitioner does to a case from its page: add a note, pause, resume, close, reassign.

Each POST re-checks access to this very case (access.case_access; a refusal goes through case_for,
which audits it), changes it in one unit of work with its audit row (status before and after), and
redirects back to the page. Bad input re-renders the page with one line next to the field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import case_state
from bot.case_state import CannotChange
from bot.web import access, forms
from bot.web.access import Access
from bot.web.case_page import REF, may_change, may_reassign, render_case
from bot.web.keys import APP_KEY
from bot.web.viewer import viewer
from bot.web.words import N_, _
from safety import closure_outcomes
from storage import audit, caseload, cases, notes
from storage.cases import Case
from storage.db import Tx

routes = web.RouteTableDef()
MAX_PAUSE = timedelta(days=90)  # as on the CLI; longer than that is "until resumed"


ERASED = N_("Her personal data is erased: nothing more can be recorded or changed on this case.")


async def case_to_act_on(request: web.Request) -> Case:
    """The case of this request if this person may read it; otherwise the refusal, audited. A case whose
    personal data is erased takes no action (409)."""
    who = viewer(request)
    app = request.app[APP_KEY]
    ref = request.match_info["ref"]
    async with app.db.reading() as tx:
        case, found = await access.case_access(tx, who, ref)
    if case is None or found is not Access.ALLOWED:
        case = await access.case_for(request, ref)  # raises 403/404 and audits, unless access was just granted
    if case.erased_at is not None:
        # Retention passes over erased cases: anything written now would stay for ever (and a second erasure
        # would rewrite when and why she was erased).
        raise web.HTTPConflict(text=_(ERASED))
    return case


def _done(case: Case, what: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/cases/{case.ref}?done={what}")


async def _change(
    request: web.Request, case: Case, action: str, change: Callable[[Tx, Case], Awaitable[str]], done: str
) -> web.StreamResponse:
    """Apply a change to the case as it is now, audit it with its detail, and go back to the page."""
    who = viewer(request)
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        fresh = await cases.get(tx, case.id)
        detail = await change(tx, fresh)
        await audit.log(tx, now, who.actor, action, case.id, detail)
        await tx.commit()

    try:
        await app.db.run(unit)
    except CannotChange as exc:
        return await render_case(request, case, errors={action: str(exc)}, status=409, audited=False)
    app.wake_dispatcher()
    raise _done(case, done)


@routes.post(REF + "/notes")
async def add_note(request: web.Request) -> web.StreamResponse:
    case = await case_to_act_on(request)
    who = viewer(request)
    app = request.app[APP_KEY]
    body = forms.text(await request.post(), "body", notes.MAX_LENGTH + 1).strip()
    if not body:
        return await render_case(
            request, case, errors={"note": _("Write the note before saving it.")}, status=400, audited=False
        )
    if len(body) > notes.MAX_LENGTH:
        error = _("A note can be at most {limit} characters: split it in two.").format(limit=notes.MAX_LENGTH)
        return await render_case(request, case, errors={"note": error}, status=400, audited=False)
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        note_id = await notes.add(tx, app.crypto, case.id, who.practitioner_id, body, now)
        await audit.log(tx, now, who.actor, "case_note_added", case.id, f"note={note_id}")
        await tx.commit()

    await app.db.run(unit)
    raise _done(case, "note")


def _forbidden_unless(allowed: bool) -> None:
    if not allowed:
        raise web.HTTPForbidden(text=_("Only the case's IDVA or a manager can change its status."))


def pause_until(form_length: str, form_date: str, case: Case, now: datetime) -> datetime | None:
    """When a pause ends, from the form: None for "until resumed"; CannotChange for a bad date."""
    if form_length == "indefinite":
        return None
    if not form_date:
        raise CannotChange(_("Choose the date check-ins start again, or pause until resumed."))
    try:
        day = date.fromisoformat(form_date)
    except ValueError:
        raise CannotChange(_("Give the date as year-month-day, for example 2026-12-24.")) from None
    # Check-ins start again at the beginning of that day where she lives.
    until = datetime.combine(day, time(0), ZoneInfo(case.timezone)).astimezone(UTC)
    if until <= now:
        raise CannotChange(_("Choose a date after today."))
    if until - now > MAX_PAUSE:
        raise CannotChange(_("Choose a date at most 90 days ahead, or pause until resumed."))
    return until


@routes.post(REF + "/pause")
async def pause(request: web.Request) -> web.StreamResponse:
    case = await case_to_act_on(request)
    _forbidden_unless(may_change(viewer(request), case))
    form = await request.post()
    now = request.app[APP_KEY].clock.now()
    reason = forms.text(form, "reason", 40)
    try:
        if reason not in case_state.PAUSE_REASONS:
            raise CannotChange(_("Choose why check-ins pause."))
        until = pause_until(forms.text(form, "length", 20), forms.text(form, "until", 20).strip(), case, now)
    except CannotChange as exc:
        return await render_case(request, case, errors={"case_pause": str(exc)}, status=400, audited=False)

    async def change(tx: Tx, fresh: Case) -> str:
        return await case_state.pause_by_practitioner(tx, fresh, until, now, reason)

    return await _change(request, case, "case_pause", change, "paused")


@routes.post(REF + "/resume")
async def resume(request: web.Request) -> web.StreamResponse:
    case = await case_to_act_on(request)
    _forbidden_unless(may_change(viewer(request), case))
    app = request.app[APP_KEY]
    now = app.clock.now()
    form = await request.post()
    reason = forms.text(form, "reason", 40)
    if reason not in case_state.RESUME_REASONS:
        error = {"case_resume": _("Choose why check-ins start again.")}
        return await render_case(request, case, errors=error, status=400, audited=False)
    async with app.db.reading() as tx:
        by_her_exit = await audit.paused_by_her_exit(tx, case.id)
    if by_her_exit is not None and forms.text(form, "confirm", 2) != "1":
        # A message arriving now may be read by whoever made her use the exit word.
        error = {"case_resume": _("She paused with her exit word: tick that she has asked you to restart.")}
        return await render_case(request, case, errors=error, status=400, audited=False)

    async def change(tx: Tx, fresh: Case) -> str:
        _resumed, detail = await case_state.resume_by_practitioner(tx, app.rand, fresh, now, reason)
        return detail

    return await _change(request, case, "case_resume", change, "resumed")


@routes.post(REF + "/close")
async def close(request: web.Request) -> web.StreamResponse:
    """Close the case with its outcome at closure (every question answered; "not known" is an answer)."""
    case = await case_to_act_on(request)
    who = viewer(request)
    _forbidden_unless(may_change(who, case))
    form = await request.post()
    answers = {name: forms.text(form, name, 40) for name in closure_outcomes.FIELDS}
    reason = forms.text(form, "reason", 40)
    outcome, problems = closure_outcomes.parse(answers, reason)
    if outcome is None:
        # The reason's line keeps its old place (case_close); each outcome question gets its own line.
        errors = {("case_close" if k == "close_reason" else f"close_{k}"): v for k, v in problems.items()}
        return await render_case(
            request, case, errors=errors, status=400, audited=False, close_answers={**answers, "reason": reason}
        )
    now = request.app[APP_KEY].clock.now()
    by = who.practitioner_id

    async def change(tx: Tx, fresh: Case) -> str:
        return await case_state.close(tx, fresh, now, outcome=outcome, by=by)

    return await _change(request, case, "case_close", change, "closed")


@routes.post(REF + "/reassign")
async def reassign(request: web.Request) -> web.StreamResponse:
    case = await case_to_act_on(request)
    who = viewer(request)
    if not may_reassign(who):
        raise web.HTTPForbidden(text=_("Only a manager can give a case to another IDVA."))
    app = request.app[APP_KEY]
    chosen = forms.text(await request.post(), "idva", 12)

    async def change(tx: Tx, fresh: Case) -> str:
        if fresh.status in ("closed", "withdrawn"):
            raise CannotChange(
                _("The case is {status}: there is nobody to reassign it to.").format(status=fresh.status)
            )
        # Only an active IDVA of this same service, and read now, not when the form was drawn.
        idvas = await caseload.active_idvas(tx, app.crypto, fresh.service_id)
        if not forms.is_number(chosen) or int(chosen) not in idvas or int(chosen) == fresh.idva_id:
            raise CannotChange(_("Choose another active IDVA of this service."))
        await cases.update(tx, fresh.id, idva_id=int(chosen))
        return f"idva=practitioner:{fresh.idva_id}->practitioner:{chosen}"

    return await _change(request, case, "case_reassign", change, "reassigned")
