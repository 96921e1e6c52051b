"""The aiohttp web server: health now; Telegram and Twilio webhooks plug in here later."""

from __future__ import annotations

from aiohttp import web

from bot.app import App
from storage import outbox

APP_KEY = web.AppKey("safecheck", App)


async def health(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        counts = await outbox.counts(tx)
    return web.json_response({"ok": True, "outbox": counts})


def make_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=64 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", health)
    return web_app
