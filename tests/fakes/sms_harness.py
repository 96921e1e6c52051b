"""A running Safecheck with the SMS transport: real SQLite, our aiohttp server on a real port, the
real twilio client talking to the fake Twilio API, and Twilio's signed webhooks coming back to us.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.sms import SmsTransport
from bot.channels.sms_settings import INBOUND_PATH, SmsSettings
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
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Sent

PUBLIC_URL = "https://safecheck.example.org"
OUR_NUMBER = "+447700900000"
SURVIVOR = "+447700900123"
IDVA_PHONE = "+447700900001"
DUTY_PHONE = "+447700900002"
ONBOARDING = ("YES", "1 2 3", "1")  # consent, safe times, missed check-ins: her words are set in person
SECRETS = {"exit_word": "pasta", "codeword": "blue kettle", "pin": "", "duress_pin": ""}


@dataclass
class SmsWorld:
    app: App
    fake: FakeTwilio
    clock: FixedClock
    transport: SmsTransport
    service_id: int
    idva: int
    duty: int
    manager: int
    port: int
    _seen: int = 0
    taken: list[Sent] = field(default_factory=list)

    @property
    def inbound_url(self) -> str:
        return PUBLIC_URL + INBOUND_PATH

    async def text(self, sender: str, body: str, sid: str | None = None) -> tuple[int, str, str]:
        """`sender` texts our number: Twilio's signed webhook, over HTTP, to our server."""
        return await self.fake.text_in(self.inbound_url, sender, OUR_NUMBER, body, sid)

    async def deliver(self) -> list[Sent]:
        """Fire due timers, drain the outbox through Twilio, and return the texts Twilio accepted since last time."""
        await TimerRunner(self.app).run_due()
        await Dispatcher(self.app).drain()
        new = self.fake.messages[self._seen :]
        self._seen = len(self.fake.messages)
        return new

    async def say(self, sender: str, body: str) -> list[str]:
        """Text in, expect 200, deliver; return the bodies Twilio was asked to send to `sender`."""
        status, _, _ = await self.text(sender, body)
        assert status == 200
        return [m.body for m in await self.deliver() if m.to == sender]

    async def enrol(self, address: str = SURVIVOR, intake: str = "high") -> tuple[str, str]:
        return await commands.enrol(
            self.app,
            self.service_id,
            idva=self.idva,
            channel="sms",
            address=address,
            name="Test Survivor",
            intake=intake,
        )

    async def onboard(self, address: str = SURVIVOR) -> str:
        """Enrol, set her words in person, activate by SMS and complete set-up by SMS; return the reference."""
        ref, code = await self.enrol(address)
        await commands.set_secrets(self.app, self.service_id, ref, SECRETS)
        for line in (code, *ONBOARDING):
            await self.say(address, line)
        return ref

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        async with self.app.db.transaction() as tx:
            return [dict(r) for r in await tx.all(sql, params)]


def sms_settings(fake: FakeTwilio, **overrides: Any) -> SmsSettings:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "sender_kind": "number",
        "sender": OUR_NUMBER,
        "public_url": PUBLIC_URL,
        "api_base_url": fake.base_url,
        "timeout": 2.0,
        "rate": 1000.0,  # pacing has its own test; here it would only slow the suite down
    }
    values.update(overrides)
    return SmsSettings(**values)


@asynccontextmanager
async def sms_world(tmp_path: Path, **overrides: Any) -> AsyncIterator[SmsWorld]:
    os.environ.pop("SAFECHECK_KEY", None)
    settings = Settings(db_path=tmp_path / "safecheck.db", key_file=tmp_path / "safecheck.key", public_url=PUBLIC_URL)
    create_key_file(settings.key_file)
    fresh_database(settings.db_path)
    db = await Database.open(settings.db_path)
    async with db.transaction() as tx:
        service_id = await services.create(tx, "test", "Test service", START)
        await tx.commit()
    await db.close()
    clock = FixedClock(START)
    async with FakeTwilio() as fake:
        transport = SmsTransport(sms_settings(fake, **overrides))
        async with open_app(settings, clock=clock, transports=[transport], seed=7) as app:
            web_app = make_web_app(app)
            transport.add_routes(web_app)
            runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            try:
                port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
                fake.proxy[PUBLIC_URL] = f"http://127.0.0.1:{port}"
                await transport.start(app)
                idva = await commands.add_practitioner(app, service_id, "Ida", "idva", [f"sms:{IDVA_PHONE}", "inbox"])
                duty = await commands.add_practitioner(app, service_id, "Dan", "duty", [f"sms:{DUTY_PHONE}", "inbox"])
                manager = await commands.add_practitioner(app, service_id, "Meg", "manager", ["inbox"])
                yield SmsWorld(app, fake, clock, transport, service_id, idva, duty, manager, port)
            finally:
                await runner.cleanup()
