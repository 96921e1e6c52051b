"""Server-side sessions and CSRF for the workspace's routes.

The cookie carries a 256-bit random token; the database keeps only its hash. A session is ended
after `idle_minutes` without activity or `absolute_hours` after login, whichever comes first.
Every request that changes anything carries a CSRF token: the session's own, or before login the
value of a separate cookie (so a login form cannot be posted from another site either).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.web.keys import APP_KEY, WORKSPACE_KEY, WORKSPACE_ROUTES_KEY, WorkspaceSettings
from bot.web.viewer import VIEWER, Viewer, partner_may_open
from bot.web.words import _
from storage import accounts, audit, rota
from storage.db import Tx

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "__Host-safecheck"
PRE_COOKIE = "__Host-safecheck-pre"  # the CSRF token of forms shown before login
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = timedelta(seconds=30)  # last-seen is written at most this often


# Handler marks: what a route needs of its caller.
def public(handler: Handler) -> Handler:
    """No login needed (the login and invitation pages)."""
    handler.safecheck_access = "public"  # type: ignore[attr-defined]
    return handler


def second_factor(handler: Handler) -> Handler:
    """The password alone is enough (the second-factor step itself)."""
    handler.safecheck_access = "password"  # type: ignore[attr-defined]
    return handler


def passive(handler: Handler) -> Handler:
    """Reading it does not count as activity (the session-status check)."""
    handler.safecheck_passive = True  # type: ignore[attr-defined]
    return handler


@dataclass(frozen=True)
class Live:
    """A session still within its limits, and when each limit falls."""

    session: accounts.Session
    idle_ends: datetime
    absolute_ends: datetime


SESSION = web.RequestKey("safecheck.session", Live)
CSRF = web.RequestKey("safecheck.csrf", str)


def limits(settings: WorkspaceSettings, session: accounts.Session) -> tuple[datetime, datetime]:
    return (
        session.last_seen_at + timedelta(minutes=settings.idle_minutes),
        session.created_at + timedelta(hours=settings.absolute_hours),
    )


def set_session_cookie(response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, path="/", secure=True, httponly=True, samesite="Strict")


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="Strict")


def current_session(request: web.Request) -> accounts.Session | None:
    found = request.get(SESSION)
    return found.session if found is not None else None


def csrf_token(request: web.Request) -> str:
    token: str = request.get(CSRF, "")
    return token


@web.middleware
async def workspace_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route
    if id(route) not in request.app[WORKSPACE_ROUTES_KEY]:
        return await handler(request)  # webhooks, /healthz and static files
    target: Any = route.handler
    needs = getattr(target, "safecheck_access", "full")
    live, ended = await load(request)
    if live is not None:
        request[SESSION] = live
        request[CSRF] = live.session.csrf
    fresh_pre: str | None = None
    if live is None:
        fresh_pre = None if request.cookies.get(PRE_COOKIE) else secrets.token_urlsafe(32)
        request[CSRF] = request.cookies.get(PRE_COOKIE) or fresh_pre or ""
    if needs != "public" and live is None:  # sign in first; a form posted after expiry is not "forged"
        raise web.HTTPSeeOther(f"/login?ended={ended}" if ended else "/login")
    if request.method not in SAFE_METHODS:
        await _check_csrf(request)
    if live is not None and needs != "public":
        if needs == "full" and live.session.stage != "full":
            raise web.HTTPSeeOther("/login/second")
        if live.session.stage == "full":
            request[VIEWER] = who = await _viewer(request, live.session)
            if who.is_partner and needs == "full" and not partner_may_open(request.path):
                await _refuse_partner(request, who)
        if not getattr(target, "safecheck_passive", False):
            await _touch(request, live.session)
    response = await handler(request)
    if fresh_pre is not None and not response.prepared:
        response.set_cookie(PRE_COOKIE, fresh_pre, path="/", secure=True, httponly=True, samesite="Strict")
    return response


async def load(request: web.Request) -> tuple[Live | None, str]:
    """The live session behind the cookie, or None and why it ended ('idle', 'absolute' or '')."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None, ""
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        session = await accounts.session_by_token(tx, token)
        ended = await accounts.end_reason(tx, token) if session is None else None
    if session is None:
        # Ended at a limit already (by another tab's request or the alert stream): still say why.
        return None, ended if ended in ("idle", "absolute") else ""
    idle_ends, absolute_ends = limits(request.app[WORKSPACE_KEY], session)
    now = app.clock.now()
    reason = "absolute" if now >= absolute_ends else "idle" if now >= idle_ends else ""
    if reason:
        sid = session.id

        async def end(tx: Tx) -> None:
            await accounts.end_session(tx, sid, reason, now)
            await tx.commit()

        await app.db.run(end)
        return None, reason
    return Live(session, idle_ends, absolute_ends), ""


async def _viewer(request: web.Request, session: accounts.Session) -> Viewer:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        service_id = await accounts.workspace_service(tx, session.practitioner_id)
        roles = await accounts.roles_of(tx, session.practitioner_id) if service_id else frozenset()
        on_duty = service_id is not None and await rota.is_on_duty(tx, session.practitioner_id, app.clock.now())
    if service_id is None:  # deactivated, or their agency's agreement ended: sessions were ended, but be sure
        raise web.HTTPSeeOther("/login")
    return Viewer(
        practitioner_id=session.practitioner_id,
        service_id=service_id,
        roles=roles,
        on_duty=on_duty,  # the rota decides
        session_id=session.id,
    )


async def _refuse_partner(request: web.Request, who: Viewer) -> None:
    """A partner's person asked for a staff page: refused before its handler reads anything, and audited
    with the route's pattern (never the path itself, which may hold a case reference)."""
    app = request.app[APP_KEY]
    now = app.clock.now()
    detail = f"route={request.match_info.route.resource.canonical if request.match_info.route.resource else '-'}"

    async def refused(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, "partner_refused", None, detail, who.service_id)
        await tx.commit()

    await app.db.run(refused)
    raise web.HTTPForbidden(text=_("A partner agency's account opens only the shares sent to it."))


async def _touch(request: web.Request, session: accounts.Session) -> None:
    app = request.app[APP_KEY]
    now = app.clock.now()
    if now - session.last_seen_at < TOUCH_EVERY:
        return

    async def touch(tx: Tx) -> None:
        await accounts.touch(tx, session.id, now)
        await tx.commit()

    await app.db.run(touch)


async def _check_csrf(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    # Our own origin: the one configured (behind a proxy the Host header may be an inner name) or the Host.
    ours = {request.host, urlsplit(request.app[WORKSPACE_KEY].origin).netloc}
    # A browser says where a request comes from (Fetch Metadata). Under `Referrer-Policy: no-referrer` our
    # own forms post with `Origin: null`, and so does a sandboxed page elsewhere: only this header tells
    # them apart, and a sibling host ("same-site") is not us either.
    site = request.headers.get("Sec-Fetch-Site")
    foreign_origin = origin is not None and origin != "null" and urlsplit(origin).netloc not in ours
    if foreign_origin or site in ("cross-site", "same-site"):
        raise web.HTTPForbidden(text=_("This request came from another site and was refused."))
    sent = request.headers.get("X-CSRF-Token")
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()  # read once here; handlers get the same parsed form
        except (UnicodeDecodeError, LookupError, ValueError):  # LookupError: an unknown charset
            raise web.HTTPBadRequest(text=_("This form could not be read: send it again from the page.")) from None
        value = form.get("_csrf")
        sent = sent if sent is not None else value if isinstance(value, str) else None
    expected = csrf_token(request)
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise web.HTTPForbidden(
            text=_("This form has expired or did not come from this site. Go back, reload and try again.")
        )
