"""The web server: /healthz, the providers' webhooks (added by the transports) and the workspace."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import App
from bot.health import Heartbeat
from bot.web import render
from bot.web.health import health
from bot.web.host_key import HOST_KEY
from bot.web.keys import APP_KEY, TIMERS_KEY, WORKSPACE_KEY, WORKSPACE_ROUTES_KEY, WorkspaceSettings
from bot.web.pages import route_tables, setups
from bot.web.security import security_headers
from bot.web.sessions import workspace_session

STATIC = Path(__file__).parent / "static"


def workspace_settings(origin: str, idle_minutes: int = 15, absolute_hours: int = 8) -> WorkspaceSettings:
    """The origin is what the browser shows (scheme://host:port); its host is the WebAuthn relying party."""
    host = urlsplit(origin).hostname or "localhost"
    return WorkspaceSettings(idle_minutes=idle_minutes, absolute_hours=absolute_hours, origin=origin, rp_id=host)


def make_web_app(
    app: App, timers: Heartbeat | None = None, workspace: WorkspaceSettings | None = None
) -> web.Application:
    """The web app; `timers` is the timer loop's heartbeat (serve passes it)."""
    web_app = web.Application(client_max_size=64 * 1024, middlewares=[security_headers, workspace_session])
    web_app[APP_KEY] = app
    web_app[HOST_KEY] = app
    web_app[WORKSPACE_KEY] = workspace or WorkspaceSettings()
    if timers is not None:
        web_app[TIMERS_KEY] = timers
    web_app.router.add_get("/healthz", health)
    render.setup(web_app)
    workspace_routes: set[int] = set()
    for table in route_tables():
        workspace_routes.update(id(route) for route in web_app.router.add_routes(table))
    web_app[WORKSPACE_ROUTES_KEY] = workspace_routes
    for setup in setups():
        setup(web_app)
    web_app.router.add_static("/static/", STATIC, follow_symlinks=False)
    return web_app
