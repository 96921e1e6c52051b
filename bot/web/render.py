"""Jinja2 templates for the workspace: autoescaped, English through gettext, shared page context."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot.web.keys import APP_KEY
from bot.web.sessions import SESSION, csrf_token
from bot.web.viewer import VIEWER
from bot.web.words import N_, _, ngettext

# (label, path, roles that see it): the navigation, by role.
NAV = (
    (N_("Alerts"), "/alerts", ("idva", "duty", "manager")),
    (N_("Cases"), "/cases", ("idva", "duty", "manager")),
    (N_("New case"), "/cases/new", ("idva", "manager")),
    (N_("Manage"), "/manage", ("manager", "admin")),
    (N_("Audit log"), "/audit", ("manager",)),
    (N_("Shares"), "/shares", ("partner",)),
    (N_("Account"), "/account", ("idva", "duty", "manager", "admin", "partner")),
)


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    # The same gettext as the Python side (bot.web.words), looked up on every call, so installing a
    # catalogue there (words.TRANSLATIONS) translates both: English until one is installed.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_, ngettext=ngettext, newstyle=True
    )


def _page_context(request: web.Request) -> dict[str, Any]:
    who = request.get(VIEWER)
    live = request.get(SESSION)
    token = csrf_token(request)
    context: dict[str, Any] = {
        "viewer": who,
        "csrf": token,
        "csrf_field": lambda: Markup('<input type="hidden" name="_csrf" value="{}">').format(escape(token)),
        "nav": [(label, path) for label, path, roles in NAV if who is not None and who.has(*roles)],
        "path": request.path,
        "session_ends": None,
    }
    if live is not None and who is not None:
        now = request.app[APP_KEY].clock.now()
        context["session_ends"] = {
            "idle": max(0, int((live.idle_ends - now).total_seconds())),
            "absolute": max(0, int((live.absolute_ends - now).total_seconds())),
        }
    return context


def render(name: str, request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    # The shared context is merged here rather than by aiohttp_jinja2's context processors, whose
    # middleware stores under a plain string key (aiohttp warns about that).
    return aiohttp_jinja2.render_template(name, request, {**_page_context(request), **context}, status=status)
