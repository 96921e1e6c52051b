"""Passkeys: adding one on the account page, naming and removing it, and signing in with one.

The browser side is static/passkeys.js (it calls navigator.credentials and posts JSON with the
X-CSRF-Token header). The one pending challenge lives in the session row: it is taken (cleared) by
the answer whatever the outcome, so each works once, and it carries its purpose and expiry.
A passkey login finishes exactly as a TOTP one does (bot.web.auth.complete_login: a new token).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.web import devices, forms, passwords
from bot.web.account import account_page, confirm
from bot.web.auth import complete_login
from bot.web.keys import APP_KEY, WORKSPACE_KEY
from bot.web.passkey_ceremony import (
    LOGIN,
    REGISTER,
    PasskeyRejected,
    RelyingParty,
    authentication_options,
    check_pending,
    credential_id_of,
    new_pending,
    registration_options,
    verify_authentication,
    verify_registration,
)
from bot.web.sessions import current_session, second_factor, set_session_cookie
from bot.web.viewer import viewer
from bot.web.words import N_, _
from storage import accounts, audit, practitioners, webauthn_creds
from storage.db import Tx

routes = web.RouteTableDef()
NOT_ADDED = N_("The passkey was not added. Try again, and finish the step your device asks for.")
ALREADY = N_("That passkey is added already.")
NOT_SIGNED_IN = N_("That passkey did not work here. Try again, or use the code from your authenticator app.")
NO_PASSKEY = N_("You have not added a passkey yet. Use the code from your authenticator app.")


def relying_party(request: web.Request) -> RelyingParty:
    settings = request.app[WORKSPACE_KEY]
    return RelyingParty(id=settings.rp_id, origin=settings.origin)


def _json_error(message: str, status: int) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _options(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    """The posted JSON object ({} for anything else): a bad body is just a refused passkey."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _credential(body: dict[str, Any]) -> str:
    value = body.get("credential")
    return json.dumps(value) if isinstance(value, dict) else ""


def _clean_name(text: object) -> str:
    name = " ".join(text.split())[: webauthn_creds.NAME_LIMIT] if isinstance(text, str) else ""
    return name or "Passkey"


async def _take_challenge(request: web.Request, session_id: int) -> str | None:
    """Clear the session's pending challenge and return it: from now on it cannot be answered again."""

    async def take(tx: Tx) -> str | None:
        value = await accounts.take_challenge(tx, session_id)
        await tx.commit()
        return value

    return await request.app[APP_KEY].db.run(take)


async def _set_challenge(request: web.Request, session_id: int, value: str) -> None:
    async def keep(tx: Tx) -> None:
        await accounts.set_challenge(tx, session_id, value)
        await tx.commit()

    await request.app[APP_KEY].db.run(keep)


# --- adding a passkey (fully signed in) ----------------------------------------------------------


@routes.post("/account/passkeys/options")
async def register_options(request: web.Request) -> web.Response:
    who = viewer(request)
    app = request.app[APP_KEY]
    pending = new_pending(REGISTER, app.clock.now())
    async with app.db.reading() as tx:
        existing = await webauthn_creds.credential_ids(tx, who.practitioner_id)
        me = await practitioners.get(tx, app.crypto, who.practitioner_id)
    await _set_challenge(request, who.session_id, pending.encode())
    # A keyed hash of the id: stable per person, and it says nothing about them.
    handle = app.crypto.lookup_hash("webauthn-user", str(who.practitioner_id))
    name = me.name if me and me.name else "Safecheck"
    return _options(registration_options(relying_party(request), handle, name, existing, pending))


@routes.post("/account/passkeys")
async def register(request: web.Request) -> web.Response:
    who = viewer(request)
    app = request.app[APP_KEY]
    body = await _body(request)
    name = _clean_name(body.get("name"))
    stored = await _take_challenge(request, who.session_id)
    now = app.clock.now()
    try:
        challenge = check_pending(stored, REGISTER, now)
        made = verify_registration(relying_party(request), _credential(body), challenge)
    except PasskeyRejected as exc:
        reason = str(exc)

        async def refused(tx: Tx) -> None:
            await audit.log(tx, now, who.actor, "passkey_register_failed", None, reason, who.service_id)
            await tx.commit()

        await app.db.run(refused)
        return _json_error(_(NOT_ADDED), 400)

    async def keep(tx: Tx) -> int | None:
        key_id = await webauthn_creds.add(
            tx, who.practitioner_id, made.credential_id, made.public_key, made.sign_count, name, now
        )
        detail = f"passkey={key_id}" if key_id is not None else "already registered"
        await audit.log(
            tx,
            now,
            who.actor,
            "passkey_registered" if key_id else "passkey_register_failed",
            None,
            detail,
            who.service_id,
        )
        await tx.commit()
        return key_id

    if await app.db.run(keep) is None:
        return _json_error(_(ALREADY), 409)
    return web.json_response({"ok": True, "redirect": "/account?done=passkey-added"})


@routes.post("/account/passkeys/{key_id:[0-9]{1,12}}/name")
async def rename(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    key_id = int(request.match_info["key_id"])
    name = _clean_name(forms.text(await request.post(), "name", 200))
    now = app.clock.now()

    async def change(tx: Tx) -> bool:
        if not await webauthn_creds.rename(tx, who.practitioner_id, key_id, name):
            return False
        await audit.log(tx, now, who.actor, "passkey_renamed", None, f"passkey={key_id}", who.service_id)
        await tx.commit()
        return True

    if not await app.db.run(change):
        raise web.HTTPNotFound(text=_("That passkey is not one of yours."))
    raise web.HTTPSeeOther("/account?done=passkey-renamed")


@routes.post("/account/passkeys/{key_id:[0-9]{1,12}}/remove")
async def remove(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    key_id = int(request.match_info["key_id"])
    answer = forms.text(await request.post(), "confirm", passwords.MAX_LENGTH + 1)
    async with app.db.reading() as tx:
        mine = any(k.id == key_id for k in await webauthn_creds.list_for(tx, who.practitioner_id))
    if not mine:
        raise web.HTTPNotFound(text=_("That passkey is not one of yours."))
    confirmed = await confirm(request, who, answer, "passkey_remove")
    if not confirmed.ok:
        return await account_page(request, {f"remove-{key_id}": confirmed.error or ""}, 400)
    now = app.clock.now()

    async def drop(tx: Tx) -> None:
        if await webauthn_creds.remove(tx, who.practitioner_id, key_id):
            await audit.log(tx, now, who.actor, "passkey_removed", None, f"passkey={key_id}", who.service_id)
            await tx.commit()

    await app.db.run(drop)
    raise web.HTTPSeeOther("/account?done=passkey-removed")


# --- signing in with a passkey (the second step) -------------------------------------------------


def _wait_error(seconds: float) -> web.Response:
    return _json_error(_("Too many attempts. Wait {n} seconds, then try again.").format(n=max(1, round(seconds))), 429)


@routes.post("/login/passkey/options")
@second_factor
async def login_options(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    session = current_session(request)
    assert session is not None  # the middleware let a session with a password through
    now = app.clock.now()
    key = accounts.second_factor_key(app.crypto, session.practitioner_id)
    async with app.db.reading() as tx:
        wait = await accounts.wait_before_login(tx, key, now)
        allowed = await webauthn_creds.credential_ids(tx, session.practitioner_id)
    if wait.total_seconds() > 0:
        return _wait_error(wait.total_seconds())
    if not allowed:
        return _json_error(_(NO_PASSKEY), 404)
    pending = new_pending(LOGIN, now)
    await _set_challenge(request, session.id, pending.encode())
    return _options(authentication_options(relying_party(request), allowed, pending))


@routes.post("/login/passkey")
@second_factor
async def login(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    session = current_session(request)
    assert session is not None
    pid = session.practitioner_id
    now = app.clock.now()
    key = accounts.second_factor_key(app.crypto, pid)  # the same throttle as TOTP codes
    body = await _body(request)
    stored = await _take_challenge(request, session.id)
    async with app.db.reading() as tx:
        wait = await accounts.wait_before_login(tx, key, now)
        account = await accounts.get_account(tx, app.crypto, pid)
    if account is None or not account.active:
        return _json_error(_("Sign in again."), 403)
    if wait.total_seconds() > 0:
        return _wait_error(wait.total_seconds())
    response = _credential(body)
    try:
        challenge = check_pending(stored, LOGIN, now)
        async with app.db.reading() as tx:
            found = await webauthn_creds.find(tx, pid, credential_id_of(response))
        if found is None:
            raise PasskeyRejected("not one of this person's passkeys")
        new_count = verify_authentication(
            relying_party(request), response, challenge, found.public_key, found.sign_count
        )
    except PasskeyRejected as exc:
        reason = str(exc)

        async def failed(tx: Tx) -> None:
            await accounts.login_failed(tx, key, now)
            await audit.log(
                tx, now, f"practitioner:{pid}", "login_failed", None, f"passkey: {reason}", account.service_id
            )
            await tx.commit()

        await app.db.run(failed)
        return _json_error(_(NOT_SIGNED_IN), 401)
    used = found

    async def succeed(tx: Tx) -> str | None:
        if not await webauthn_creds.record_use(tx, used.id, used.sign_count, new_count, now):
            # Used again since it was read: a cloned authenticator racing the real one.
            await accounts.login_failed(tx, key, now)
            await audit.log(
                tx, now, f"practitioner:{pid}", "login_failed", None, "passkey: sign count raced", account.service_id
            )
            await tx.commit()
            return None
        token = await complete_login(tx, session.id, pid, f"passkey={used.id}", account.service_id, key, now)
        await tx.commit()
        return token

    token = await app.db.run(succeed)
    if token is None:
        return _json_error(_(NOT_SIGNED_IN), 401)
    done = web.json_response({"ok": True, "redirect": "/"})
    set_session_cookie(done, token)
    devices.remember(done, app.crypto, pid, account.password_changed_at, now)
    return done
