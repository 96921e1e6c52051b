"""The Telegram transport class: survivors and practitioners on one bot, through python-telegram-bot.

PTB is a thin adapter here: it sends, parses and long-polls; the database stays the source of truth
(no ConversationHandler, user_data or persistence), so the same flows run on every channel.
`safecheck serve` long-polls by default and uses a webhook on our own aiohttp server when a public
URL is configured. See docs/telegram.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels import telegram_raw
from bot.channels.base import Channel
from bot.channels.telegram_channel import NAME, TelegramCore, TelegramPractitionerChannel, TelegramSurvivorChannel
from bot.channels.telegram_cleanup import sweep_forever
from bot.channels.telegram_settings import WEBHOOK_PATH, TelegramSettings
from bot.channels.telegram_updates import Router
from bot.channels.telegram_webhook import make_handler
from bot.health import POLL_MARGIN, Heartbeat, Stuck

if TYPE_CHECKING:
    from bot.inbound import Host

log = logging.getLogger("safecheck.telegram")
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "callback_query", "my_chat_member"]
POLL_LIMIT = 100  # updates per getUpdates, Telegram's maximum
MAX_POLL_PAUSE = 30.0  # seconds: the longest wait between tries after failures


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` failures in a row: doubling from 0.5 s, capped."""
    return min(0.25 * 2.0 ** min(failures, 16), MAX_POLL_PAUSE)  # the exponent capped: no overflow


class TelegramTransport:
    name = NAME

    def __init__(self, settings: TelegramSettings) -> None:
        # PTB logs, at DEBUG, the API URL (which holds the token) and every request's parameters
        # (chat ids, message text), and httpx logs each URL at INFO: never below WARNING, whatever
        # SAFECHECK_LOG_LEVEL says.
        for chatty in ("telegram", "httpx"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
        self.settings = settings
        self.core = TelegramCore.create(settings)
        self.router = Router(self.core)
        self.survivor_channel: Channel | None = TelegramSurvivorChannel(self.core)
        self.practitioner_channel: Channel | None = TelegramPractitionerChannel(self.core)
        self._stop = asyncio.Event()
        self._sweeper: asyncio.Task[Any] | None = None
        self._connector: asyncio.Task[Any] | None = None
        self._poller: asyncio.Task[Any] | None = None
        self._polling: Heartbeat | None = None  # long polling's last completed getUpdates, for /healthz

    def deep_link(self, code: str) -> str | None:
        return self.settings.deep_link(code)

    def add_routes(self, web_app: web.Application) -> None:
        if self.settings.webhook_mode:
            assert self.settings.webhook_secret is not None
            web_app.router.add_post(WEBHOOK_PATH, make_handler(self.router, self.settings.webhook_secret))

    def bind(self, host: Host) -> None:
        """Give the transport the running host (the router and the channels' bookkeeping need it)."""
        self.core.host = host

    async def start(self, host: Host) -> None:
        """Connect to Telegram. If it cannot be reached now, keep trying in the background: the rest
        of Safecheck (timers, alerts on other channels) must not wait for Telegram."""
        self.bind(host)
        if not self.settings.webhook_mode:
            # Measured from now: if Telegram cannot be reached at all, that is stuck too.
            bound = timedelta(seconds=self.settings.poll_timeout + self.settings.timeout) + POLL_MARGIN
            self._polling = Heartbeat("telegram.polling", "no getUpdates call completed", bound, host.core.clock)
        self._sweeper = asyncio.create_task(sweep_forever(self.core, self._stop))
        try:
            await self._connect()
        except Exception as exc:  # whatever it is, Telegram must not keep the rest from starting
            log.error("telegram start failed, retrying in the background error=%s", type(exc).__name__)
            self._connector = asyncio.create_task(self._keep_connecting())

    async def _keep_connecting(self) -> None:
        for attempt in itertools.count(1):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=min(2**attempt, 300))
            if self._stop.is_set():
                return
            try:
                await self._connect()
                return
            except Exception as exc:
                log.error("telegram start failed attempt=%d error=%s", attempt + 1, type(exc).__name__)

    async def _connect(self) -> None:
        await self.core.ready()
        bot = self.core.application.bot
        if self.settings.webhook_mode:
            await bot.set_webhook(
                str(self.settings.webhook_url),
                secret_token=self.settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("telegram webhook registered")
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            self._poller = asyncio.create_task(self._poll_forever())
            log.info("telegram long polling started")

    async def _poll_forever(self) -> None:
        """Long polling that confirms an update to Telegram only once it is stored, and never ends.

        The next getUpdates' offset moves past an update only after the router has handled it, so
        an update that could not be stored (a locked database, a full disk) is offered again by
        Telegram, which keeps it for 24 hours; redeliveries are dropped by update_id. Each update is
        parsed on its own (Router.route_raw): one the library cannot read is kept for a person and
        confirmed, so the rest of the batch flows. Any failure only pauses the loop (capped backoff).
        """
        offset: int | None = None
        failures = 0
        while not self._stop.is_set():
            try:
                batch = await self._fetch(offset)
            except Exception as exc:  # Telegram down, a proxy's error page, anything: never stop polling
                failures += 1
                log.error("telegram getUpdates failed failures=%d error=%s", failures, type(exc).__name__)
                await self._pause(backoff(failures))
                continue
            if self._polling is not None:
                self._polling.beat()
            for raw in batch:
                try:
                    await self.router.route_raw(raw)
                except Exception as exc:
                    failures += 1
                    log.error(
                        "telegram update not stored, asking again failures=%d error=%s", failures, type(exc).__name__
                    )
                    await self._pause(backoff(failures))
                    break
                update_id = telegram_raw.update_id(raw)
                if update_id is not None:
                    offset = max(offset or 0, update_id + 1)
                failures = 0

    async def _fetch(self, offset: int | None) -> list[Any]:
        """One getUpdates call, answered as raw JSON.

        Not `bot.get_updates`: it parses the whole batch at once, so one update it cannot read fails
        them all, and it then logs the whole batch (names, chat ids, texts) at CRITICAL. `_post` is
        the very request get_updates makes, through PTB's getUpdates connection, timeouts and errors.
        """
        bot = self.core.application.bot
        data = {"timeout": self.settings.poll_timeout, "offset": offset, "limit": POLL_LIMIT}
        result = await bot._post("getUpdates", {**data, "allowed_updates": ALLOWED_UPDATES})
        if not isinstance(result, list):
            raise TypeError("getUpdates did not answer a list")
        return result

    def health(self, now: datetime) -> list[Stuck]:
        """Long polling is stuck once no getUpdates completed within its bound; a quiet webhook is well."""
        found = self._polling.check(now) if self._polling is not None else None
        return [found] if found is not None else []

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def close(self) -> None:
        self._stop.set()
        for task in (self._sweeper, self._connector):
            if task is not None:
                with contextlib.suppress(Exception):
                    await task
        if self._poller is not None:
            self._poller.cancel()  # a long poll may wait up to TELEGRAM_POLL_TIMEOUT: do not wait for it
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        await self.core.shutdown()
