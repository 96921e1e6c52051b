"""Telegram sending throughput and quick-exit deletion time, through the fake Bot API server.

    .venv/bin/python -m bench.telegram_send --survivors 1000

1. N survivors are enrolled on Telegram (each with her own chat) and one message is queued to each.
   The real dispatcher sends them with the real PTB client to the fake server, which enforces
   Telegram's limits (30 messages/s overall, 1/s per chat) and answers 429 when they are exceeded.
   Printed: messages/s between the first and the last send, as a share of the bound
   min(global rate, N x chat rate), and the number of 429s (goal: >= 95 %, zero).
2. One survivor's chat holds a 50-message conversation (25 from each side, all within 48 h); the
   survivor taps the Exit button (a webhook update). Printed: the time from the tap to the webhook's
   answer, by which the chat is empty, and the time of the deletion alone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
from pathlib import Path

from aiohttp import web

from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.telegram_cleanup import purge_case
from bot.channels.telegram_settings import WEBHOOK_PATH, load_telegram
from bot.channels.telegram_transport import TelegramTransport
from bot.clock import FixedClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.i18n import to_message
from bot.web import make_web_app
from flows import replies as R
from flows.model import Reply
from storage import cases, outbox, services
from storage import telegram as store
from storage.db import Database
from storage.keys import create_key_file
from tests.conftest import START
from tests.fakes.telegram_api import ChatMessage, FakeTelegram
from tests.fakes.telegram_world import SECRET, free_port

CHAT_BASE = 5_000_000


async def enrol_all(app: App, service_id: int, idva: int, n: int) -> list[int]:
    for i in range(n):
        await commands.enrol(
            app,
            service_id,
            idva=idva,
            channel="telegram",
            address=str(CHAT_BASE + i),
            name=None,
            intake="standard",
        )
    async with app.db.reading() as tx:
        return [c.id for c in await cases.list_for_service(tx, service_id)]


async def main(n: int, global_rate: float, chat_rate: float) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        fake = await FakeTelegram(global_rate=global_rate, chat_rate=chat_rate).start()
        port = free_port()
        env = {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_GLOBAL_RATE": str(global_rate),
            "TELEGRAM_CHAT_RATE": str(chat_rate),
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
        os.environ.pop("SAFECHECK_KEY", None)
        settings = Settings(db_path=Path(tmp) / "bench.db", key_file=Path(tmp) / "bench.key", env=env)
        create_key_file(settings.key_file)
        db = await Database.open(settings.db_path, create=True)
        async with db.transaction() as tx:
            service_id = await services.create(tx, "bench", "Bench service", START)
            await tx.commit()
        await db.close()
        loaded = load_telegram(env, None)
        assert loaded is not None
        transport = TelegramTransport(loaded)
        async with open_app(settings, clock=FixedClock(START), transports=[transport]) as app:
            idva = await commands.add_practitioner(app, service_id, "Ida", "idva", ["inbox"])
            t0 = time.perf_counter()
            case_ids = await enrol_all(app, service_id, idva, n)
            print(f"setup: {n} survivors enrolled in {time.perf_counter() - t0:.1f} s")
            fake.meet(*(CHAT_BASE + i for i in range(n)))
            web_app = make_web_app(app)
            transport.add_routes(web_app)
            runner = web.AppRunner(web_app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            await transport.start(app)

            now = app.clock.now()
            async with app.db.transaction() as tx:
                for i, case_id in enumerate(case_ids):
                    await outbox.to_survivor(
                        tx,
                        app.crypto,
                        case_id=case_id,
                        channel="telegram",
                        address=str(CHAT_BASE + i),
                        language="en_GB",
                        timezone="Europe/London",
                        message=to_message(Reply(R.NUDGE)),
                        now=now,
                    )
                await tx.commit()
            await Dispatcher(app).drain(rounds=n)
            sends = [c.at for c in fake.calls_of("sendMessage")]
            delivered = sum(len(fake.visible(CHAT_BASE + i)) for i in range(n))
            span = sends[-1] - sends[0]
            bound = min(global_rate, n * chat_rate)
            rate = (len(sends) - 1) / span if span > 0 else float("inf")
            print(f"sending: {delivered}/{n} delivered in {span:.1f} s = {rate:.2f} msg/s")
            print(
                f"         bound {bound:g} msg/s -> {100 * rate / bound:.1f} % of the bound; 429s: {fake.rejected_429}"
            )

            # A 50-message conversation, then the Exit button.
            chat, case_id = CHAT_BASE, case_ids[0]
            fake.chats[chat].clear()
            async with app.db.transaction() as tx:
                await tx.execute("DELETE FROM telegram_messages")
                await tx.execute("UPDATE cases SET status = 'active' WHERE id = ?", (case_id,))
                for message_id in range(1, 51):
                    fake.chats[chat][message_id] = ChatMessage(message_id, message_id % 2 == 0, "x", int(fake.now()))
                    await store.record(tx, case_id, message_id, app.clock.now(), None)
                await tx.commit()
            started = time.perf_counter()
            deleted = await purge_case(transport.core, case_id, chat, again=False)
            alone = time.perf_counter() - started
            for message_id in range(1, 51):
                fake.chats[chat][message_id] = ChatMessage(message_id, message_id % 2 == 0, "x", int(fake.now()))
            async with app.db.transaction() as tx:
                for message_id in range(1, 51):
                    await store.record(tx, case_id, message_id, app.clock.now(), None)
                await tx.commit()
            started = time.perf_counter()
            status = await fake.push(fake.tap_update(chat, 50, "x"))
            tap = time.perf_counter() - started
            left = len(fake.visible(chat))
            print(f"quick exit: {deleted} ids deleted alone in {1000 * alone:.1f} ms")
            print(f"            Exit tap to empty chat ({left} left, webhook {status}) in {1000 * tap:.1f} ms")
            await runner.cleanup()
        await fake.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--survivors", type=int, default=1000)
    parser.add_argument("--global-rate", type=float, default=30.0)
    parser.add_argument("--chat-rate", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.survivors, args.global_rate, args.chat_rate))
