"""The keys under which the web app keeps its parts."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.app import App
from bot.health import Heartbeat


@dataclass(frozen=True)
class WorkspaceSettings:
    idle_minutes: int = 15
    absolute_hours: int = 8
    origin: str = "http://localhost:8080"  # scheme://host[:port] the browser shows; WebAuthn checks it
    rp_id: str = "localhost"  # the WebAuthn relying party: the host name, never an IP address


APP_KEY = web.AppKey("safecheck", App)
TIMERS_KEY = web.AppKey("safecheck.timers", Heartbeat)
WORKSPACE_KEY = web.AppKey("safecheck.workspace", WorkspaceSettings)
# The routes of the workspace: sessions and CSRF apply to them, not to the providers' signed webhooks.
WORKSPACE_ROUTES_KEY = web.AppKey("safecheck.workspace_routes", set)
