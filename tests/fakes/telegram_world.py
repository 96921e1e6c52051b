"""A running Safecheck with the real Telegram transport (real PTB) against the fake Bot API server."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.telegram_settings import WEBHOOK_PATH, load_telegram
from bot.channels.telegram_transport import TelegramTransport
from bot.clock import FixedClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.scheduler import TimerRunner
from bot.web import make_web_app
from storage import services
from storage.db import Database
from storage.keys import create_key_file
from tests.conftest import START
from tests.databases import fresh_database
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram

SECRET = "test-secret_0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class TgWorld:
    app: App
    fake: FakeTelegram
    transport: TelegramTransport
    clock: FixedClock
    service_id: int
    idva: int
    duty: int
    manager: int
    web_url: str = ""
    webhook: bool = True
    timers: TimerRunner | None = None  # the one timer runner, whose heartbeat /healthz reads
    _chats: int = field(default=100_000)

    def new_chat(self) -> int:
        self._chats += 1
        return self._chats

    async def push(self, update: dict[str, Any]) -> int:
        """Deliver an update through the webhook, or offer it to long polling; the bot has handled it
        when this returns (polling: its offset moved past it). Polling answers no HTTP status: 200."""
        if self.webhook:
            return await self.fake.push(update)
        self.fake.queue(update)
        await self.fake.drained()
        return 200

    async def say(self, chat: int, text: str) -> int:
        return await self.push(self.fake.text_update(chat, text))

    async def tap(self, chat: int, message_id: int, data: str) -> int:
        return await self.push(self.fake.tap_update(chat, message_id, data))

    async def deliver(self) -> None:
        assert self.timers is not None
        await self.timers.run_due()
        await Dispatcher(self.app).drain()

    async def enrol(self, intake: str = "high", **kw: Any) -> tuple[str, str]:
        return await commands.enrol(
            self.app, self.service_id, idva=self.idva, channel="telegram", address=None, name="T", intake=intake, **kw
        )

    async def onboard(self, chat: int, *, codeword: str = "blue kettle", exit_word: str = "pasta") -> str:
        """Her words set in person, then deep-link activation and set-up, typed; return the case reference."""
        ref, code = await self.enrol()
        secrets = {"exit_word": exit_word, "codeword": codeword, "pin": "", "duress_pin": ""}
        await commands.set_secrets(self.app, self.service_id, ref, secrets)
        await self.say(chat, f"/start {code}")
        for line in ["YES", "1 2 3", "1"]:
            await self.deliver()
            await self.say(chat, line)
        await self.deliver()
        return ref

    async def link_practitioner(self, practitioner_id: int, chat: int) -> None:
        code = await commands.link_code(self.app, practitioner_id, "telegram")
        await self.say(chat, f"/start link-{code}")


@asynccontextmanager
async def telegram_world(
    tmp_path: Path,
    *,
    chat_rate: float = 20.0,
    global_rate: float = 30.0,
    webhook: bool = True,
    fake: FakeTelegram | None = None,
    workspace_url: str | None = None,
    **env: str,
) -> AsyncIterator[TgWorld]:
    """Safecheck with Telegram on a database in tmp_path (made on first use); the fake enforces the
    limits the bot is given. Pass a running `fake` to restart the app against the same Telegram."""
    os.environ.pop("SAFECHECK_KEY", None)
    own_fake = fake is None
    if fake is None:
        fake = await FakeTelegram(global_rate=global_rate, chat_rate=chat_rate).start()
    port = free_port()
    environ = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
        "TELEGRAM_GLOBAL_RATE": str(global_rate),
        "TELEGRAM_CHAT_RATE": str(chat_rate),
        "TELEGRAM_TIMEOUT": "2",
        "TELEGRAM_POLL_TIMEOUT": "1",
        **env,
    }
    if webhook:
        environ |= {"TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}{WEBHOOK_PATH}", "TELEGRAM_WEBHOOK_SECRET": SECRET}
    settings = Settings(
        db_path=tmp_path / "safecheck.db", key_file=tmp_path / "safecheck.key", env=environ, workspace_url=workspace_url
    )
    fresh = not settings.db_path.exists()
    if fresh:
        create_key_file(settings.key_file)
    fresh_database(settings.db_path)
    db = await Database.open(settings.db_path)
    async with db.transaction() as tx:
        service_id = await services.create(tx, "test", "Test service", START) if fresh else 1
        await tx.commit()
    await db.close()
    loaded = load_telegram(environ, None)
    assert loaded is not None
    transport = TelegramTransport(loaded)
    clock = FixedClock(START)
    runner: web.AppRunner | None = None
    try:
        async with open_app(settings, clock=clock, seed=7, transports=[transport]) as app:
            roles = (("Ida", "idva"), ("Dan", "duty"), ("Meg", "manager"))
            if fresh:
                ids = [
                    await commands.add_practitioner(app, service_id, name, role, ["telegram", "inbox"])
                    for name, role in roles
                ]
            else:
                ids = [1, 2, 3]
            timers = TimerRunner(app)
            web_app = make_web_app(app, timers=timers.heartbeat)  # as serve does: /healthz, and the webhook
            transport.add_routes(web_app)
            runner = web.AppRunner(web_app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            await transport.start(app)
            url = f"http://127.0.0.1:{port}"
            yield TgWorld(app, fake, transport, clock, service_id, *ids, web_url=url, webhook=webhook, timers=timers)
    finally:
        if runner is not None:
            await runner.cleanup()
        if own_fake:
            await fake.close()
