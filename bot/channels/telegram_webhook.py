"""`POST /telegram/webhook` on our own aiohttp server.

Telegram sends the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; anything
without it (compared in constant time) gets 403 and is not even parsed. A body that is not an
update at all (not JSON, no update_id) gets 400. An update the library cannot parse (an older or
newer Bot API shape) is kept for a person and answered 200, like any update that was stored; one
that could not be stored gets 500, so that Telegram delivers it again.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels import telegram_raw
from bot.channels.telegram_updates import Router

log = logging.getLogger("safecheck.telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Handler = Callable[[web.Request], Awaitable[web.Response]]


def make_handler(router: Router, secret: str) -> Handler:
    expected = secret.encode()
    chat_locks: dict[str, asyncio.Lock] = {}

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook refused: missing or wrong secret token")
            return web.Response(status=403, text="forbidden\n")
        try:
            await router.core.ready()
        except Exception as exc:  # Telegram unreachable from here just now: let it deliver again
            log.error("telegram webhook: bot not ready error=%s", type(exc).__name__)
            return web.Response(status=503, text="try again\n")
        try:
            data: Any = await request.json()  # bytes that are not UTF-8 land here too
            if telegram_raw.update_id(data) is None:
                raise ValueError("not an update")
        except Exception as exc:  # not an update at all: Telegram must not retry it forever
            log.warning("telegram webhook: malformed update error=%s", type(exc).__name__)
            return web.Response(status=400, text="malformed update\n")
        # Telegram may deliver several updates at once: one chat's are handled in the order they came.
        chat = telegram_raw.read(data).chat or ""
        lock = chat_locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                await router.route_raw(data)
        except Exception as exc:
            log.error("telegram webhook: update not stored error=%s", type(exc).__name__)
            return web.Response(status=500, text="try again\n")
        finally:
            if len(chat_locks) > 1000:  # keep memory flat: idle chats need no lock
                for idle in [c for c, held in chat_locks.items() if not held.locked()]:
                    del chat_locks[idle]
        return web.Response(text="ok\n")

    return webhook
