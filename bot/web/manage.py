"""Manager pages: the index, and the service's practitioners (invite, set roles, deactivate).

Managers and admins configure; neither page shows case content. Only a manager gives or takes the
manager role and only an admin the admin role, so an admin cannot make themselves a reader of cases.
A service always keeps its last manager and its last admin, and a practitioner who is still the
assigned IDVA of open cases keeps the idva role until those are reassigned: alerts go to them first.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.web import forms
from bot.web.access import require_role
from bot.web.keys import APP_KEY, WORKSPACE_KEY
from bot.web.render import render
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _, maybe
from storage import accounts, audit, partners, practitioners
from storage.db import Tx

routes = web.RouteTableDef()
CONFIGURERS = ("manager", "admin")
ROLE_LABELS = {"idva": "IDVA", "duty": "Duty", "manager": "Manager", "admin": "Admin"}
GUARDED = ("manager", "admin")  # the last holder of each stays
# Who may give or take each role. The roles that read cases are a manager's to give: an admin who could
# give them (to anyone, themselves too) would reach the case content their role keeps from them.
GRANTED_BY = {"idva": "manager", "duty": "manager", "manager": "manager", "admin": "admin"}
NAME_LIMIT = 80


def configurer(request: web.Request) -> Viewer:
    """The person, if they may configure the service (manager or admin); 403 otherwise."""
    who = viewer(request)
    require_role(who, *CONFIGURERS)
    return who


@routes.get("/manage")
async def index(request: web.Request) -> web.Response:
    configurer(request)
    return render("manage_index.html", request, {})


# --- rules ---------------------------------------------------------------------------------------


def grant_problem(who: Viewer, before: frozenset[str], after: frozenset[str]) -> str | None:
    """Why this person may not turn `before` into `after` (one line), or None."""
    if not after:
        return _("Choose at least one role.")
    if not after <= set(accounts.ROLES):
        return _("Choose roles from the list.")
    return rights_problem(who, before, after)


def rights_problem(who: Viewer, before: frozenset[str], after: frozenset[str]) -> str | None:
    """Why this person may not give or take the roles that change between `before` and `after`, or None."""
    for role in accounts.ROLES:
        granter = GRANTED_BY[role]
        if (role in before) != (role in after) and granter not in who.roles:
            article = "an" if granter[0] in "aeiou" else "a"
            return _("Only {article} {granter} can give or take away the {n} role.").format(
                article=article, granter=granter, n=ROLE_LABELS[role].lower()
            )
    return None


async def removal_problem(tx: Tx, service_id: int, pid: int, after: frozenset[str]) -> str | None:
    """Why `pid` may not be left with only `after` (empty: deactivated), or None. Read in the writing unit."""
    for role in GUARDED:
        holders = await practitioners.ids_with_role(tx, service_id, role)
        if role not in after and holders == [pid]:
            return _("This is the service's last {n}: give someone else that role first.").format(
                n=ROLE_LABELS[role].lower()
            )
    if "idva" not in after:
        open_cases = await practitioners.open_case_count(tx, pid)
        if open_cases:
            return _("They are the assigned IDVA of {open_cases} open case(s): reassign those cases first.").format(
                open_cases=open_cases
            )
    return None


# --- the practitioners page ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    roles: frozenset[str]
    active: bool
    has_account: bool
    sessions: int


async def _rows(request: web.Request, service_id: int) -> list[Row]:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        people = await practitioners.list_for_service(tx, app.crypto, service_id)
        out = []
        for p in people:
            out.append(
                Row(
                    p.id,
                    p.name,
                    await accounts.roles_of(tx, p.id),
                    p.active,
                    await accounts.get_account(tx, app.crypto, p.id) is not None,
                    len(await accounts.live_sessions(tx, p.id)),
                )
            )
    return out


async def _page(request: web.Request, who: Viewer, status: int = 200, **extra: object) -> web.Response:
    context: dict[str, object] = {
        "people": await _rows(request, who.service_id),
        "role_names": accounts.ROLES,
        "role_labels": ROLE_LABELS,
        "errors": {},
        "invite_name": "",
        "invite_roles": (),
        "notice": None,
        "link": None,
    }
    context.update(extra)
    return render("manage_practitioners.html", request, context, status)


NOTICES = {
    "roles": N_("Roles saved."),
    "deactivated": N_("Deactivated: their sessions have ended and they can no longer sign in."),
}


@routes.get("/manage/practitioners")
async def practitioners_page(request: web.Request) -> web.Response:
    who = configurer(request)
    return await _page(request, who, notice=maybe(NOTICES.get(request.query.get("done", ""))))


def _chosen_roles(form: object, prefix: str = "role") -> frozenset[str]:
    getall = getattr(form, "getall", None)
    values = getall(prefix, []) if getall else []
    return frozenset(v for v in values if isinstance(v, str))


@routes.post("/manage/practitioners/invite")
async def invite(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    name = " ".join(forms.text(form, "name", 200).split())
    roles = _chosen_roles(form)
    errors: dict[str, str] = {}
    if not name:
        errors["invite_name"] = _("Give the person's name.")
    elif len(name) > NAME_LIMIT or not name.isprintable():
        errors["invite_name"] = _("Use at most {name_limit} printable characters.").format(name_limit=NAME_LIMIT)
    problem = grant_problem(who, frozenset(), roles)
    if problem:
        errors["invite_roles"] = problem
    if errors:
        return await _page(request, who, 400, errors=errors, invite_name=name, invite_roles=tuple(roles))
    now = app.clock.now()

    async def unit(tx: Tx) -> str:
        token = await accounts.invite(tx, app.crypto, who.service_id, roles, name, who.actor, now)
        detail = audit.changed({}, {"roles": sorted(roles)})  # never the name: personal data
        await audit.log(tx, now, who.actor, "invitation_created", None, detail, who.service_id)
        await tx.commit()
        return token

    token = await app.db.run(unit)
    link = f"{request.app[WORKSPACE_KEY].origin}/invite/{token}"
    return await _page(
        request, who, link=link, notice=_("Invitation created. Copy the link now: it is shown only once.")
    )


async def _target(request: web.Request, who: Viewer) -> int:
    """The practitioner in the path, of this person's service (another service's does not exist)."""
    app = request.app[APP_KEY]
    try:
        pid = int(request.match_info["pid"])
    except ValueError:
        raise web.HTTPNotFound(text=_("No such practitioner.")) from None
    async with app.db.reading() as tx:
        service_id = await practitioners.active_service(tx, pid)
    if service_id != who.service_id:
        raise web.HTTPNotFound(text=_("No such practitioner, or they were deactivated."))
    return pid


@routes.post("/manage/practitioners/{pid:[0-9]{1,12}}/roles")
async def set_roles(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    pid = await _target(request, who)
    after = _chosen_roles(await request.post())
    now = app.clock.now()

    async def unit(tx: Tx) -> str | None:
        if await partners.partner_of(tx, pid) is not None:
            # A partner's person sees only what was shared with them: never a staff role.
            return _("A partner agency's person keeps the partner role only: see Manage → Partners.")
        before = await accounts.roles_of(tx, pid)
        problem = grant_problem(who, before, after) or await removal_problem(tx, who.service_id, pid, after)
        if problem:
            return problem
        if before == after:
            return None
        await accounts.set_roles(tx, pid, after)
        detail = audit.changed({"roles": sorted(before)}, {"roles": sorted(after)}, practitioner=pid)
        await audit.log(tx, now, who.actor, "practitioner_roles_set", None, detail, who.service_id)
        await tx.commit()
        return None

    problem = await app.db.run(unit)
    if problem:
        return await _page(request, who, 400, errors={f"roles-{pid}": problem})
    raise web.HTTPSeeOther("/manage/practitioners?done=roles")


@routes.post("/manage/practitioners/{pid:[0-9]{1,12}}/reset")
async def reset(request: web.Request) -> web.Response:
    """A one-time link for a locked-out person: new password and second factor (there is no lockout)."""
    who = configurer(request)
    app = request.app[APP_KEY]
    pid = await _target(request, who)
    now = app.clock.now()

    async def unit(tx: Tx) -> tuple[str | None, str | None]:
        # Whoever resets a person can sign in as them: only someone who could give all their roles may.
        problem = rights_problem(who, frozenset(), await accounts.roles_of(tx, pid))
        if await partners.partner_of(tx, pid) is not None and "manager" not in who.roles:
            # A partner's person reads what was shared about cases: a manager's to let in, as in Manage → Partners.
            problem = _("Only a manager can reset a partner agency's person.")
        if problem:
            return None, problem
        token = await accounts.reset_link(tx, app.crypto, pid, who.actor, now)
        if token is None:
            return None, _("They have no workspace account: invite them.")
        await audit.log(tx, now, who.actor, "account_reset_link", None, f"practitioner={pid}", who.service_id)
        await tx.commit()
        return token, None

    token, problem = await app.db.run(unit)
    if token is None:
        return await _page(request, who, 400, errors={f"reset-{pid}": problem or ""})
    link = f"{request.app[WORKSPACE_KEY].origin}/invite/{token}"
    notice = _(
        "Reset link created. Give it to them in person or by phone: it is shown only once and works for 24 hours."
    )
    return await _page(request, who, link=link, notice=notice)


@routes.post("/manage/practitioners/{pid:[0-9]{1,12}}/deactivate")
async def deactivate(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    pid = await _target(request, who)
    if pid == who.practitioner_id:
        return await _page(
            request, who, 400, errors={f"deactivate-{pid}": _("You cannot deactivate your own account.")}
        )
    now = app.clock.now()

    async def unit(tx: Tx) -> str | None:
        roles = await accounts.roles_of(tx, pid)
        problem = rights_problem(who, roles, frozenset()) or await removal_problem(tx, who.service_id, pid, frozenset())
        if problem:
            return problem
        await practitioners.deactivate(tx, pid)
        ended = await accounts.end_sessions_of(tx, pid, "deactivated", now)
        detail = audit.changed({"active": True}, {"active": False}, practitioner=pid, sessions_ended=ended)
        await audit.log(tx, now, who.actor, "practitioner_deactivated", None, detail, who.service_id)
        await tx.commit()
        return None

    problem = await app.db.run(unit)
    if problem:
        return await _page(request, who, 400, errors={f"deactivate-{pid}": problem})
    raise web.HTTPSeeOther("/manage/practitioners?done=deactivated")
