"""/healthz for a supervisor: 200 when every part makes progress."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.health import OUTBOX_BOUND, Stuck, stuck
from bot.transport import ReportsHealth
from bot.web.keys import APP_KEY, TIMERS_KEY
from storage import outbox

log = logging.getLogger("safecheck.web")


async def health(request: web.Request) -> web.Response:
    """200 when every part makes progress; 503, naming the stuck parts, when one does not.

    Checked: the timer loop ran; no outbox row the dispatcher could send has waited too long; each
    transport's own loop (Telegram long polling) completed a round. Bounds: bot.health.
    """
    app = request.app[APP_KEY]
    now = app.clock.now()
    found: list[Stuck | None] = []
    timers = request.app.get(TIMERS_KEY)
    if timers is not None:
        found.append(timers.check(now))
    for transport in app.transports:
        if isinstance(transport, ReportsHealth):
            found.extend(transport.health(now))
    counts: dict[str, int] = {}
    try:
        async with app.db.reading() as tx:
            counts = await outbox.counts(tx)
            oldest = await outbox.oldest_due(tx, now)
        if oldest is not None:
            found.append(stuck("outbox", "a due message has not been sent", now - oldest, OUTBOX_BOUND))
    except Exception as exc:
        log.error("health check could not read the database error=%s", type(exc).__name__)
        found.append(Stuck("database", f"cannot be read: {type(exc).__name__}", 0, 0))
    problems = [s for s in found if s is not None]
    body = {
        "ok": not problems,
        "stuck": [
            {"part": s.part, "reason": s.reason, "waited_seconds": s.waited_seconds, "bound_seconds": s.bound_seconds}
            for s in problems
        ],
        "outbox": counts,
    }
    if problems:
        log.warning("health: stuck parts=%s", ",".join(s.part for s in problems))
    return web.json_response(body, status=503 if problems else 200)
