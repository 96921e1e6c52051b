"""Logging in (password, then a second factor), logging out, and accepting an invitation.

The login page says the same thing, at the same cost, whether or not an account exists. Failed
attempts slow further ones down (storage.accounts.delay_after); there is no lockout, so a duty
worker is never shut out in an emergency: a recovery code works, and an admin can reset.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from bot.web import devices, forms, passwords
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.sessions import (
    COOKIE,
    SESSION,
    clear_session_cookie,
    current_session,
    passive,
    public,
    second_factor,
    set_session_cookie,
)
from bot.web.viewer import viewer
from bot.web.words import N_, _, maybe
from storage import accounts, audit, practitioners, services, webauthn_creds
from storage.db import Tx

log = logging.getLogger("safecheck.web.auth")
routes = web.RouteTableDef()
NO_MATCH = N_("That login name and password do not match. Check both and try again.")
ENDED = {
    "idle": N_("You were signed out after a time without activity. Sign in again to go on."),
    "absolute": N_("Your session reached its time limit. Sign in again to go on."),
    "out": N_("You have signed out."),
}


def _wait_text(seconds: float) -> str:
    return _("Too many attempts. Wait {n} seconds, then try again.").format(n=max(1, round(seconds)))


@routes.get("/login")
@public
async def login_page(request: web.Request) -> web.Response:
    ended = maybe(ENDED.get(request.query.get("ended", "")))
    return render("login.html", request, {"error": None, "notice": ended, "login": ""})


@routes.post("/login")
@public
async def login_submit(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    form = await request.post()
    login, password = forms.text(form, "login", 254), forms.text(form, "password", passwords.MAX_LENGTH)
    now = app.clock.now()
    key = accounts.login_lookup(app.crypto, login)
    async with app.db.reading() as tx:
        account = await accounts.by_login(tx, app.crypto, login) if login else None
        if account is not None:  # a device she signed in from before has a delay of its own
            pid, changed = account.practitioner_id, account.password_changed_at
            key = devices.throttle_key(request, app.crypto, pid, changed, key, now)
    wait = await app.db.run(_begin_attempt(key, now))
    if wait.total_seconds() > 0:
        return render(
            "login.html", request, {"error": _wait_text(wait.total_seconds()), "notice": None, "login": login}, 429
        )
    ok = await passwords.check_password(account.password_hash if account else None, password)
    if not ok or account is None or not account.active:

        async def failed(tx: Tx) -> None:  # counted already, by _begin_attempt
            if account is not None:
                await audit.log(
                    tx,
                    now,
                    f"practitioner:{account.practitioner_id}",
                    "login_failed",
                    None,
                    "password",
                    account.service_id,
                )
            await tx.commit()

        await app.db.run(failed)
        return render("login.html", request, {"error": _(NO_MATCH), "notice": None, "login": login}, 401)
    old = current_session(request)
    found = account
    # Hashing parameters raised since this hash was made: the password is at hand, so store it re-hashed.
    rehashed = await passwords.hash_password(password) if passwords.needs_rehash(found.password_hash) else None

    async def started(tx: Tx) -> str:
        if old is not None:
            await accounts.end_session(tx, old.id, "replaced", now)
        if rehashed and await accounts.rehash_password(tx, found.practitioner_id, found.password_hash, rehashed):
            actor = f"practitioner:{found.practitioner_id}"
            await audit.log(tx, now, actor, "password_rehashed", None, "", found.service_id)
        await accounts.login_succeeded(tx, key)
        token, _session_id = await accounts.new_session(tx, found.practitioner_id, "password", now)
        await tx.commit()
        return token

    token = await app.db.run(started)
    response = web.HTTPSeeOther("/login/second")
    set_session_cookie(response, token)
    raise response


@routes.get("/login/second")
@second_factor
async def second_page(request: web.Request) -> web.Response:
    return render("login_second.html", request, {"error": None, "has_passkeys": await _has_passkeys(request)})


async def _has_passkeys(request: web.Request) -> bool:
    """Offer the passkey button only to someone who has one (they are past the password)."""
    session = current_session(request)
    if session is None:
        return False
    async with request.app[APP_KEY].db.reading() as tx:
        return bool(await webauthn_creds.credential_ids(tx, session.practitioner_id))


@routes.post("/login/second")
@second_factor
async def second_submit(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    session = current_session(request)
    assert session is not None  # the middleware let a session with a password through
    form = await request.post()
    code = forms.text(form, "code", 64).strip()
    now = app.clock.now()
    key = accounts.second_factor_key(app.crypto, session.practitioner_id)
    async with app.db.reading() as tx:
        account = await accounts.get_account(tx, app.crypto, session.practitioner_id)
    if account is None or not account.active:
        raise web.HTTPSeeOther("/login")
    step = passwords.totp_step(account.totp_secret, code, now)
    pid = account.practitioner_id

    async def attempt(tx: Tx) -> str | timedelta | None:
        if wait := await accounts.begin_attempt(tx, key, now):  # a burst of codes meets the delay too
            await tx.commit()
            return wait
        if step is not None:
            method = "totp" if await accounts.use_totp_step(tx, pid, step) else None
        else:
            method = "recovery_code" if await accounts.use_recovery_code(tx, pid, code, now) else None
        if method is None:
            await audit.log(tx, now, f"practitioner:{pid}", "login_failed", None, "second_factor", account.service_id)
            await tx.commit()
            return None
        token = await complete_login(tx, session.id, pid, method, account.service_id, key, now)
        await tx.commit()
        return token

    token = await app.db.run(attempt)
    if isinstance(token, timedelta):
        context = {"error": _wait_text(token.total_seconds()), "has_passkeys": await _has_passkeys(request)}
        return render("login_second.html", request, context, 429)
    if token is None:
        context = {
            "error": _("That code is not right, or was used already."),
            "has_passkeys": await _has_passkeys(request),
        }
        return render("login_second.html", request, context, 401)
    response = web.HTTPSeeOther("/")
    set_session_cookie(response, token)
    devices.remember(response, app.crypto, pid, account.password_changed_at, now)
    raise response


def _begin_attempt(key: bytes, now: datetime) -> Callable[[Tx], Coroutine[Any, Any, timedelta]]:
    async def unit(tx: Tx) -> timedelta:
        wait = await accounts.begin_attempt(tx, key, now)
        await tx.commit()
        return wait

    return unit


async def complete_login(
    tx: Tx, half_session: int, practitioner_id: int, method: str, service_id: int, key: bytes, now: datetime
) -> str:
    """Swap the password-only session for a full one (a new token: no fixation) and audit the login."""
    await accounts.end_session(tx, half_session, "second_factor", now)
    await accounts.login_succeeded(tx, key)
    token, _session_id = await accounts.new_session(tx, practitioner_id, "full", now)
    await audit.log(tx, now, f"practitioner:{practitioner_id}", "login", None, method, service_id)
    return token


@routes.post("/logout")
@public
async def logout(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    session = current_session(request)
    now = app.clock.now()
    if session is not None:
        sid, pid = session.id, session.practitioner_id

        async def out(tx: Tx) -> None:
            await accounts.end_session(tx, sid, "logout", now)
            await audit.log(tx, now, f"practitioner:{pid}", "logout")
            await tx.commit()

        await app.db.run(out)
    response = web.HTTPSeeOther("/login?ended=out")
    clear_session_cookie(response)
    raise response


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    who = viewer(request)
    if who.sees_cases:
        raise web.HTTPSeeOther("/alerts")
    if who.is_partner:
        raise web.HTTPSeeOther("/shares")
    return render("home.html", request, {})


@routes.get("/session")
@passive
async def session_status(request: web.Request) -> web.StreamResponse:
    """Seconds left before each limit (the page's warning asks; asking is not activity)."""
    live = request.get(SESSION)
    now = request.app[APP_KEY].clock.now()
    if live is None:
        return web.json_response({"signed_in": False})
    return web.json_response(
        {
            "signed_in": True,
            "idle_seconds": max(0, int((live.idle_ends - now).total_seconds())),
            "absolute_seconds": max(0, int((live.absolute_ends - now).total_seconds())),
        }
    )


@routes.post("/session")
async def session_extend(request: web.Request) -> web.StreamResponse:
    """'Stay signed in': the request itself is the activity (up to the absolute limit)."""
    return await session_status(request)


# --- invitations ---------------------------------------------------------------------------------


def _qr_svg(uri: str) -> Markup:
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=_("QR code for your authenticator app"))
    return Markup(svg)  # made by segno from our own URI: no user markup inside


@routes.get("/invite/{token}")
@public
async def invite_page(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        invitation = await accounts.open_invitation(tx, app.crypto, request.match_info["token"], app.clock.now())
    if invitation is None:
        return render("invite_gone.html", request, {}, 404)
    secret = passwords.new_totp_secret()
    return render("invite.html", request, _invite_context(request, invitation, secret, "", None))


def _offer(request: web.Request, secret: str) -> str:
    """A keyed hash binding the TOTP key the page offered to this invitation: the key travels in the form
    (nothing is stored before the account exists), so without this an invitee could choose their own."""
    crypto = request.app[APP_KEY].crypto
    return crypto.lookup_hash("totp_offer", f"{request.match_info['token']}:{secret}").hex()


def _offered(request: web.Request, secret: str, offer: str) -> bool:
    return re.fullmatch("[A-Z2-7]{32}", secret) is not None and hmac.compare_digest(_offer(request, secret), offer)


def _invite_context(
    request: web.Request, invitation: accounts.Invitation, secret: str, login: str, error: str | None
) -> dict[str, object]:
    uri = passwords.totp_uri(secret, login or invitation.name, "Safecheck")
    return {
        "name": invitation.name,
        "reset": invitation.reset_of is not None,
        "secret": secret,
        "offer": _offer(request, secret),
        "qr": _qr_svg(uri),
        "login": login,
        "error": error,
    }


@routes.post("/invite/{token}")
@public
async def invite_submit(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    token = request.match_info["token"]
    form = await request.post()
    login = forms.text(form, "login", 254).strip()
    password, again = forms.text(form, "password", 300), forms.text(form, "password_again", 300)
    secret, code = forms.text(form, "secret", 64), forms.text(form, "code", 16)
    offer = forms.text(form, "offer", 64)
    now = app.clock.now()
    async with app.db.reading() as tx:
        invitation = await accounts.open_invitation(tx, app.crypto, token, now)
        taken = bool(login) and await accounts.login_taken(tx, app.crypto, login)
        service = await services.get(tx, invitation.service_id) if invitation else None
        reset_of = invitation.reset_of if invitation else None
        kept = await accounts.login_of(tx, app.crypto, reset_of) if reset_of is not None else ""
    if invitation is None or service is None:
        return render("invite_gone.html", request, {}, 404)
    if invitation.reset_of is not None:  # a reset keeps the login name: the new password is checked against it
        login, taken = kept or f"practitioner-{invitation.reset_of}", False
    if not _offered(request, secret, offer):
        secret = passwords.new_totp_secret()  # not the key we offered: start the authenticator step again
    error = (
        _("Choose a login name (your work e-mail address is a good one).")
        if not login
        else _("That login name is taken: choose another.")
        if taken
        else await passwords.password_problem(password, again, login, (invitation.name, service.name, service.slug))
        or (
            None
            if passwords.totp_step(secret, code, now) is not None
            else _("That code does not match: add the key to your authenticator app and type the code it shows now.")
        )
    )
    if error:
        shown = "" if invitation.reset_of is not None else login
        return render("invite.html", request, _invite_context(request, invitation, secret, shown, error), 400)
    hashed = await passwords.hash_password(password)
    found = invitation

    async def accept(tx: Tx) -> list[str] | None:
        if found.reset_of is not None:
            return await _reset(tx, found.reset_of)
        if found.account_for is not None:
            return await _existing(tx, found.account_for)
        roles = sorted(found.roles)
        # Alerts reach them in the workspace ("inbox") until they add a phone channel of their own.
        inbox = [practitioners.ChannelAddress("inbox", None)]
        pid = await practitioners.add(tx, app.crypto, found.service_id, _first_role(roles), found.name, inbox, now)
        if not await accounts.mark_invitation_used(tx, found.id, pid, now):
            raise _InvitationRace
        await accounts.set_roles(tx, pid, frozenset(roles))
        await accounts.create_account(tx, app.crypto, pid, login, hashed, secret, now)
        codes = await accounts.new_recovery_codes(tx, pid)
        await audit.log(
            tx, now, f"practitioner:{pid}", "invitation_accepted", None, f"invitation={found.id}", found.service_id
        )
        await tx.commit()
        return codes

    async def _existing(tx: Tx, pid: int) -> list[str]:
        # A partner agency's person already exists (with their role and channels): only the account is new.
        taken = await accounts.get_account(tx, app.crypto, pid) is not None
        if taken or await practitioners.active_service(tx, pid) is None:
            raise _InvitationRace
        if not await accounts.mark_invitation_used(tx, found.id, pid, now):
            raise _InvitationRace
        await accounts.create_account(tx, app.crypto, pid, login, hashed, secret, now)
        codes = await accounts.new_recovery_codes(tx, pid)
        await audit.log(
            tx, now, f"practitioner:{pid}", "invitation_accepted", None, f"invitation={found.id}", found.service_id
        )
        await tx.commit()
        return codes

    async def _reset(tx: Tx, pid: int) -> list[str]:
        if not await accounts.mark_invitation_used(tx, found.id, pid, now):
            raise _InvitationRace
        await accounts.reset_account(tx, app.crypto, pid, hashed, secret, now)
        codes = await accounts.new_recovery_codes(tx, pid)
        await audit.log(tx, now, f"practitioner:{pid}", "account_reset_completed", None, "", found.service_id)
        await tx.commit()
        return codes

    try:
        codes = await app.db.run(accept)
    except _InvitationRace:
        return render("invite_gone.html", request, {}, 404)
    return render("invite_done.html", request, {"codes": codes})


class _InvitationRace(Exception):
    """The invitation was used by another request at the same moment."""


def _first_role(roles: list[str]) -> str:
    """practitioners.role keeps one role the older code reads; admin alone counts as manager there."""
    for role in ("idva", "duty", "manager"):
        if role in roles:
            return role
    return "manager"


__all__ = ["COOKIE", "complete_login", "routes"]
