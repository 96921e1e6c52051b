"""The person's own account: roles and service, second factors, recovery codes, password, sessions.

Changes that could lock the person out or hand their account to someone at their unlocked screen
(new recovery codes, removing a passkey, a new password) ask again for the password or a current
TOTP code. Wrong answers are slowed down like logins (storage.accounts.delay_after), never locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.web import forms, passwords
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.sessions import clear_session_cookie
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _, maybe
from storage import accounts, audit, practitioners, services, webauthn_creds
from storage.db import Tx, parse_ts

routes = web.RouteTableDef()
NOTICES = {
    "password": N_("Your password was changed. Your other sessions were ended."),
    "passkey-added": N_("The passkey was added. You can use it at the second step when you sign in."),
    "passkey-removed": N_("The passkey was removed."),
    "passkey-renamed": N_("The passkey was renamed."),
    "session-ended": N_("That session was ended."),
}
WRONG_CONFIRM = N_("That is not your password or a current code from your authenticator app.")


@dataclass(frozen=True)
class Confirmed:
    ok: bool
    error: str | None


async def account_page(request: web.Request, errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    """The account page, with one-line errors keyed by the form they belong to."""
    who = viewer(request)
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        me = await practitioners.get(tx, app.crypto, who.practitioner_id)
        service = await services.get(tx, who.service_id)
        keys = await webauthn_creds.list_for(tx, who.practitioner_id)
        codes_left = await accounts.recovery_codes_left(tx, who.practitioner_id)
        rows = await accounts.live_sessions(tx, who.practitioner_id)
    sessions = [
        {
            "id": r["id"],
            "current": r["id"] == who.session_id,
            "full": r["stage"] == "full",
            "started": parse_ts(r["created_at"]),
            "seen": parse_ts(r["last_seen_at"]),
        }
        for r in rows
    ]
    context: dict[str, Any] = {
        "name": me.name if me else "",
        "service": service.name,
        "roles": sorted(who.roles),
        "passkeys": keys,
        "codes_left": codes_left,
        "sessions": sessions,
        "errors": errors or {},
        "notice": maybe(NOTICES.get(request.query.get("done", ""))),
    }
    return render("account.html", request, context, status)


@routes.get("/account")
async def show(request: web.Request) -> web.Response:
    return await account_page(request)


def _reauth_key(request: web.Request, who: Viewer) -> bytes:
    return request.app[APP_KEY].crypto.lookup_hash("reauth", str(who.practitioner_id))


async def confirm(request: web.Request, who: Viewer, answer: str, action: str, *, code_too: bool = True) -> Confirmed:
    """Whether `answer` is their password (or, with `code_too`, a current unused TOTP code); audited if wrong."""
    app = request.app[APP_KEY]
    now = app.clock.now()
    key = _reauth_key(request, who)
    async with app.db.reading() as tx:
        account = await accounts.get_account(tx, app.crypto, who.practitioner_id)
    if account is None:
        return Confirmed(False, _(WRONG_CONFIRM))

    async def begin(tx: Tx) -> timedelta:  # the delay checked and the attempt counted at once (a burst too)
        wait = await accounts.begin_attempt(tx, key, now)
        await tx.commit()
        return wait

    wait = await app.db.run(begin)
    if wait.total_seconds() > 0:
        return Confirmed(
            False,
            _("Too many attempts. Wait {n} seconds, then try again.").format(n=max(1, round(wait.total_seconds()))),
        )
    step = passwords.totp_step(account.totp_secret, answer, now) if code_too else None
    by_password = step is None and bool(answer) and await passwords.check_password(account.password_hash, answer)
    pid = who.practitioner_id

    async def settle(tx: Tx) -> bool:
        ok = by_password or (step is not None and await accounts.use_totp_step(tx, pid, step))
        if ok:
            await accounts.login_succeeded(tx, key)
        else:
            await audit.log(tx, now, who.actor, "reauth_failed", None, action, who.service_id)
        await tx.commit()
        return ok

    ok = await app.db.run(settle)
    return Confirmed(ok, None if ok else _(WRONG_CONFIRM))


@routes.post("/account/password")
async def change_password(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    current = forms.text(form, "current_password", passwords.MAX_LENGTH + 1)
    new = forms.text(form, "new_password", passwords.MAX_LENGTH + 1)
    again = forms.text(form, "new_password_again", passwords.MAX_LENGTH + 1)
    async with app.db.reading() as tx:
        login = await accounts.login_of(tx, app.crypto, who.practitioner_id)
        me = await practitioners.get(tx, app.crypto, who.practitioner_id)
        service = await services.get(tx, who.service_id)
    known = (me.name if me else "", service.name, service.slug)
    problem = await passwords.password_problem(new, again, login, known)
    if problem:
        return await account_page(request, {"password": problem}, 400)
    confirmed = await confirm(request, who, current, "password_change", code_too=False)
    if not confirmed.ok:
        wrong = confirmed.error if confirmed.error != _(WRONG_CONFIRM) else _("That is not your current password.")
        return await account_page(request, {"password": wrong or ""}, 400)
    hashed = await passwords.hash_password(new)
    now = app.clock.now()

    async def change(tx: Tx) -> None:
        await accounts.set_password(tx, who.practitioner_id, hashed, now)
        ended = await accounts.end_sessions_of(tx, who.practitioner_id, "password_changed", now, keep=who.session_id)
        await audit.log(tx, now, who.actor, "password_changed", None, f"sessions_ended={ended}", who.service_id)
        await tx.commit()

    await app.db.run(change)
    raise web.HTTPSeeOther("/account?done=password")


@routes.post("/account/recovery-codes")
async def new_recovery_codes(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    confirmed = await confirm(request, who, forms.text(form, "confirm", passwords.MAX_LENGTH + 1), "recovery_codes")
    if not confirmed.ok:
        return await account_page(request, {"codes": confirmed.error or _(WRONG_CONFIRM)}, 400)
    now = app.clock.now()

    async def replace(tx: Tx) -> list[str]:
        codes = await accounts.new_recovery_codes(tx, who.practitioner_id)
        await audit.log(tx, now, who.actor, "recovery_codes_regenerated", None, "", who.service_id)
        await tx.commit()
        return codes

    codes = await app.db.run(replace)
    return render("account_codes.html", request, {"codes": codes})


@routes.post("/account/sessions/{session_id:[0-9]{1,12}}/end")
async def end_session(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    target = int(request.match_info["session_id"])
    now = app.clock.now()

    async def end(tx: Tx) -> bool:
        mine = {r["id"] for r in await accounts.live_sessions(tx, who.practitioner_id)}
        if target not in mine:  # another person's session, or one already ended: nothing to do
            return False
        await accounts.end_session(tx, target, "ended_by_owner", now)
        await audit.log(tx, now, who.actor, "session_ended", None, f"session={target}", who.service_id)
        await tx.commit()
        return True

    if not await app.db.run(end):
        raise web.HTTPNotFound(text=_("That session is not one of yours, or it has ended already."))
    if target == who.session_id:
        response = web.HTTPSeeOther("/login?ended=out")
        clear_session_cookie(response)
        raise response
    raise web.HTTPSeeOther("/account?done=session-ended")
