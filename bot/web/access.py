"""Per-record access checks, made on every request that touches a case (never the role alone).

idva: their own caseload. duty, while on duty: cases with an open alert, any other case only after
giving a reason (recorded, and good for the session). manager: every case of their service. admin:
configuration, no case content. Nobody reaches another service's case: to them it does not exist.
Refusals are audited with the person who tried.
"""

from __future__ import annotations

from enum import Enum

from aiohttp import web

from bot.web.keys import APP_KEY
from bot.web.viewer import Viewer, viewer
from bot.web.words import _
from storage import accounts, alert_work, audit, cases
from storage.cases import Case
from storage.db import Tx


class Access(Enum):
    ALLOWED = "allowed"
    NEEDS_REASON = "needs_reason"
    DENIED = "denied"
    NOT_FOUND = "not_found"


def decide(who: Viewer, case: Case, *, open_alert: bool, reason_given: bool) -> Access:
    """Whether this person may read this case (pure: the facts are passed in)."""
    if case.service_id != who.service_id:
        return Access.NOT_FOUND
    if "manager" in who.roles:
        return Access.ALLOWED
    if "idva" in who.roles and case.idva_id == who.practitioner_id:
        return Access.ALLOWED
    if "duty" in who.roles and who.on_duty:
        return Access.ALLOWED if open_alert or reason_given else Access.NEEDS_REASON
    return Access.DENIED


def require_role(who: Viewer, *roles: str) -> None:
    if not who.has(*roles):
        raise web.HTTPForbidden(text=_("Your role does not include this page."))


class NeedsReason(web.HTTPForbidden):
    """A duty worker must give a reason before opening this case."""


async def case_access(tx: Tx, who: Viewer, ref: str) -> tuple[Case | None, Access]:
    """The case and this person's access to it (reads only)."""
    case = await cases.by_ref(tx, ref)
    if case is None:
        return None, Access.NOT_FOUND
    # Open until resolved: a duty worker who acknowledged an alert can still read the case to resolve it.
    open_alert = await alert_work.open_on_case(tx, case.id)
    reason = await accounts.has_reason(tx, who.session_id, case.id)
    return case, decide(who, case, open_alert=open_alert, reason_given=reason)


async def case_for(request: web.Request, ref: str, action: str = "case_viewed") -> Case:
    """The case if this person may read it, the view audited; otherwise 403/404, the refusal audited."""
    who = viewer(request)
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        case, access = await case_access(tx, who, ref)
    now = app.clock.now()
    if case is None or access is not Access.ALLOWED:
        case_id = case.id if case is not None and access is not Access.NOT_FOUND else None
        detail = f"access={access.value} ref={ref}" if case_id is None else f"access={access.value}"

        async def refused(tx: Tx) -> None:
            await audit.log(tx, now, who.actor, "case_view_denied", case_id, detail, who.service_id)
            await tx.commit()

        await app.db.run(refused)
        if access is Access.NEEDS_REASON:
            raise NeedsReason(text=_("Give a reason to open this case."))
        if access is Access.DENIED:
            raise web.HTTPForbidden(text=_("This case is not in your caseload."))
        raise web.HTTPNotFound(text=_("No such case."))
    found = case

    async def viewed(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, action, found.id)
        await tx.commit()

    await app.db.run(viewed)
    return found


async def give_reason(request: web.Request, case: Case, reason: str) -> None:
    """Record a duty worker's reason for opening a case without an open alert (audited)."""
    who = viewer(request)
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def record(tx: Tx) -> None:
        await accounts.record_reason(tx, app.crypto, who.session_id, case.id, reason, now)
        await audit.log(tx, now, who.actor, "case_access_reason", case.id)
        await tx.commit()

    await app.db.run(record)
