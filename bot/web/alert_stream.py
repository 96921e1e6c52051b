"""The live alert queue: a Server-Sent Events stream that says when the viewer's queue has changed.

Each second the stream reads one row (the service's queue version, kept by triggers whatever process
wrote the change) and re-checks the session; only when the version moved does it read the queue and
compare what the viewer would see. The event carries no case content: the page then fetches the list
(/alerts/fragment), which is audited like any view. The stream ends when the session ends or the
server shuts down. It does not itself count as activity: the page pings while its tab is visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web

from bot.web import forms
from bot.web.alert_view import queue_for, signature
from bot.web.keys import APP_KEY
from bot.web.security import secure_stream
from bot.web.sessions import load, passive
from bot.web.viewer import Viewer, viewer
from storage import alert_work

log = logging.getLogger("safecheck.web.alerts")
routes = web.RouteTableDef()

POLL_SECONDS = 1.0
KEEPALIVE_TICKS = 15  # a comment line now and then: a closed connection shows up, proxies keep it open
STOPPING = web.AppKey("safecheck.alert_streams_stopping", asyncio.Event)


def setup(app: web.Application) -> None:
    """Streams end as soon as the server starts to shut down, instead of holding it for its timeout."""
    app[STOPPING] = asyncio.Event()

    async def stop(app: web.Application) -> None:
        app[STOPPING].set()

    app.on_shutdown.append(stop)


async def _session_ended(request: web.Request, who: Viewer) -> str:
    """Why the session is over ('idle', 'absolute', 'ended'), or '' while it lasts; ends it at its limit."""
    live, reason = await load(request)
    if live is None or live.session.id != who.session_id:
        return reason or "ended"
    return ""


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


@routes.get("/alerts/events")
@passive  # an open connection is not a person at work; the visible page pings instead
async def events(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    stopping = request.app[STOPPING]
    since = request.query.get("v", "")
    response = secure_stream(web.StreamResponse(headers={"Content-Type": "text/event-stream"}))
    response.headers["X-Accel-Buffering"] = "no"
    page_version = int(since) if forms.is_number(since) else -1  # the version the page was rendered at
    seen_version, seen = -1, None
    ticks = 0
    try:
        await response.prepare(request)  # the browser may have gone already: that is not an error
        await response.write(b"retry: 3000\n\n")
        while not stopping.is_set():
            if request.transport is None or request.transport.is_closing():
                break  # the browser went away
            ended = await _session_ended(request, who)
            if ended:
                await response.write(_event("ended", ended))
                break
            async with app.db.reading() as tx:
                version = await alert_work.version(tx, who.service_id)
                shown = signature(await queue_for(tx, who)) if version != seen_version else seen
            if version != seen_version:
                # The first look compares with the page itself; later ones with what this viewer saw.
                if (seen is None and version != page_version) or (seen is not None and shown != seen):
                    await response.write(_event("queue", {"version": version}))
                seen_version, seen = version, shown
            ticks += 1
            if ticks % KEEPALIVE_TICKS == 0:
                await response.write(b": keepalive\n\n")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), POLL_SECONDS)
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    return response
